package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	redigo "github.com/gomodule/redigo/redis"
)

// epochScript returns the value of the key ARGV[1], first setting it to
// ARGV[2] if it is missing, in one step: concurrent callers all get the
// value the first one set.
var epochScript = redigo.NewScript(0, `
local v = redis.call('GET', ARGV[1])
if v then
	return v
end
redis.call('SET', ARGV[1], ARGV[2])
return ARGV[2]
`)

// Epoch returns the store's epoch: a random marker kept under the key
// prefix+"epoch", set on the first call that finds none. It lives and
// dies with the data: a server that lost its data (restarted without
// persistence, flushed, or replaced by an empty one at the same address)
// has lost the marker too, and the next call sets a new one. The
// failover store compares it with the epoch its fallback last found, to
// tell a Redis whose records are gone with all its data, whose state
// the journal's writes were made on no longer exists, from one where
// other processes deleted them.
func (s *Store) Epoch(ctx context.Context) (string, error) {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	epoch, err := redigo.String(s.script(ctx, epochScript, s.p+"epoch", hex.EncodeToString(b[:])))
	if err != nil {
		return "", s.wrap("read the epoch of "+s.name, err)
	}
	return epoch, nil
}
