// Package redis implements tabforge's store on a Redis server (go-redis
// v9): runs, the keyed record space, studies and trials. Writes that
// touch several keys run in MULTI/EXEC pipelines or Lua scripts, so they
// are atomic and safe for several processes; ids come from INCR. Records
// of kind store.CacheKind may expire (a TTL) and are bounded in number
// (oldest evicted first); nothing else ever expires.
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
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

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
	c    *goredis.Client
	p    string
	o    Options
	name string
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// storeParams are the URL query parameters tabforge reads itself; the
// rest go to go-redis (dial_timeout, read_timeout, pool_size, ...).
var storeParams = []string{"prefix", "cache_ttl", "cache_max"}

// ParseURL splits a store URL into go-redis options and the store's own:
//
//	redis://[[user]:password@]host:port/db?prefix=P&cache_ttl=168h&cache_max=100000
//	rediss://...   (TLS)
//
// Connections time out after 2 s unless the URL says otherwise, so an
// unreachable server is noticed quickly.
func ParseURL(raw string) (*goredis.Options, Options, error) {
	var o Options
	u, err := url.Parse(raw)
	if err != nil {
		return nil, o, fmt.Errorf("redis store URL: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, o, fmt.Errorf("redis store URL %q: scheme must be redis or rediss", redact(raw))
	}
	q := u.Query()
	o.Prefix = q.Get("prefix")
	if v := q.Get("cache_ttl"); v != "" {
		if o.CacheTTL, err = time.ParseDuration(v); err != nil || o.CacheTTL < 0 {
			return nil, o, fmt.Errorf("redis store URL: cache_ttl %q is not a duration like 24h", v)
		}
	}
	if v := q.Get("cache_max"); v != "" {
		if o.CacheMax, err = strconv.Atoi(v); err != nil || o.CacheMax < 0 {
			return nil, o, fmt.Errorf("redis store URL: cache_max %q is not a count >= 0", v)
		}
	}
	for _, k := range storeParams {
		q.Del(k)
	}
	if q.Get("dial_timeout") == "" {
		q.Set("dial_timeout", "2s")
	}
	if q.Get("read_timeout") == "" {
		q.Set("read_timeout", "5s")
	}
	if q.Get("max_retries") == "" {
		q.Set("max_retries", "1")
	}
	u.RawQuery = q.Encode()
	ro, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, o, fmt.Errorf("redis store URL %q: %w", redact(raw), err)
	}
	// One dial attempt per command: the failover store, not go-redis,
	// decides what to do about a server that is down.
	ro.DialerRetries = 1
	if ro.TLSConfig != nil && ro.TLSConfig.MinVersion == 0 {
		ro.TLSConfig.MinVersion = tls.VersionTLS12
	}
	return ro, o, nil
}

// DiscardClientLogs silences go-redis's own logger, which otherwise
// prints every failed dial to stderr; tabforge reports errors itself. It
// changes go-redis's process-wide logger, so only a main package (or a
// test) should call it.
func DiscardClientLogs() { goredis.SetLogger(discard{}) }

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

// redact hides a URL's password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Open connects to the server raw names and pings it. A server that
// cannot be reached gives an error wrapping store.ErrUnavailable; a
// wrong password or database gives a plain one.
func Open(ctx context.Context, raw string) (*Store, error) {
	ro, o, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	s := New(goredis.NewClient(ro), o)
	scheme := "redis"
	if ro.TLSConfig != nil {
		scheme = "rediss"
	}
	s.name = fmt.Sprintf("%s://%s/%d", scheme, ro.Addr, ro.DB)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// New returns a store on client; it does not connect.
func New(client *goredis.Client, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "tabforge:"
	}
	return &Store{c: client, p: o.Prefix, o: o, name: "redis://" + client.Options().Addr + "/" + strconv.Itoa(client.Options().DB)}
}

// Client returns the underlying client.
func (s *Store) Client() *goredis.Client { return s.c }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.p }

// URL implements store.Store.
func (s *Store) URL() string { return s.name }

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return s.wrap("ping "+s.name, err)
	}
	return nil
}

// unavailable reports whether err means the server cannot be reached or
// cannot serve now, as opposed to a refused command.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, goredis.Nil) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, goredis.ErrPoolTimeout) || errors.Is(err, goredis.ErrClosed) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"LOADING", "MISCONF", "READONLY", "MASTERDOWN", "TRYAGAIN"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset")
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
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		k := s.p + "run:" + r.ID
		p.HSetNX(ctx, k, "created", nanos(r.Created))
		p.HSet(ctx, k, "doc", doc, "row", row)
		p.ZAddNX(ctx, s.p+"runs", goredis.Z{Score: float64(r.Created.UnixMicro()), Member: r.ID})
		p.ZAdd(ctx, s.p+"runids", goredis.Z{Score: 0, Member: r.ID})
		return nil
	})
	if err != nil {
		return s.wrap("store run "+r.ID, err)
	}
	return nil
}

// DeleteRun implements store.Runs.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.p+"run:"+id)
		p.ZRem(ctx, s.p+"runs", id)
		p.ZRem(ctx, s.p+"runids", id)
		return nil
	})
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
	cmds := make([]*goredis.SliceCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.p+"run:"+id, "doc", "created")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*store.Run, 0, len(ids))
	for i, c := range cmds {
		v := c.Val()
		doc, _ := v[0].(string)
		created, _ := v[1].(string)
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
	ids, err := s.c.ZRangeByLex(ctx, s.p+"runids", &goredis.ZRangeBy{Min: "[" + id, Max: "(" + id + "\xff", Count: 2}).Result()
	if err != nil {
		return nil, s.wrap("get run "+id, err)
	}
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	case len(ids) > 1 && ids[0] != id:
		return nil, fmt.Errorf("run id prefix %q is ambiguous", id)
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
	zs, err := s.c.ZRangeWithScores(ctx, s.p+"runs", 0, -1).Result()
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	// Newest first, ties by id, as store/sqlite orders them.
	slices.SortFunc(zs, func(a, b goredis.Z) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Member.(string), b.Member.(string))
	})
	if limit > 0 && len(zs) > limit {
		zs = zs[:limit]
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.Member.(string)
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
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
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
			p.HSet(ctx, k, "v", v, "u", nanos(updated))
			p.ZAdd(ctx, s.p+"reck:"+r.Kind, goredis.Z{Score: 0, Member: r.Key})
			p.ZAdd(ctx, s.p+"kinds", goredis.Z{Score: 0, Member: r.Kind})
			if s.volatile(r.Kind) {
				if s.o.CacheTTL > 0 {
					p.PExpire(ctx, k, s.o.CacheTTL)
				}
				p.ZAdd(ctx, s.p+"rect:"+r.Kind, goredis.Z{Score: float64(updated.UnixMicro()), Member: r.Key})
				trim[r.Kind] = true
			}
		}
		return nil
	})
	if err != nil {
		if len(recs) == 1 {
			return s.wrap("store record "+recs[0].Kind+"/"+recs[0].Key, err)
		}
		return s.wrap(fmt.Sprintf("store %d records", len(recs)), err)
	}
	if s.o.CacheMax > 0 {
		for kind := range trim {
			if err := trimScript.Run(ctx, s.c, nil, s.p, kind, s.o.CacheMax).Err(); err != nil {
				return s.wrap("bound cache records", err)
			}
		}
	}
	return nil
}

// trimScript evicts the oldest records of a kind beyond a count.
var trimScript = goredis.NewScript(`
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

// GetRecord implements store.Records.
func (s *Store) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	v, err := s.c.HMGet(ctx, s.recKey(kind, key), "v", "u").Result()
	if err != nil {
		return nil, s.wrap("get record "+kind+"/"+key, err)
	}
	val, ok := v[0].(string)
	if !ok {
		return nil, fmt.Errorf("record %s/%s: %w", kind, key, store.ErrNotFound)
	}
	u, _ := v[1].(string)
	return &store.Record{Kind: kind, Key: key, Value: []byte(val), Updated: fromNanos(u)}, nil
}

// ListRecords implements store.Records. Cache records that expired are
// skipped and dropped from the index.
func (s *Store) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	min, max := "-", "+"
	if prefix != "" {
		min, max = "["+prefix, "("+prefix+"\xff"
	}
	keys, err := s.c.ZRangeByLex(ctx, s.p+"reck:"+kind, &goredis.ZRangeBy{Min: min, Max: max}).Result()
	if err != nil {
		return nil, s.wrap("list records "+kind, err)
	}
	cmds := make([]*goredis.SliceCmd, len(keys))
	if len(keys) > 0 {
		if _, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.HMGet(ctx, s.recKey(kind, k), "v", "u")
			}
			return nil
		}); err != nil {
			return nil, s.wrap("list records "+kind, err)
		}
	}
	var out []*store.Record
	var gone []any
	for i, c := range cmds {
		v := c.Val()
		val, ok := v[0].(string)
		if !ok {
			gone = append(gone, keys[i])
			continue
		}
		u, _ := v[1].(string)
		out = append(out, &store.Record{Kind: kind, Key: keys[i], Value: []byte(val), Updated: fromNanos(u)})
	}
	if len(gone) > 0 {
		// Best effort: a failure here only leaves stale index entries.
		s.c.ZRem(ctx, s.p+"reck:"+kind, gone...)
		s.c.ZRem(ctx, s.p+"rect:"+kind, gone...)
	}
	return out, nil
}

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.recKey(kind, key))
		p.ZRem(ctx, s.p+"reck:"+kind, key)
		p.ZRem(ctx, s.p+"rect:"+kind, key)
		return nil
	})
	if err != nil {
		return s.wrap("delete record "+kind+"/"+key, err)
	}
	return nil
}

// Kinds implements store.Store.
func (s *Store) Kinds(ctx context.Context) ([]string, error) {
	kinds, err := s.c.ZRange(ctx, s.p+"kinds", 0, -1).Result()
	if err != nil {
		return nil, s.wrap("list record kinds", err)
	}
	cmds := make([]*goredis.IntCmd, len(kinds))
	if len(kinds) > 0 {
		if _, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, k := range kinds {
				cmds[i] = p.ZCard(ctx, s.p+"reck:"+k)
			}
			return nil
		}); err != nil {
			return nil, s.wrap("list record kinds", err)
		}
	}
	var out []string
	for i, k := range kinds {
		if cmds[i].Val() > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}
