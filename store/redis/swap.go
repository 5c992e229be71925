package redis

import (
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
	return s.writeIf(ctx, "swap record", kind, key, old, value, nil)
}

var _ store.FencedSwapper = (*Store)(nil)

// writeIfScript creates a record (hasOld 0) only if its value field is
// not there yet, with its indexes, or replaces its value and time
// (hasOld 1) only if the value field holds old (the record exists then,
// so its indexes do); either only while each lease record holds its
// token. Plain creates and swaps run it with no lease, so the fenced and
// unfenced writes cannot drift apart. ARGV: the number of leases, each
// lease's key and token, then the record's key, hasOld, old, value,
// time, kind index, key, kinds and kind. It returns 1 when it wrote, 0
// when the record did not match, or "lost I HELD": lease I (from 1)
// holds the token HELD ("" if none).
var writeIfScript = redigo.NewScript(0, `
local n = tonumber(ARGV[1])
for i = 1, n do
	local v = redis.call('HGET', ARGV[2*i], 'v')
	local held = v and string.match(v, ' (%d+)$') or ''
	if held ~= ARGV[2*i+1] then return 'lost ' .. i .. ' ' .. held end
end
local k, hasOld, old, v, u, idx, key, kinds, kind = unpack(ARGV, 2*n+2)
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
	return s.writeIf(ctx, "swap record", kind, key, old, value, fences)
}

// writeIf runs writeIfScript: a create when old is nil, else a swap from
// old, under fences; op names the write in errors.
func (s *Store) writeIf(ctx context.Context, op, kind, key string, old, value []byte, fences []store.Fence) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	args := []any{len(fences)}
	for _, f := range fences {
		args = append(args, s.recKey(f.Kind, f.Key), strconv.FormatUint(f.Token, 10))
	}
	hasOld := "1"
	if old == nil {
		hasOld = "0"
	}
	args = append(args, s.recKey(kind, key), hasOld, old, value, nanos(time.Now()), s.p+"reck:"+kind, key, s.p+"kinds", kind)
	reply, err := s.script(ctx, writeIfScript, args...)
	if err != nil {
		return false, s.wrap(op+" "+kind+"/"+key, err)
	}
	if lost, ok := reply.([]byte); ok {
		var i int
		var held string
		fmt.Sscanf(string(lost), "lost %d %s", &i, &held)
		if i < 1 || i > len(fences) {
			return false, fmt.Errorf("%s %s/%s: fenced write answered %q", op, kind, key, lost)
		}
		f := fences[i-1]
		cur, _ := strconv.ParseUint(held, 10, 64)
		return false, fmt.Errorf("%s %s/%s: %w", op, kind, key, &store.LostError{Kind: f.Kind, Key: f.Key, Token: f.Token, Current: cur})
	}
	n, err := redigo.Int(reply, nil)
	if err != nil {
		return false, s.wrap(op+" "+kind+"/"+key, err)
	}
	return n == 1, nil
}
