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

var _ store.FencedSwapper = (*Store)(nil)

// fencedSwapScript is swapScript, or createScript for an old of "" with
// hasOld 0, run only while each lease record holds its token. ARGV: the
// number of leases, each lease's key and token, then the record's key,
// hasOld, old, value, time, kind index, key, kinds and kind. It returns
// 1 or 0 as those do, or "lost I HELD": lease I (from 1) holds the token
// HELD ("" if none).
var fencedSwapScript = redigo.NewScript(0, `
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
	reply, err := s.script(ctx, fencedSwapScript, args...)
	if err != nil {
		return false, s.wrap("swap record "+kind+"/"+key, err)
	}
	if lost, ok := reply.([]byte); ok {
		var i int
		var held string
		fmt.Sscanf(string(lost), "lost %d %s", &i, &held)
		if i < 1 || i > len(fences) {
			return false, fmt.Errorf("swap record %s/%s: fenced swap answered %q", kind, key, lost)
		}
		f := fences[i-1]
		cur, _ := strconv.ParseUint(held, 10, 64)
		return false, fmt.Errorf("swap record %s/%s: %w", kind, key, &store.LostError{Kind: f.Kind, Key: f.Key, Token: f.Token, Current: cur})
	}
	n, err := redigo.Int(reply, nil)
	if err != nil {
		return false, s.wrap("swap record "+kind+"/"+key, err)
	}
	return n == 1, nil
}
