package redis

import (
	"context"
	"fmt"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// SwapRecord implements store.Swapper in one script, so that of clients
// swapping a record from the same value exactly one succeeds. Cache
// records, which expire and are evicted, cannot be swapped.
func (s *Store) SwapRecord(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	if old == nil {
		return s.CreateRecord(ctx, kind, key, value)
	}
	if s.volatile(kind) {
		return false, fmt.Errorf("swap record %s/%s: cache records expire and cannot be swapped", kind, key)
	}
	if value == nil {
		value = []byte{}
	}
	n, err := redigo.Int(s.script(ctx, swapScript, s.recKey(kind, key), old, value, nanos(time.Now())))
	if err != nil {
		return false, s.wrap("swap record "+kind+"/"+key, err)
	}
	return n == 1, nil
}

// swapScript replaces a record's value and time only if its value field
// holds the expected bytes. The record exists then, so its indexes do.
var swapScript = redigo.NewScript(0, `
local k, old, v, u = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', k, 'v') ~= old then return 0 end
redis.call('HSET', k, 'v', v, 'u', u)
return 1
`)
