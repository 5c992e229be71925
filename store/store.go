// Package store owns tabforge's persistent records: runs (their config,
// dataset version, leaderboard, timings and status), tuning studies and
// their trials, and a keyed record space on which the model registry,
// dataset and model version mappings, the experiment log and the step
// cache sit. It defines the records and the Store interface;
// store/sqlite (the embedded default) and store/redis implement it,
// store/failover switches between them, store/cache memoises steps and
// store/storetest is the conformance suite every implementation passes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tabforge/tabforge/tune"
)

// Status is the state of a run.
type Status string

// Run states.
const (
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	// Interrupted is a run stopped before it finished, which can be
	// resumed: the run records it when stopped from outside (a signal, a
	// caller's deadline), and a reader sees a running run whose process
	// stopped renewing its lease (killed, crashed, machine lost) as
	// interrupted. See LeaseKind.
	Interrupted Status = "interrupted"
)

// LeaseKind is the record kind of running runs' leases: key the run id,
// value the RFC 3339 time until which the run's process vouches it is
// alive and the fencing token of its acquisition (see Claim). The process
// renews it well before then; a running run whose lease expired (or is
// missing) is interrupted.
const LeaseKind = "run.lease"

// ClaimKind is the record kind of other leases (see Claim), keyed by what
// they claim, e.g. "watch/NAME/HASH".
const ClaimKind = "claim"

// Run is one training run's record.
type Run struct {
	ID          string          `json:"id"`
	Created     time.Time       `json:"created"`
	Finished    time.Time       `json:"finished,omitzero"`
	Status      Status          `json:"status"`
	DatasetPath string          `json:"dataset_path"`
	DatasetHash string          `json:"dataset_hash"`
	ConfigHash  string          `json:"config_hash"`
	Config      json.RawMessage `json:"config"`
	Task        string          `json:"task"`
	Target      string          `json:"target"`
	Best        string          `json:"best,omitempty"`
	ModelPath   string          `json:"model_path,omitempty"`
	// Profile is the config profile the run started from (its defaults
	// are what the dashboard diffs the config against); "" for runs
	// recorded before runs kept it.
	Profile string `json:"profile,omitempty"`
	// Result holds the run's full result (leaderboard, metrics, timings)
	// as JSON, so the store does not depend on the pipeline's types.
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ErrNotFound reports an unknown record.
var ErrNotFound = errors.New("not found")

// ErrNoStore reports a store that does not exist where a caller opening
// existing stores only asked for one (an SQLite file never created).
var ErrNoStore = errors.New("no store")

// ErrAmbiguous reports a run id prefix that several runs start with.
var ErrAmbiguous = errors.New("ambiguous run id prefix")

// Runs is the part of a store that records runs.
type Runs interface {
	// PutRun inserts or replaces the run with r.ID.
	PutRun(ctx context.Context, r *Run) error
	// GetRun returns the run with the given id or a unique id prefix.
	GetRun(ctx context.Context, id string) (*Run, error)
	// ListRuns returns up to limit runs, newest first; limit 0 means all.
	ListRuns(ctx context.Context, limit int) ([]*Run, error)
	// DeleteRun removes the run with exactly this id; removing a missing
	// run is not an error.
	DeleteRun(ctx context.Context, id string) error
}

// Record is one keyed value in a record space. Kinds separate the spaces
// that sit on top of it: the model registry, dataset and model version
// mappings, the experiment log and the step cache.
type Record struct {
	Kind    string    `json:"kind"`
	Key     string    `json:"key"`
	Value   []byte    `json:"value"`
	Updated time.Time `json:"updated"`
}

// Records is a keyed record space. Writes of the same (kind, key) replace
// each other, so replaying a write is harmless.
type Records interface {
	// PutRecord inserts or replaces the value of (kind, key).
	PutRecord(ctx context.Context, kind, key string, value []byte) error
	// GetRecord returns the record of (kind, key), or an error wrapping
	// ErrNotFound.
	GetRecord(ctx context.Context, kind, key string) (*Record, error)
	// ListRecords returns the records of kind whose key starts with
	// prefix, ordered by key.
	ListRecords(ctx context.Context, kind, prefix string) ([]*Record, error)
	// DeleteRecord removes (kind, key); deleting a missing record is not
	// an error.
	DeleteRecord(ctx context.Context, kind, key string) error
}

// Claimer is a record space that can write a record only where there is
// none, or only over the value read, atomically: the steps that let
// processes sharing a store agree which of them does a job, and which
// takes over the lease of one that died (see Claim).
type Claimer interface {
	Swapper
	// CreateRecord writes (kind, key) if it does not exist and reports
	// whether it did; an existing record is left as it is.
	CreateRecord(ctx context.Context, kind, key string, value []byte) (bool, error)
}

// SwapOld is the old value for a swap of the record r was read as, nil
// for no record: r's value, or an empty one for a record whose value is
// empty (nil there would mean "no record" to SwapRecord).
func SwapOld(r *Record) []byte {
	if r == nil {
		return nil
	}
	if r.Value == nil {
		return []byte{}
	}
	return r.Value
}

// Swapper is a record space that can replace a record only while it
// still holds the value its caller read: the step that keeps two
// processes' read-modify-writes of one record (the registry's promotions,
// rollbacks and alias changes of a name) from silently undoing each
// other.
type Swapper interface {
	Records
	// SwapRecord writes value to (kind, key) if the record's value is
	// still old, or, for a nil old, if there is no record, and reports
	// whether it did; otherwise the record is left as it is. The test and
	// the write are one atomic step.
	SwapRecord(ctx context.Context, kind, key string, old, value []byte) (bool, error)
}

// CacheKind is the record kind of the step cache. Its records may expire
// or be evicted (store/redis bounds them by age and count); records of
// every other kind, runs and studies are kept until deleted.
const CacheKind = "cache"

// CachePruner is a store that removes old step cache records in bulk,
// without reading their values (which hold fitted models). Stores that
// bound the cache themselves (store/redis: cache_ttl, cache_max) need not
// implement it; on the others the cache grows until pruned (tabforge gc).
type CachePruner interface {
	// PruneCache removes the records of CacheKind last written before
	// before, and returns how many there were and the bytes of their
	// values. With dry it removes nothing and returns the same counts.
	PruneCache(ctx context.Context, before time.Time, dry bool) (n int, bytes int64, err error)
}

// Problem is something wrong with a store's setup, found by a Checker.
type Problem struct {
	// What is wrong, e.g. "redis persistence is off".
	What string `json:"what"`
	// Fix says how to put it right.
	Fix string `json:"fix"`
}

// A Checker inspects its own setup (reachability, persistence, eviction
// policy, writability) for tabforge doctor.
type Checker interface {
	Check(ctx context.Context) []Problem
}

// ErrUnavailable reports that a store's server cannot be reached (network
// error, server down). A failover store switches to its fallback on it;
// other errors (bad data, a trial in the wrong state) pass through.
var ErrUnavailable = errors.New("store unavailable")

// FallbackError says that a store serves from its fallback because its
// primary cannot be reached. The fallback holds only what was written to
// it, so whoever reports something as missing should say so: it may well
// exist on the primary.
type FallbackError struct {
	Primary  string // the primary's URL, e.g. redis://host:6379/0
	Fallback string // the fallback's URL, e.g. sqlite://.tabforge/tabforge.db
}

func (e *FallbackError) Error() string {
	return fmt.Sprintf("the store is on its fallback %s: %s is unreachable", e.Fallback, e.Primary)
}

// A FallbackReporter is a store that can serve from a fallback
// (store/failover's while Redis is unreachable).
type FallbackReporter interface {
	// OnFallback returns a *FallbackError while the store serves from its
	// fallback, else nil.
	OnFallback() error
}

// OnFallback returns s's OnFallback if s is a FallbackReporter, else nil.
func OnFallback(s any) error {
	if f, ok := s.(FallbackReporter); ok {
		return f.OnFallback()
	}
	return nil
}

// Study describes one tuning study.
type Study struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Direction tune.Direction `json:"direction"`
	Created   time.Time      `json:"created"`
}

// Studies is the part of a store beyond tune.Storage that export, import
// and failover replay need: trials are addressed by (study name, number),
// which unlike their integer ids means the same trial in every store.
type Studies interface {
	// ListStudies returns every study, ordered by name.
	ListStudies(ctx context.Context) ([]Study, error)
	// PutStudy creates the study s.Name with s.Direction and s.Created if
	// it does not exist (s.ID is ignored) and returns its id in this
	// store; an existing study with another direction is an error.
	PutStudy(ctx context.Context, s Study) (int64, error)
	// PutTrial inserts or replaces trial t.Number of the study called
	// study with every field of t except ID. Later CreateTrial calls
	// number their trials after it.
	PutTrial(ctx context.Context, study string, t tune.FrozenTrial) error
}

// A View reads a store, or one moment of it (see Store.Snapshot): what
// Export reads.
type View interface {
	// ListRuns, Kinds, ListRecords, ListStudies and Trials are as in
	// Store.
	ListRuns(ctx context.Context, limit int) ([]*Run, error)
	Kinds(ctx context.Context) ([]string, error)
	ListRecords(ctx context.Context, kind, prefix string) ([]*Record, error)
	ListStudies(ctx context.Context) ([]Study, error)
	Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error)
}

// Store is everything tabforge keeps: runs, the keyed record space,
// studies and trials. Implementations are safe for concurrent use, and
// for use by several processes at once.
type Store interface {
	Runs
	Claimer
	Swapper
	tune.Storage
	Studies
	RecordDeleter
	RecordGetter
	// PutRecords inserts or replaces each record, keeping its Updated
	// time (import and failover replay use it; a zero Updated means now).
	// Implementations write the batch in one round trip or transaction.
	PutRecords(ctx context.Context, recs []*Record) error
	// Kinds lists the record kinds that hold at least one record, sorted.
	Kinds(ctx context.Context) ([]string, error)
	// Snapshot calls f with a View of the store as it was at one moment:
	// whatever other handles write meanwhile, everything f reads through
	// it is one state, so a name's record never points at a version the
	// same reading lacks. Only records of CacheKind, which nothing refers
	// to, may be read as they are later. The View is valid during f only.
	Snapshot(ctx context.Context, f func(View) error) error
	// Ping checks that the store can be reached, returning an error
	// wrapping ErrUnavailable if not.
	Ping(ctx context.Context) error
	// URL names the store, e.g. sqlite:///path/tf.db; never a password.
	URL() string
	Close() error
}
