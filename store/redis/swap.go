package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
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
	return s.writeIf(ctx, "swap record", kind, key, old, value, writeGuard{})
}

var _ store.FencedSwapper = (*Store)(nil)

// writeIfScript creates a record (hasOld 0) only if its value field is
// not there yet, with its indexes, or replaces its value and time
// (hasOld 1) only if the value field holds old (the record exists then,
// so its indexes do); either only while each lease record holds its
// token, and, given a ceiling, only while the fencing token counter is
// at most the ceiling. Plain creates and swaps run it with no lease and
// no ceiling, so the guarded and unguarded writes cannot drift apart.
// ARGV: the number of leases, each lease's key and token, the token
// counter's key and the ceiling ("" for none), then the record's key,
// hasOld, old, value, time, kind index, key, kinds and kind. It returns
// 1 when it wrote, 0 when the record did not match, "lost I HELD":
// lease I (from 1) holds the token HELD ("" if none), or "newer LAST":
// the counter is past the ceiling.
var writeIfScript = redigo.NewScript(0, `
local n = tonumber(ARGV[1])
for i = 1, n do
	local v = redis.call('HGET', ARGV[2*i], 'v')
	local held = v and string.match(v, ' (%d+)$') or ''
	if held ~= ARGV[2*i+1] then return 'lost ' .. i .. ' ' .. held end
end
local counter, ceiling = ARGV[2*n+2], ARGV[2*n+3]
if ceiling ~= '' then
	local last = redis.call('HGET', counter, 'v') or '0'
	if tonumber(last) > tonumber(ceiling) then return 'newer ' .. last end
end
local k, hasOld, old, v, u, idx, key, kinds, kind = unpack(ARGV, 2*n+4)
if hasOld == '0' then
	if redis.call('HSETNX', k, 'v', v) == 0 then return 0 end
	redis.call('HSET', k, 'u', u)
	redis.call('ZADD', idx, 0, key)
	redis.call('ZADD', kinds, 0, kind)
	return 1
end
if redis.call('HGET', k, 'v') ~= old then return 0 end
redis.call('HSET', k, 'v', v, 'u', u)
return 1
`)

// SwapRecordFenced implements store.FencedSwapper in one script, which
// Redis runs with no other command in between.
func (s *Store) SwapRecordFenced(ctx context.Context, kind, key string, old, value []byte, fences ...store.Fence) (bool, error) {
	if s.volatile(kind) {
		return false, fmt.Errorf("swap record %s/%s: cache records expire and cannot be swapped", kind, key)
	}
	return s.writeIf(ctx, "swap record", kind, key, old, value, writeGuard{fences: fences})
}

var _ store.LeaseRestorer = (*Store)(nil)

// RestoreLease implements store.LeaseRestorer in one script, which
// Redis runs with no other command in between.
func (s *Store) RestoreLease(ctx context.Context, kind, key string, value []byte, token uint64) (bool, error) {
	return s.writeIf(ctx, "restore lease", kind, key, nil, value, writeGuard{ceiling: strconv.FormatUint(token, 10)})
}

// writeGuard is what writeIfScript checks before it writes: the leases
// that must hold their tokens, and the most the fencing token counter
// may hold ("" for no limit).
type writeGuard struct {
	fences  []store.Fence
	ceiling string
}

// lost returns the *store.LostError for writeIfScript's refusal of a
// write of kind/key under g.
func (g writeGuard) lost(kind, key string, refused []byte) error {
	if bytes.HasPrefix(refused, []byte("newer ")) {
		// The write is a lease's own, of the ceiling's token.
		tok, _ := strconv.ParseUint(g.ceiling, 10, 64)
		return &store.LostError{Kind: kind, Key: key, Token: tok}
	}
	var i int
	var held string
	fmt.Sscanf(string(refused), "lost %d %s", &i, &held)
	if i < 1 || i > len(g.fences) {
		return fmt.Errorf("guarded write answered %q", refused)
	}
	f := g.fences[i-1]
	cur, _ := strconv.ParseUint(held, 10, 64)
	return &store.LostError{Kind: f.Kind, Key: f.Key, Token: f.Token, Current: cur}
}

// writeIf runs writeIfScript: a create when old is nil, else a swap from
// old, under g; op names the write in errors.
func (s *Store) writeIf(ctx context.Context, op, kind, key string, old, value []byte, g writeGuard) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	args := []any{len(g.fences)}
	for _, f := range g.fences {
		args = append(args, s.recKey(f.Kind, f.Key), strconv.FormatUint(f.Token, 10))
	}
	hasOld := "1"
	if old == nil {
		hasOld = "0"
	}
	args = append(args, s.recKey(store.TokenKind, store.TokenKey), g.ceiling)
	args = append(args, s.recKey(kind, key), hasOld, old, value, nanos(time.Now()), s.p+"reck:"+kind, key, s.p+"kinds", kind)
	reply, err := s.script(ctx, writeIfScript, args...)
	if err != nil {
		return false, s.wrap(op+" "+kind+"/"+key, err)
	}
	if refused, ok := reply.([]byte); ok {
		return false, fmt.Errorf("%s %s/%s: %w", op, kind, key, g.lost(kind, key, refused))
	}
	n, err := redigo.Int(reply, nil)
	if err != nil {
		return false, s.wrap(op+" "+kind+"/"+key, err)
	}
	return n == 1, nil
}
