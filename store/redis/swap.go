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

// guardLua is what writeIfScript and deleteIfScript test before they
// change anything: that each lease record holds its token and, given a
// ceiling, that the fencing token counter is at most the ceiling. ARGV:
// the number of leases n, each lease's key and token, the token
// counter's key and the ceiling ("" for none); the script's own
// arguments follow from ARGV[2*n+4]. It returns "lost I HELD": lease I
// (from 1) holds the token HELD ("" if none), or "newer LAST": the
// counter is past the ceiling (see writeGuard.lost).
const guardLua = `
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
`

// writeIfScript creates a record (hasOld 0) only if its value field is
// not there yet, with its indexes, or replaces its value and time
// (hasOld 1) only if the value field holds old (the record exists then,
// so its indexes do); either only under guardLua's test. Plain creates
// and swaps run it with no lease and no ceiling, so the guarded and
// unguarded writes cannot drift apart. ARGV after the guard's: the
// record's key, hasOld, old, value, time, kind index, key, kinds and
// kind. It returns 1 when it wrote, 0 when the record did not match, or
// the guard's refusal.
var writeIfScript = redigo.NewScript(0, guardLua+`
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

// deleteIfScript deletes a record and its index entries, as DeleteRecord
// does, only under guardLua's test. ARGV after the guard's: the record's
// key, kind index, time index and key. It returns 1, or the guard's
// refusal.
var deleteIfScript = redigo.NewScript(0, guardLua+`
local k, idx, rect, key = unpack(ARGV, 2*n+4)
redis.call('DEL', k)
redis.call('ZREM', idx, key)
redis.call('ZREM', rect, key)
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

// writeGuard is what guardLua checks before a script changes anything:
// the leases that must hold their tokens, and the most the fencing token
// counter may hold ("" for no limit).
type writeGuard struct {
	fences  []store.Fence
	ceiling string
}

// lost returns the *store.LostError for guardLua's refusal of a change
// of kind/key under g.
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
		return fmt.Errorf("guarded change answered %q", refused)
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
	hasOld := "1"
	if old == nil {
		hasOld = "0"
	}
	n, err := s.guarded(ctx, op, kind, key, writeIfScript, g,
		s.recKey(kind, key), hasOld, old, value, nanos(time.Now()), s.p+"reck:"+kind, key, s.p+"kinds", kind)
	return n == 1, err
}

var _ store.FencedDeleter = (*Store)(nil)

// DeleteRecordFenced implements store.FencedDeleter in one script, which
// Redis runs with no other command in between.
func (s *Store) DeleteRecordFenced(ctx context.Context, kind, key string, fences ...store.Fence) error {
	_, err := s.guarded(ctx, "delete record", kind, key, deleteIfScript, writeGuard{fences: fences},
		s.recKey(kind, key), s.p+"reck:"+kind, s.p+"rect:"+kind, key)
	return err
}

// guarded runs script, which starts with guardLua, under g with the
// script's own arguments args, and returns its integer reply, or the
// *store.LostError of the guard's refusal; op names the change of
// kind/key in errors.
func (s *Store) guarded(ctx context.Context, op, kind, key string, script *redigo.Script, g writeGuard, args ...any) (int, error) {
	argv := []any{len(g.fences)}
	for _, f := range g.fences {
		argv = append(argv, s.recKey(f.Kind, f.Key), strconv.FormatUint(f.Token, 10))
	}
	argv = append(argv, s.recKey(store.TokenKind, store.TokenKey), g.ceiling)
	reply, err := s.script(ctx, script, append(argv, args...)...)
	if err != nil {
		return 0, s.wrap(op+" "+kind+"/"+key, err)
	}
	if refused, ok := reply.([]byte); ok {
		return 0, fmt.Errorf("%s %s/%s: %w", op, kind, key, g.lost(kind, key, refused))
	}
	n, err := redigo.Int(reply, nil)
	if err != nil {
		return 0, s.wrap(op+" "+kind+"/"+key, err)
	}
	return n, nil
}
