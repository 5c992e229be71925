package redis

import (
	"context"
	"fmt"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

var _ store.RecordSwapper = (*Store)(nil)

// swapsScript makes a chunk of record swaps, each only if its record's
// value field is as expected, with no other command in between. ARGV:
// the key prefix, the kinds index, the number of swaps, then swapArgs
// arguments for each: the record's key, what it must hold (mode "a":
// nothing, "v": old, "x": anything), old, "1" to delete it, the new
// value and time, its kind and key, "1" for a volatile (cache) kind, its
// expiry in ms (0: none) and its time index score. It writes or deletes
// a record with its index entries, as PutRecords and DeleteRecords do,
// and returns the indices (from 0) of the swaps it refused.
var swapsScript = redigo.NewScript(0, `
local p, kinds, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local refused = {}
for i = 0, n - 1 do
	local at = 4 + 11 * i
	local k, mode, old, del, v, u, kind, key, vol, ttl, score = unpack(ARGV, at, at + 10)
	local cur = redis.call('HGET', k, 'v')
	if mode == 'x' or (mode == 'a' and not cur) or (mode == 'v' and cur == old) then
		local idx, rect = p .. 'reck:' .. kind, p .. 'rect:' .. kind
		if del == '1' then
			redis.call('DEL', k)
			redis.call('ZREM', idx, key)
			redis.call('ZREM', rect, key)
		else
			redis.call('HSET', k, 'v', v, 'u', u)
			redis.call('ZADD', idx, 0, key)
			redis.call('ZADD', kinds, 0, kind)
			if vol == '1' then
				if tonumber(ttl) > 0 then redis.call('PEXPIRE', k, ttl) end
				redis.call('ZADD', rect, score, key)
			end
		end
	else
		refused[#refused + 1] = i
	end
end
return refused
`)

// swapArgs is how many arguments of swapsScript each swap takes.
const swapArgs = 11

// SwapRecords implements store.RecordSwapper: a swapsScript per chunk of
// deleteChunk swaps, so that no script blocks the server for long.
func (s *Store) SwapRecords(ctx context.Context, swaps []store.RecordSwap) ([]int, error) {
	now := time.Now()
	var refused []int
	trim := map[string]bool{}
	for start := 0; start < len(swaps); start += deleteChunk {
		chunk := swaps[start:min(start+deleteChunk, len(swaps))]
		args := make([]any, 0, 3+swapArgs*len(chunk))
		args = append(args, s.p, s.p+"kinds", len(chunk))
		for _, sw := range chunk {
			args = append(args, s.swapArgs(sw, now)...)
			if s.volatile(sw.Record.Kind) && !sw.Delete {
				trim[sw.Record.Kind] = true
			}
		}
		got, err := redigo.Ints(s.script(ctx, swapsScript, args...))
		if err != nil {
			return refused, s.wrap(fmt.Sprintf("swap %d records", len(swaps)), err)
		}
		for _, j := range got {
			refused = append(refused, start+j)
		}
	}
	return refused, s.trimCache(ctx, trim)
}

// swapArgs returns swapsScript's arguments for sw, written at now if it
// has no time of its own.
func (s *Store) swapArgs(sw store.RecordSwap, now time.Time) []any {
	r := sw.Record
	mode := "v"
	switch {
	case sw.Blind:
		mode = "x"
	case sw.Old == nil:
		mode = "a"
	}
	del := "0"
	if sw.Delete {
		del = "1"
	}
	updated := r.Updated
	if updated.IsZero() {
		updated = now
	}
	v := r.Value
	if v == nil {
		v = []byte{}
	}
	vol, ttl := "0", int64(0)
	if s.volatile(r.Kind) {
		vol, ttl = "1", s.o.CacheTTL.Milliseconds()
	}
	return []any{s.recKey(r.Kind, r.Key), mode, sw.Old, del, v, nanos(updated), r.Kind, r.Key, vol, ttl, updated.UnixMicro()}
}
