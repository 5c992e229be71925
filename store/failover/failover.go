// Package failover opens tabforge's store by URL and keeps a run going
// when its Redis server goes away. A Store sends everything to Redis (the
// primary) until a call fails with store.ErrUnavailable; from then on,
// for the rest of the process, it reads and writes the SQLite fallback
// and notes each write's key in the fallback's journal. Sync (run by
// Open when Redis answers again, and by tabforge store sync) copies the
// current state of every journalled key to Redis. Copies replace by key
// (run id, record kind and key, study name, study and trial number), so
// replaying twice, or after a crash half-way, writes nothing twice. The
// fallback is no copy of Redis: a record written on it over a state
// Redis does not hold (a model name's record the registry found missing
// there, say) is not copied over Redis's value, which is kept and
// reported (SyncCounts.Conflicts), as is a run or lease written on the
// fallback under a lease a newer holder has taken on Redis since. A
// Redis that lost its data meanwhile (restarted without persistence,
// flushed) is told by the epoch it keeps (redis.Store.Epoch), which the
// fallback records at each replay: the journal's keys Redis then lacks
// get the fallback's values, while those written there since the loss
// keep Redis's (SyncCounts.PrimaryLost). The
// lease token counter is neither copied nor kept: Sync raises Redis's
// to the fallback's, and the Store raises the fallback's to Redis's at
// Open and at each token it takes there, so fencing tokens keep
// increasing across an outage (see store.Claim).
//
// Tuning trials carry integer ids that differ between the two stores, so
// the Store hands tune ids of its own and maps them to (study, number).
// When a study first moves to the fallback, the trials last read from
// Redis are copied there first, so new trials are numbered after them.
// Trials another process added to the same study between that read and
// the outage, or on Redis during it, are not known here, and their
// numbers may be used again on the fallback. Sync therefore copies a
// trial only over the state it was written on (none, for one created on
// the fallback), and only while Redis still holds the state it read
// (store.SwapTrial, one script): another process's trial of the same
// number, or its change to the same trial, stays on
// Redis, and the fallback's is reported (SyncCounts.Conflicts,
// "trial/STUDY/N") and stays in the fallback file, not in the study's
// history on Redis. Run one tuning process per study across an outage
// to keep every trial.
package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// DefaultFallback is the SQLite file a Redis store falls back to unless
// the URL's fallback parameter or Options.Fallback names another.
const DefaultFallback = ".tabforge/tabforge.db"

// Options configure Open. The zero value falls back to DefaultFallback
// and logs to slog.Default().
type Options struct {
	// Fallback is the SQLite file for a Redis store's fallback and journal;
	// "" means the URL's fallback parameter, or else DefaultFallback.
	Fallback string
	// NoFallback makes an unreachable Redis at Open an error instead of a
	// warning and a switch to the fallback.
	NoFallback bool
	// Logger receives the failover warning and sync notes; nil means
	// slog.Default().
	Logger *slog.Logger
	// NoSync leaves the journal alone at Open (tabforge store sync replays
	// it itself, to report the counts).
	NoSync bool
	// Existing makes Open of a sqlite:// URL whose file does not exist an
	// error wrapping store.ErrNoStore instead of creating an empty store
	// (see sqlite.OpenExisting), for callers that only read. Redis URLs,
	// and their fallback file, are unaffected.
	Existing bool
}

// Open opens the store a URL names:
//
//	sqlite://PATH                       the SQLite store at PATH
//	redis://[:PASSWORD@]HOST:PORT/DB    a failover Store on Redis
//	rediss://...                        the same over TLS
//
// Redis URLs also take prefix, cache_ttl and cache_max (see
// store/redis.ParseURL) and fallback=PATH (the SQLite file). If Redis
// answers and the journal holds writes, Open replays them first.
func Open(ctx context.Context, raw string, o Options) (store.Store, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path, err := sqlite.FromURL(raw)
		if err != nil {
			return nil, err
		}
		if o.Existing {
			return sqlite.OpenExisting(ctx, path)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(raw, "redis://"), strings.HasPrefix(raw, "rediss://"):
		return openRedis(ctx, raw, o)
	}
	return nil, fmt.Errorf("store %q: want sqlite://PATH or redis://HOST:PORT/DB", raw)
}

// SplitFallback removes the fallback parameter from a Redis URL and
// returns it.
func SplitFallback(raw string) (rest, fallback string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("store URL: %w", err)
	}
	q := u.Query()
	fallback = q.Get("fallback")
	q.Del("fallback")
	u.RawQuery = q.Encode()
	return u.String(), fallback, nil
}

func openRedis(ctx context.Context, raw string, o Options) (*Store, error) {
	raw, fb, err := SplitFallback(raw)
	if err != nil {
		return nil, err
	}
	if o.Fallback == "" {
		o.Fallback = fb
	}
	if o.Fallback == "" {
		o.Fallback = DefaultFallback
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if _, _, err := redis.ParseURL(raw); err != nil {
		return nil, err // a malformed URL is a mistake, not an outage
	}
	// Redis first: without a fallback an unreachable Redis must not leave
	// an empty fallback file behind.
	primary, perr := redis.Open(ctx, raw)
	if perr != nil && o.NoFallback {
		return nil, perr
	}
	fallback, err := sqlite.Open(ctx, o.Fallback)
	if err != nil {
		if primary != nil {
			primary.Close()
		}
		return nil, fmt.Errorf("redis store fallback: %w", err)
	}
	s := newStore(fallback, log)
	if perr != nil {
		s.name, s.target = redact(raw), target(raw)
		s.failover(perr)
		return s, nil
	}
	s.primary, s.name, s.target = primary, primary.URL(), target(raw)
	if o.NoSync {
		return s, nil
	}
	n, err := s.Sync(ctx)
	if err != nil {
		log.Warn("store: replaying the journal to redis failed; it stays for the next start or tabforge store sync", "err", err)
	} else if n.Total() > 0 || len(n.Conflicts) > 0 {
		log.Info("store: replayed the SQLite journal to redis", "runs", n.Runs, "records", n.Records, "studies", n.Studies, "trials", n.Trials)
	}
	s.mirrorTokens(ctx)
	if n.PrimaryLost {
		log.Warn("store: redis lost its data since the journal was written (restarted without persistence, flushed or replaced); copied the fallback's value of each journalled key redis lacked, and what redis held before that the fallback never had is gone",
			"store", s.name)
	}
	if len(n.Conflicts) > 0 {
		log.Warn("store: kept redis's value of records, runs and trials the fallback wrote over another state or under a lease taken over on redis since; the fallback's stay in its file",
			"records", n.Conflicts, "fallback", fallback.Path())
	}
	return s, nil
}

// target names the Redis store a URL opens, for journal entries: scheme,
// address, database and key prefix, without credentials.
func target(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return fmt.Sprintf("%s://%s%s?prefix=%s", u.Scheme, u.Host, u.Path, u.Query().Get("prefix"))
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "redis"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// New returns a failover Store over primary and fallback (which holds the
// journal). It does not replay; call Sync.
func New(primary store.Store, fallback *sqlite.Store, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	s := newStore(fallback, log)
	s.primary, s.name, s.target = primary, primary.URL(), primary.URL()
	return s
}

func newStore(fallback *sqlite.Store, log *slog.Logger) *Store {
	return &Store{fallback: fallback, log: log,
		studyName: map[int64]string{}, studyLocal: map[string]int64{}, studyPrimary: map[string]int64{}, studyFallback: map[string]int64{},
		trialKey: map[int64]tkey{}, trialLocal: map[tkey]int64{}, trialPrimary: map[tkey]int64{}, trialFallback: map[tkey]int64{},
		studyDir: map[string]tune.Direction{}, mirror: map[tkey]*tune.FrozenTrial{}, seeded: map[string]bool{}}
}

// tkey names a trial the same way in both stores.
type tkey struct {
	study  string
	number int
}

// Store is a store that fails over from a primary (Redis) to an SQLite
// fallback. It is safe for concurrent use.
type Store struct {
	primary  store.Store // nil if it was unreachable at Open
	fallback *sqlite.Store
	log      *slog.Logger
	name     string
	// target names the primary in journal entries (see sqlite.Pending).
	target string

	mu   sync.Mutex
	down bool
	// Local ids handed to tune, and each store's ids for them.
	next                                    int64
	studyName                               map[int64]string
	studyLocal, studyPrimary, studyFallback map[string]int64
	studyDir                                map[string]tune.Direction // directions of the studies seen
	trialKey                                map[int64]tkey
	trialLocal, trialPrimary, trialFallback map[tkey]int64
	mirror                                  map[tkey]*tune.FrozenTrial // last known state of each trial
	seeded                                  map[string]bool            // studies copied to the fallback
	seedMu                                  sync.Mutex
	// wrote holds the value this process last created or swapped into
	// each record on the primary and has not deleted there since (see
	// adopt).
	wrote map[recKey][]byte
}

var (
	_ store.Store            = (*Store)(nil)
	_ store.FallbackReporter = (*Store)(nil)
)

// Down reports whether the Store has switched to its fallback.
func (s *Store) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// OnFallback implements store.FallbackReporter.
func (s *Store) OnFallback() error {
	if !s.Down() {
		return nil
	}
	return &store.FallbackError{Primary: s.name, Fallback: s.fallback.URL()}
}

// Fallback returns the SQLite fallback.
func (s *Store) Fallback() *sqlite.Store { return s.fallback }

// Primary returns the Redis store, or nil if it was unreachable at Open.
func (s *Store) Primary() store.Store { return s.primary }

// failover switches to the fallback, warning once.
func (s *Store) failover(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return
	}
	s.down = true
	s.log.Warn("store: redis is unreachable; using the SQLite fallback and journalling writes for tabforge store sync",
		"store", s.name, "fallback", s.fallback.Path(), "err", err)
}

// current returns the store to use now.
func (s *Store) current() (store.Store, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down || s.primary == nil {
		return s.fallback, false
	}
	return s.primary, true
}

// try runs f on the primary while it is up; on store.ErrUnavailable it
// fails over and returns false, so the caller continues on the fallback.
func (s *Store) try(f func(p store.Store) error) (done bool, err error) {
	p, up := s.current()
	if !up {
		return false, nil
	}
	err = f(p)
	if err != nil && errors.Is(err, store.ErrUnavailable) {
		s.failover(err)
		return false, nil
	}
	return true, err
}

// tryWrite is try for a conditional write of value to kind/key on the
// primary, remembered as this process's own when it took effect (see
// adopt).
func (s *Store) tryWrite(kind, key string, value []byte, write func(p store.Store) (bool, error)) (wrote, done bool, err error) {
	done, err = s.try(func(p store.Store) error {
		var err error
		wrote, err = write(p)
		if wrote {
			s.remember(kind, key, value)
		}
		return err
	})
	return wrote, done, err
}

// write runs a write on the primary, or on the fallback with a journal
// entry for its key.
func (s *Store) write(ctx context.Context, keys []sqlite.Pending, f func(st store.Store) error) error {
	return s.writeKeys(ctx, func() []sqlite.Pending { return keys }, f)
}

// writeKeys is write for keys known only after f ran. Record keys must be
// known before: keys is also called before f, for their bases.
func (s *Store) writeKeys(ctx context.Context, keys func() []sqlite.Pending, f func(st store.Store) error) error {
	if done, err := s.try(f); done {
		return err
	}
	bases, err := s.recordBases(ctx, keys())
	if err != nil {
		return err
	}
	if err := f(s.fallback); err != nil {
		return err
	}
	pending := keys()
	for i, k := range pending {
		pending[i].Target = s.target
		if b, ok := bases[k]; ok {
			pending[i].Base = b
		}
	}
	return s.fallback.MarkPending(ctx, pending...)
}

func read[T any](s *Store, f func(st store.Store) (T, error)) (T, error) {
	var v T
	done, err := s.try(func(p store.Store) error {
		var err error
		v, err = f(p)
		return err
	})
	if done {
		return v, err
	}
	return f(s.fallback)
}

// URL implements store.Store: the primary's URL.
func (s *Store) URL() string { return s.name }

// Ping implements store.Store: it pings the store in use.
func (s *Store) Ping(ctx context.Context) error {
	st, _ := s.current()
	return st.Ping(ctx)
}

// Close closes both stores.
func (s *Store) Close() error {
	err := s.fallback.Close()
	if s.primary != nil {
		err = errors.Join(s.primary.Close(), err)
	}
	return err
}

// Runs and records.

var _ store.RunQuerier = (*Store)(nil)

// DeleteRun implements store.Runs; a deletion on the fallback is replayed
// on the primary by sync.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	return s.write(ctx, []sqlite.Pending{{Kind: "run", A: id}}, func(st store.Store) error { return st.DeleteRun(ctx, id) })
}

// PutRun implements store.Runs.
func (s *Store) PutRun(ctx context.Context, r *store.Run) error {
	return s.write(ctx, []sqlite.Pending{{Kind: "run", A: r.ID}}, func(st store.Store) error { return st.PutRun(ctx, r) })
}

// GetRun implements store.Runs.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	return read(s, func(st store.Store) (*store.Run, error) { return st.GetRun(ctx, id) })
}

// ListRuns implements store.Runs.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]*store.Run, error) {
	return read(s, func(st store.Store) ([]*store.Run, error) { return st.ListRuns(ctx, limit) })
}

// QueryRuns implements store.RunQuerier on the store in use, so a list
// of runs (the dashboard's) reads one page through Redis's rows or
// SQLite's indexes rather than every run's full record.
func (s *Store) QueryRuns(ctx context.Context, q store.RunQuery) (*store.RunPage, error) {
	return read(s, func(st store.Store) (*store.RunPage, error) { return store.QueryRuns(ctx, st, q) })
}

// PutRecord implements store.Records.
func (s *Store) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	return s.write(ctx, []sqlite.Pending{{Kind: "record", A: kind, B: key}}, func(st store.Store) error { return st.PutRecord(ctx, kind, key, value) })
}

// CreateRecord implements store.Claimer. Created on the fallback, the
// record is replayed to the primary like any write; a process that
// stayed on the primary meanwhile may have created it there too.
func (s *Store) CreateRecord(ctx context.Context, kind, key string, value []byte) (bool, error) {
	if created, done, err := s.tryWrite(kind, key, value, func(p store.Store) (bool, error) {
		return p.CreateRecord(ctx, kind, key, value)
	}); done {
		return created, err
	}
	// Journalled only when created: a record left as it was is no write.
	k := s.pending(kind, key, nil, value)
	created, err := s.fallback.CreateRecord(ctx, kind, key, value)
	if err != nil || !created {
		return false, err
	}
	return true, s.fallback.MarkPending(ctx, k)
}

// SwapRecord implements store.Swapper like CreateRecord: on the primary
// while it is up, else on the fallback, journalled only when swapped
// (over the fallback's state, which replay checks against the primary's).
func (s *Store) SwapRecord(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	if swapped, done, err := s.tryWrite(kind, key, value, func(p store.Store) (bool, error) {
		swapped, err := p.SwapRecord(ctx, kind, key, old, value)
		if swapped && kind == store.TokenKind {
			s.mirrorTokens(ctx)
		}
		return swapped, err
	}); done {
		return swapped, err
	}
	k := s.pending(kind, key, old, value)
	swapped, err := s.fallback.SwapRecord(ctx, kind, key, old, value)
	if err == nil && !swapped {
		swapped, err = s.adopt(ctx, kind, key, old, value)
	}
	if err != nil || !swapped {
		return false, err
	}
	return true, s.fallback.MarkPending(ctx, k)
}

// PutRecords implements store.Store.
func (s *Store) PutRecords(ctx context.Context, recs []*store.Record) error {
	keys := make([]sqlite.Pending, len(recs))
	for i, r := range recs {
		keys[i] = sqlite.Pending{Kind: "record", A: r.Kind, B: r.Key}
	}
	return s.write(ctx, keys, func(st store.Store) error { return st.PutRecords(ctx, recs) })
}

// GetRecord implements store.Records.
func (s *Store) GetRecord(ctx context.Context, kind, key string) (*store.Record, error) {
	return read(s, func(st store.Store) (*store.Record, error) { return st.GetRecord(ctx, kind, key) })
}

// ListRecords implements store.Records.
func (s *Store) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	return read(s, func(st store.Store) ([]*store.Record, error) { return st.ListRecords(ctx, kind, prefix) })
}

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	return s.write(ctx, []sqlite.Pending{{Kind: "record", A: kind, B: key}}, func(st store.Store) error {
		err := st.DeleteRecord(ctx, kind, key)
		if err == nil && st != store.Store(s.fallback) {
			s.forget(kind, key)
		}
		return err
	})
}

// DeleteRecords implements store.RecordDeleter: on the primary while it
// is up, else on the fallback with a journal entry for each key, which
// sync replays as a delete of that key (the fallback no longer has it).
func (s *Store) DeleteRecords(ctx context.Context, kind string, keys []string) error {
	pending := make([]sqlite.Pending, len(keys))
	for i, k := range keys {
		pending[i] = sqlite.Pending{Kind: "record", A: kind, B: k}
	}
	return s.write(ctx, pending, func(st store.Store) error {
		err := st.DeleteRecords(ctx, kind, keys)
		if err == nil && st != store.Store(s.fallback) {
			s.forget(kind, keys...)
		}
		return err
	})
}

// Kinds implements store.Store.
func (s *Store) Kinds(ctx context.Context) ([]string, error) {
	return read(s, func(st store.Store) ([]string, error) { return st.Kinds(ctx) })
}

// Snapshot implements store.Store on the store in use. A primary that
// becomes unreachable during the snapshot is failed over from for what
// follows, but the snapshot fails: a caller that asked for the primary's
// state (an export, a backup) must not get the fallback's instead.
func (s *Store) Snapshot(ctx context.Context, f func(store.View) error) error {
	p, up := s.current()
	if !up {
		return s.fallback.Snapshot(ctx, f)
	}
	err := p.Snapshot(ctx, f)
	if errors.Is(err, store.ErrUnavailable) {
		s.failover(err)
	}
	return err
}

// ListStudies implements store.Studies.
func (s *Store) ListStudies(ctx context.Context) ([]store.Study, error) {
	studies, err := read(s, func(st store.Store) ([]store.Study, error) { return st.ListStudies(ctx) })
	for i, st := range studies {
		studies[i].ID = s.localStudy(st.Name, st.Direction)
	}
	return studies, err
}

// PutStudy implements store.Studies.
func (s *Store) PutStudy(ctx context.Context, st store.Study) (int64, error) {
	err := s.write(ctx, []sqlite.Pending{{Kind: "study", A: st.Name}}, func(b store.Store) error {
		id, err := b.PutStudy(ctx, st)
		if err == nil {
			s.setStudy(b, st.Name, st.Direction, id)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return s.localStudy(st.Name, st.Direction), nil
}

// PutTrial implements store.Studies.
func (s *Store) PutTrial(ctx context.Context, study string, t tune.FrozenTrial) error {
	k := tkey{study, t.Number}
	err := s.write(ctx, []sqlite.Pending{{Kind: "trial", A: study, B: strconv.Itoa(t.Number)}}, func(b store.Store) error {
		if _, err := s.backendStudy(ctx, b, study); err != nil {
			return err
		}
		return b.PutTrial(ctx, study, t)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	c := clone(t)
	s.mirror[k] = &c
	// Store ids are unknown now; Trials finds them again.
	delete(s.trialPrimary, k)
	delete(s.trialFallback, k)
	s.mu.Unlock()
	return nil
}

func clone(t tune.FrozenTrial) tune.FrozenTrial {
	c := t
	c.Params, c.Distributions, c.Intermediate = map[string]float64{}, map[string]tune.Distribution{}, map[int]float64{}
	for k, v := range t.Params {
		c.Params[k] = v
	}
	for k, v := range t.Distributions {
		c.Distributions[k] = v
	}
	for k, v := range t.Intermediate {
		c.Intermediate[k] = v
	}
	return c
}
