package redis

import (
	"context"
	"fmt"
	"slices"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

func (s *Store) recKey(kind, key string) string { return s.p + "rec:" + kind + "\x00" + key }

func (s *Store) volatile(kind string) bool { return kind == store.CacheKind }

// PutRecord implements store.Records.
func (s *Store) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	return s.PutRecords(ctx, []*store.Record{{Kind: kind, Key: key, Value: value}})
}

// PutRecords implements store.Store in one MULTI/EXEC pipeline.
func (s *Store) PutRecords(ctx context.Context, recs []*store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	now := time.Now()
	trim := map[string]bool{}
	var cmds []command
	for _, r := range recs {
		updated := r.Updated
		if updated.IsZero() {
			updated = now
		}
		v := r.Value
		if v == nil {
			v = []byte{}
		}
		k := s.recKey(r.Kind, r.Key)
		cmds = append(cmds, cmd("HSET", k, "v", v, "u", nanos(updated)),
			cmd("ZADD", s.p+"reck:"+r.Kind, 0, r.Key), cmd("ZADD", s.p+"kinds", 0, r.Kind))
		if s.volatile(r.Kind) {
			if s.o.CacheTTL > 0 {
				cmds = append(cmds, cmd("PEXPIRE", k, s.o.CacheTTL.Milliseconds()))
			}
			cmds = append(cmds, cmd("ZADD", s.p+"rect:"+r.Kind, updated.UnixMicro(), r.Key))
			trim[r.Kind] = true
		}
	}
	if err := s.tx(ctx, cmds); err != nil {
		if len(recs) == 1 {
			return s.wrap("store record "+recs[0].Kind+"/"+recs[0].Key, err)
		}
		return s.wrap(fmt.Sprintf("store %d records", len(recs)), err)
	}
	return s.trimCache(ctx, trim)
}

// trimCache bounds the records of each volatile kind in kinds to
// cache_max, if set, after a write of them.
func (s *Store) trimCache(ctx context.Context, kinds map[string]bool) error {
	if s.o.CacheMax <= 0 {
		return nil
	}
	for kind := range kinds {
		if _, err := s.script(ctx, trimScript, s.p, kind, s.o.CacheMax); err != nil {
			return s.wrap("bound cache records", err)
		}
	}
	return nil
}

// trimScript evicts the oldest records of a kind beyond a count.
var trimScript = redigo.NewScript(0, `
local p, kind, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local tk = p .. 'rect:' .. kind
local excess = redis.call('ZCARD', tk) - max
if excess <= 0 then return 0 end
local old = redis.call('ZRANGE', tk, 0, excess - 1)
for _, key in ipairs(old) do
	redis.call('DEL', p .. 'rec:' .. kind .. '\0' .. key)
	redis.call('ZREM', p .. 'reck:' .. kind, key)
	redis.call('ZREM', tk, key)
end
return #old
`)

// CreateRecord implements store.Claimer in one script, so that of two
// clients creating one record exactly one succeeds. Cache records, which
// expire and are evicted, cannot be claimed.
func (s *Store) CreateRecord(ctx context.Context, kind, key string, value []byte) (bool, error) {
	if s.volatile(kind) {
		return false, fmt.Errorf("create record %s/%s: cache records expire and cannot be created exclusively", kind, key)
	}
	return s.writeIf(ctx, "create record", kind, key, nil, value, writeGuard{})
}

// GetRecord implements store.Records.
func (s *Store) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	v, err := redigo.Values(s.Do(ctx, "HMGET", s.recKey(kind, key), "v", "u"))
	if err != nil {
		return nil, s.wrap("get record "+kind+"/"+key, err)
	}
	rec, ok := recordOf(kind, key, v)
	if !ok {
		return nil, fmt.Errorf("record %s/%s: %w", kind, key, store.ErrNotFound)
	}
	return rec, nil
}

// recordOf decodes the HMGET v u reply of a record; ok is false when the
// record does not exist.
func recordOf(kind, key string, v []any) (*store.Record, bool) {
	if len(v) != 2 {
		return nil, false
	}
	val, ok := v[0].([]byte)
	if !ok {
		return nil, false
	}
	u, _ := redigo.String(v[1], nil)
	return &store.Record{Kind: kind, Key: key, Value: val, Updated: fromNanos(u)}, true
}

// ListRecords implements store.Records. Cache records that expired are
// skipped and dropped from the index.
func (s *Store) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	min, max := prefixRange(prefix)
	keys, err := redigo.Strings(s.Do(ctx, "ZRANGEBYLEX", s.p+"reck:"+kind, min, max))
	if err != nil {
		return nil, s.wrap("list records "+kind, err)
	}
	return s.fetch(ctx, kind, keys)
}

// prefixRange returns the ZRANGEBYLEX bounds of the members that start
// with prefix: from prefix on, up to and excluding the least string
// above all of them (prefix without its trailing 0xff bytes, its last
// byte then incremented), or to the end when prefix is all 0xff bytes.
// Bounding by prefix+"\xff" missed the members continuing with 0xff.
func prefixRange(prefix string) (min, max string) {
	if prefix == "" {
		return "-", "+"
	}
	end := []byte(prefix)
	for len(end) > 0 && end[len(end)-1] == 0xff {
		end = end[:len(end)-1]
	}
	if len(end) == 0 {
		return "[" + prefix, "+"
	}
	end[len(end)-1]++
	return "[" + prefix, "(" + string(end)
}

var _ store.RecordPager = (*Store)(nil)

// PageRecords implements store.RecordPager on the kind's key index,
// reading the values of only the keys it returns.
func (s *Store) PageRecords(ctx context.Context, kind, from, to string, limit int, desc bool) ([]*store.Record, error) {
	min, max := "-", "+"
	if from != "" {
		min = "[" + from
	}
	if to != "" {
		max = "(" + to
	}
	op := "ZRANGEBYLEX"
	if desc {
		op, min, max = "ZREVRANGEBYLEX", max, min
	}
	keys, err := redigo.Strings(s.Do(ctx, op, s.p+"reck:"+kind, min, max, "LIMIT", 0, limit))
	if err != nil {
		return nil, s.wrap("page records "+kind, err)
	}
	return s.fetch(ctx, kind, keys)
}

var _ store.RecordCounter = (*Store)(nil)

// CountRecords implements store.RecordCounter with one ZLEXCOUNT of the
// kind's key index (O(log n)). The index of a cache kind may still hold
// records that expired and were not yet listed.
func (s *Store) CountRecords(ctx context.Context, kind, from, to string) (int, error) {
	min, max := "-", "+"
	if from != "" {
		min = "[" + from
	}
	if to != "" {
		max = "(" + to
	}
	n, err := redigo.Int(s.Do(ctx, "ZLEXCOUNT", s.p+"reck:"+kind, min, max))
	if err != nil {
		return 0, s.wrap("count records "+kind, err)
	}
	return n, nil
}

// fetch reads the records of kind with keys, in their order. Cache
// records that expired are skipped and dropped from the index.
func (s *Store) fetch(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	cmds := make([]command, len(keys))
	for i, k := range keys {
		cmds[i] = cmd("HMGET", s.recKey(kind, k), "v", "u")
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, s.wrap("list records "+kind, err)
	}
	var out []*store.Record
	var gone []any
	for i, reply := range replies {
		v, _ := redigo.Values(reply, nil)
		rec, ok := recordOf(kind, keys[i], v)
		if !ok {
			gone = append(gone, keys[i])
			continue
		}
		out = append(out, rec)
	}
	if len(gone) > 0 {
		// Best effort: a failure here only leaves stale index entries.
		s.pipeline(ctx, []command{cmd("ZREM", append([]any{s.p + "reck:" + kind}, gone...)...), cmd("ZREM", append([]any{s.p + "rect:" + kind}, gone...)...)})
	}
	return out, nil
}

// GetRecords implements store.RecordGetter: one pipeline of HMGETs per
// chunk of keys, so reading n records costs n/deleteChunk round trips.
// Unlike ListRecords it leaves the key index alone.
func (s *Store) GetRecords(ctx context.Context, kind string, keys []string) ([]*store.Record, error) {
	var out []*store.Record
	for chunk := range slices.Chunk(keys, deleteChunk) {
		cmds := make([]command, len(chunk))
		for i, k := range chunk {
			cmds[i] = cmd("HMGET", s.recKey(kind, k), "v", "u")
		}
		replies, err := s.pipeline(ctx, cmds)
		if err != nil {
			return nil, s.wrap(fmt.Sprintf("get %d records %s", len(keys), kind), err)
		}
		for i, reply := range replies {
			v, _ := redigo.Values(reply, nil)
			if rec, ok := recordOf(kind, chunk[i], v); ok {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	err := s.tx(ctx, []command{cmd("DEL", s.recKey(kind, key)), cmd("ZREM", s.p+"reck:"+kind, key), cmd("ZREM", s.p+"rect:"+kind, key)})
	if err != nil {
		return s.wrap("delete record "+kind+"/"+key, err)
	}
	return nil
}

// deleteChunk is how many records one MULTI/EXEC of DeleteRecords
// removes, so that no transaction blocks the server for long.
const deleteChunk = 500

// DeleteRecords implements store.RecordDeleter: a MULTI/EXEC per chunk of
// keys, each a DEL of the records and a ZREM of their index entries, so
// a record and its entries go together.
func (s *Store) DeleteRecords(ctx context.Context, kind string, keys []string) error {
	for chunk := range slices.Chunk(keys, deleteChunk) {
		recs := make([]any, len(chunk))
		members := make([]any, len(chunk))
		for i, k := range chunk {
			recs[i], members[i] = s.recKey(kind, k), k
		}
		cmds := []command{cmd("DEL", recs...),
			cmd("ZREM", append([]any{s.p + "reck:" + kind}, members...)...),
			cmd("ZREM", append([]any{s.p + "rect:" + kind}, members...)...)}
		if err := s.tx(ctx, cmds); err != nil {
			return s.wrap(fmt.Sprintf("delete %d records %s", len(keys), kind), err)
		}
	}
	return nil
}

// Kinds implements store.Store.
func (s *Store) Kinds(ctx context.Context) ([]string, error) {
	kinds, err := redigo.Strings(s.Do(ctx, "ZRANGE", s.p+"kinds", 0, -1))
	if err != nil {
		return nil, s.wrap("list record kinds", err)
	}
	cmds := make([]command, len(kinds))
	for i, k := range kinds {
		cmds[i] = cmd("ZCARD", s.p+"reck:"+k)
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, s.wrap("list record kinds", err)
	}
	var out []string
	for i, k := range kinds {
		if n, _ := redigo.Int64(replies[i], nil); n > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}
