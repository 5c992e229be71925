// Package redis implements tabforge's store on a Redis server (through
// redigo, whose small API keeps the binary lean): runs, the keyed record
// space, studies and trials. Writes that touch several keys run in
// MULTI/EXEC transactions or Lua scripts, so they are atomic and safe for
// several processes; ids come from INCR. Records of kind store.CacheKind
// may expire (a TTL) and are bounded in number (oldest evicted first);
// nothing else ever expires.
//
// Key layout, below a prefix (default "tabforge:"):
//
//	run:ID          hash {doc: run JSON, created: unix ns}
//	runs            zset of run ids by creation time (µs)
//	runids          zset of run ids, score 0, for prefix lookups
//	rec:KIND\0KEY   hash {v: value, u: updated unix ns}
//	reck:KIND       zset of the kind's keys, score 0, for ordered prefix lists
//	rect:KIND       zset of cache keys by update time, for the size bound
//	kinds           zset of record kinds, score 0
//	studies         hash study name → id
//	study:ID        hash {name, direction, created}
//	trials:SID      hash trial number → trial id
//	tnext:SID       next trial number of the study
//	trial:ID        hash {study, number, state, value, retry_of, error, start, finish}
//	tparams:ID      hash parameter name → {"v": value, "d": distribution}
//	tvals:ID        hash step → intermediate value
//	seq:study, seq:trial  id counters
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

// Options are the store's own settings, beside the connection's.
type Options struct {
	// Prefix starts every key, so several tabforge deployments can share
	// one database. "" means "tabforge:".
	Prefix string
	// CacheTTL is how long a cache record lives after its last write; 0
	// means it does not expire.
	CacheTTL time.Duration
	// CacheMax bounds the number of cache records; the oldest are evicted
	// beyond it. 0 means no bound.
	CacheMax int
}

// Store is a Redis-backed store. It is safe for concurrent use.
type Store struct {
	pool *redigo.Pool
	db   int
	p    string
	o    Options
	name string
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// Open connects to the server raw names and pings it. A server that
// cannot be reached gives an error wrapping store.ErrUnavailable; a
// wrong password or database gives a plain one.
func Open(ctx context.Context, raw string) (*Store, error) {
	cfg, o, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	s := New(cfg, o)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// New returns a store on the server cfg names; it does not connect.
func New(cfg Conn, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "tabforge:"
	}
	return &Store{pool: cfg.pool(), db: cfg.DB, p: o.Prefix, o: o, name: cfg.String()}
}

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.p }

// URL implements store.Store.
func (s *Store) URL() string { return s.name }

// Close closes the connections.
func (s *Store) Close() error { return s.pool.Close() }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.Do(ctx, "PING"); err != nil {
		return s.wrap("ping "+s.name, err)
	}
	return nil
}

// Do runs one command and returns its reply, for what the store's own
// methods do not cover (CONFIG SET in tests, keyspace notifications).
func (s *Store) Do(ctx context.Context, cmd string, args ...any) (any, error) {
	var reply any
	err := s.with(ctx, func(c redigo.Conn) (err error) {
		reply, err = redigo.DoContext(c, ctx, cmd, args...)
		return err
	})
	return reply, err
}

// with runs fn on a pooled connection, and once more on a new one if the
// first was broken: a restarted server leaves broken idle connections
// behind, and the failover store must not take one for a dead server.
func (s *Store) with(ctx context.Context, fn func(redigo.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := s.pool.GetContext(ctx)
		if err != nil {
			return err
		}
		err = fn(c)
		c.Close()
		if err == nil || attempt > 0 || !unavailable(err) || ctx.Err() != nil {
			return err
		}
	}
}

// command is one Redis command of a pipeline or transaction.
type command struct {
	name string
	args []any
}

func cmd(name string, args ...any) command { return command{name, args} }

// pipeline sends cmds in one round trip and returns their replies; the
// first error reply becomes the error.
func (s *Store) pipeline(ctx context.Context, cmds []command) ([]any, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	var out []any
	err := s.with(ctx, func(c redigo.Conn) error {
		for _, k := range cmds {
			if err := c.Send(k.name, k.args...); err != nil {
				return err
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		out = make([]any, len(cmds))
		var first error
		for i := range cmds {
			r, err := redigo.ReceiveContext(c, ctx)
			if err != nil {
				var re redigo.Error
				if !errors.As(err, &re) {
					return err // the connection is gone
				}
				if first == nil {
					first = err
				}
			}
			out[i] = r
		}
		return first
	})
	return out, err
}

// tx runs cmds in one MULTI/EXEC transaction.
func (s *Store) tx(ctx context.Context, cmds []command) error {
	return s.with(ctx, func(c redigo.Conn) error {
		if err := c.Send("MULTI"); err != nil {
			return err
		}
		for _, k := range cmds {
			if err := c.Send(k.name, k.args...); err != nil {
				return err
			}
		}
		replies, err := redigo.Values(redigo.DoContext(c, ctx, "EXEC"))
		if err != nil {
			return err
		}
		for _, r := range replies {
			if re, ok := r.(redigo.Error); ok {
				return re
			}
		}
		return nil
	})
}

// script runs a Lua script with arguments (no keys: the prefix is an
// argument).
func (s *Store) script(ctx context.Context, sc *redigo.Script, args ...any) (any, error) {
	var reply any
	err := s.with(ctx, func(c redigo.Conn) (err error) {
		reply, err = sc.DoContext(ctx, c, args...)
		return err
	})
	return reply, err
}

// unavailable reports whether err means the server cannot be reached or
// cannot serve now, as opposed to a refused command.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, redigo.ErrNil) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redigo.ErrPoolExhausted) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"LOADING", "MISCONF", "READONLY", "MASTERDOWN", "TRYAGAIN"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "closed pool") || strings.Contains(msg, "connection closed")
}

// wrap adds context to err, marking it store.ErrUnavailable when the
// server could not be reached.
func (s *Store) wrap(what string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, store.ErrUnavailable, err)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOAUTH") {
		return fmt.Errorf("%s: authentication failed (check the password in the store URL): %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func nanos(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func fromNanos(v string) time.Time {
	n, _ := strconv.ParseInt(v, 10, 64)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func fstr(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fparse(v string) float64 {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nanValue
	}
	return f
}

var nanValue = func() float64 { f, _ := strconv.ParseFloat("NaN", 64); return f }()

// Runs.

// PutRun implements store.Runs. A run's creation time is set by its
// first write and kept by later ones, as in store/sqlite.
func (s *Store) PutRun(ctx context.Context, r *store.Run) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	row, err := json.Marshal(store.RowOf(r))
	if err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	k := s.p + "run:" + r.ID
	err = s.tx(ctx, []command{
		cmd("HSETNX", k, "created", nanos(r.Created)),
		cmd("HSET", k, "doc", doc, "row", row),
		cmd("ZADD", s.p+"runs", "NX", r.Created.UnixMicro(), r.ID),
		cmd("ZADD", s.p+"runids", 0, r.ID),
	})
	if err != nil {
		return s.wrap("store run "+r.ID, err)
	}
	return nil
}

// DeleteRun implements store.Runs.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	err := s.tx(ctx, []command{cmd("DEL", s.p+"run:"+id), cmd("ZREM", s.p+"runs", id), cmd("ZREM", s.p+"runids", id)})
	if err != nil {
		return s.wrap("delete run "+id, err)
	}
	return nil
}

func decodeRun(doc, created string) (*store.Run, error) {
	var r store.Run
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, err
	}
	if c := fromNanos(created); !c.IsZero() {
		r.Created = c
	}
	if !r.Created.IsZero() {
		r.Created = r.Created.UTC()
	}
	if !r.Finished.IsZero() {
		r.Finished = r.Finished.UTC()
	}
	return &r, nil
}

func (s *Store) loadRuns(ctx context.Context, ids []string) ([]*store.Run, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]command, len(ids))
	for i, id := range ids {
		cmds[i] = cmd("HMGET", s.p+"run:"+id, "doc", "created")
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Run, 0, len(ids))
	for i, reply := range replies {
		v, _ := redigo.ByteSlices(reply, nil)
		if len(v) != 2 {
			return nil, fmt.Errorf("run %s: HMGET gave %d fields", ids[i], len(v))
		}
		doc, created := string(v[0]), string(v[1])
		if doc == "" {
			continue
		}
		r, err := decodeRun(doc, created)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", ids[i], err)
		}
		out = append(out, r)
	}
	return out, nil
}

// GetRun implements store.Runs. id may be a unique prefix of a run id.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	if id == "" {
		return nil, fmt.Errorf("run id is empty: %w", store.ErrNotFound)
	}
	ids, err := redigo.Strings(s.Do(ctx, "ZRANGEBYLEX", s.p+"runids", "["+id, "("+id+"\xff", "LIMIT", 0, 2))
	if err != nil {
		return nil, s.wrap("get run "+id, err)
	}
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	case len(ids) > 1 && ids[0] != id:
		return nil, fmt.Errorf("%w %q", store.ErrAmbiguous, id)
	}
	runs, err := s.loadRuns(ctx, ids[:1])
	if err != nil {
		return nil, s.wrap("get run "+id, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	return runs[0], nil
}

// ListRuns implements store.Runs.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]*store.Run, error) {
	pairs, err := redigo.Strings(s.Do(ctx, "ZRANGE", s.p+"runs", 0, -1, "WITHSCORES"))
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	type scored struct {
		id    string
		score float64
	}
	zs := make([]scored, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		zs = append(zs, scored{pairs[i], fparse(pairs[i+1])})
	}
	// Newest first, ties by id, as store/sqlite orders them.
	slices.SortFunc(zs, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	if limit > 0 && len(zs) > limit {
		zs = zs[:limit]
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.id
	}
	runs, err := s.loadRuns(ctx, ids)
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	return runs, nil
}

// Records.

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
	if s.o.CacheMax > 0 {
		for kind := range trim {
			if _, err := s.script(ctx, trimScript, s.p, kind, s.o.CacheMax); err != nil {
				return s.wrap("bound cache records", err)
			}
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
	if value == nil {
		value = []byte{}
	}
	n, err := redigo.Int(s.script(ctx, createScript, s.recKey(kind, key), value, nanos(time.Now()), s.p+"reck:"+kind, key, s.p+"kinds", kind))
	if err != nil {
		return false, s.wrap("create record "+kind+"/"+key, err)
	}
	return n == 1, nil
}

// createScript writes a record's hash and indexes only if the hash's
// value field is not there yet.
var createScript = redigo.NewScript(0, `
local k, v, u, idx, key, kinds, kind = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('HSETNX', k, 'v', v) == 0 then return 0 end
redis.call('HSET', k, 'u', u)
redis.call('ZADD', idx, 0, key)
redis.call('ZADD', kinds, 0, kind)
return 1
`)

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
	min, max := "-", "+"
	if prefix != "" {
		min, max = "["+prefix, "("+prefix+"\xff"
	}
	keys, err := redigo.Strings(s.Do(ctx, "ZRANGEBYLEX", s.p+"reck:"+kind, min, max))
	if err != nil {
		return nil, s.wrap("list records "+kind, err)
	}
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

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	err := s.tx(ctx, []command{cmd("DEL", s.recKey(kind, key)), cmd("ZREM", s.p+"reck:"+kind, key), cmd("ZREM", s.p+"rect:"+kind, key)})
	if err != nil {
		return s.wrap("delete record "+kind+"/"+key, err)
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
