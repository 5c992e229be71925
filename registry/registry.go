// Package registry owns tabforge's model versions: their identity (a hash
// of the dataset version, the config, the seed and the code version), their
// lineage back to the run, data and config that made them, their stages
// (none, staging, production, archived), the history of promotions, and
// rollback to the previous production version.
//
// All state lives in a store.Records (so any store backend, its failover
// and its export/import carry the registry along) under three kinds:
//
//	registry.model  version → Model (immutable once written, but for Runs)
//	registry.stage  "production" | "staging" → which version holds it
//	registry.event  time-ordered key → Event (the promotion history)
//
// The stage records are the single source of truth for who is in
// production: a promotion or a rollback takes effect with one record
// write, and Production reads one record. A model's Stage is derived from
// them (and from the history, for archived) when it is read.
//
// The store has no transactions, so two processes promoting at the same
// moment race: the last stage write wins and both events are kept.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/store"
)

// Record kinds of the registry in store.Records.
const (
	KindModel = "registry.model"
	KindStage = "registry.stage"
	KindEvent = "registry.event"
)

// Stage is where a model version stands.
type Stage string

// Stages. A version is in production or staging while the stage record
// names it; archived once it held a stage (or was archived explicitly) and
// no longer does; none if it never held one.
const (
	None       Stage = "none"
	Staging    Stage = "staging"
	Production Stage = "production"
	Archived   Stage = "archived"
)

// ParseStage parses a promotion target: staging, production or archived.
func ParseStage(s string) (Stage, error) {
	switch st := Stage(strings.ToLower(strings.TrimSpace(s))); st {
	case Staging, Production, Archived:
		return st, nil
	}
	return "", fmt.Errorf("registry: stage %q is not one of staging, production, archived", s)
}

// Errors callers branch on.
var (
	// ErrNotDeployable refuses to put a model that failed its quality
	// gates into production without Force.
	ErrNotDeployable = errors.New("model is not deployable (it failed its quality gates); use force to promote it anyway")
	// ErrNoPrevious reports a rollback with no earlier production version.
	ErrNoPrevious = errors.New("no previous production version to roll back to")
	// ErrNoProduction reports that no version is in production.
	ErrNoProduction = errors.New("no model version is in production")
	// ErrAmbiguous reports a version prefix matching several versions.
	ErrAmbiguous = errors.New("ambiguous model version prefix")
)

// Identity is what determines a model version: the same data, config, seed
// and code train the same model.
type Identity struct {
	DatasetHash string `json:"dataset_hash"` // content hash of the training data (the dataset version)
	ConfigHash  string `json:"config_hash"`  // config.Config.Hash of the run
	Seed        uint64 `json:"seed"`
	CodeVersion string `json:"code_version"` // see CodeVersion
}

// idVersion is mixed into every model id, so a change in how ids are made
// cannot collide with old ones.
const idVersion = "tabforge-model-id-v1"

// ID returns the model version for id: 16 hex digits of a SHA-256 over
// its fields. It fails if a field that identifies the model is empty.
func ID(id Identity) (string, error) {
	if id.DatasetHash == "" || id.ConfigHash == "" || id.CodeVersion == "" {
		return "", fmt.Errorf("registry: model identity needs a dataset hash, a config hash and a code version (got %+v)", id)
	}
	h := sha256.New()
	for _, part := range []string{idVersion, id.DatasetHash, id.ConfigHash, strconv.FormatUint(id.Seed, 10), id.CodeVersion} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Model is one registered model version and its lineage.
type Model struct {
	Version string `json:"version"`
	Identity
	// RunID is the run that registered the version; Runs lists later
	// runs that reproduced it (same identity), oldest first.
	RunID       string          `json:"run_id"`
	Runs        []string        `json:"runs,omitempty"`
	DatasetPath string          `json:"dataset_path"`
	Config      json.RawMessage `json:"config,omitempty"` // the run's full config, for lineage
	Task        string          `json:"task"`
	Target      string          `json:"target"`
	Family      string          `json:"family"` // the best model family of the run
	// Metrics are the best model's test metrics; CV its cross-validation
	// means.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	CV      map[string]float64 `json:"cv,omitempty"`
	// Artifact is where the saved model lives and its checksum.
	Artifact artifact.Ref `json:"artifact"`
	Created  time.Time    `json:"created"`
	// Deployable is false when the model failed a quality gate; it then
	// needs Force to enter production.
	Deployable bool `json:"deployable"`

	// Stage is derived when the model is read; it is not stored.
	Stage Stage `json:"stage,omitempty"`
}

// Event is one change of stage, kept in the history.
type Event struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"` // "promote" or "rollback"
	Version string    `json:"version"`
	Stage   Stage     `json:"stage"` // the stage Version entered
	// Replaced is the version that held Stage before, if any.
	Replaced string `json:"replaced,omitempty"`
	Forced   bool   `json:"forced,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Seconds is how long the change took to take effect, from the start
	// of the call to the stage record's write.
	Seconds float64 `json:"seconds"`
}

// slot is the record of one stage: who holds it and, for production, the
// versions that held it before, most recent first (what Rollback pops).
type slot struct {
	Version  string    `json:"version"`
	Since    time.Time `json:"since"`
	Previous []string  `json:"previous,omitempty"`
}

// maxPrevious bounds the rollback stack kept in the production record, so
// the record stays small however many promotions happen.
const maxPrevious = 100

// Registry is the model registry on a record store. It holds no state of
// its own: several Registries (and processes) may share one store.
type Registry struct {
	rec store.Records
	now func() time.Time
}

// New returns a registry keeping its state in rec.
func New(rec store.Records) *Registry { return &Registry{rec: rec, now: time.Now} }

// Register records m as a new model version. m.Version is computed from
// m.Identity (a version given in m must match it). If the version exists
// already, the stored record is kept and only m.RunID is appended to its
// Runs: a version is immutable, so a server never sees its artifact
// change. Register returns the stored model and whether it was new.
func (r *Registry) Register(ctx context.Context, m Model) (*Model, bool, error) {
	v, err := ID(m.Identity)
	if err != nil {
		return nil, false, err
	}
	if m.Version != "" && m.Version != v {
		return nil, false, fmt.Errorf("registry: model version %s does not match its identity (%s)", m.Version, v)
	}
	m.Version = v
	old, err := r.get(ctx, v)
	switch {
	case err == nil:
		if m.RunID != "" && m.RunID != old.RunID && !slices.Contains(old.Runs, m.RunID) {
			old.Runs = append(old.Runs, m.RunID)
			if err := r.put(ctx, old); err != nil {
				return nil, false, err
			}
		}
		return r.withStage(ctx, old)
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, err
	}
	if m.Artifact.Key == "" || m.Artifact.SHA256 == "" {
		return nil, false, fmt.Errorf("registry: model %s has no checksummed artifact", v)
	}
	if m.Created.IsZero() {
		m.Created = r.now().UTC()
	}
	m.Stage = ""
	if err := r.put(ctx, &m); err != nil {
		return nil, false, err
	}
	m.Stage = None
	return &m, true, nil
}

func (r *Registry) withStage(ctx context.Context, m *Model) (*Model, bool, error) {
	st, err := r.stages(ctx)
	if err != nil {
		return nil, false, err
	}
	m.Stage = st.of(m.Version)
	return m, false, nil
}

// Get returns the model with version v (or a unique prefix of it, at
// least 4 characters), with its current stage. An unknown version is an
// error wrapping store.ErrNotFound.
func (r *Registry) Get(ctx context.Context, v string) (*Model, error) {
	m, err := r.resolve(ctx, v)
	if err != nil {
		return nil, err
	}
	st, err := r.stages(ctx)
	if err != nil {
		return nil, err
	}
	m.Stage = st.of(m.Version)
	return m, nil
}

// List returns every model version with its stage, newest first.
func (r *Registry) List(ctx context.Context) ([]*Model, error) {
	recs, err := r.rec.ListRecords(ctx, KindModel, "")
	if err != nil {
		return nil, fmt.Errorf("registry: list models: %w", err)
	}
	st, err := r.stages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Model, 0, len(recs))
	for _, rec := range recs {
		m, err := decodeModel(rec)
		if err != nil {
			return nil, err
		}
		m.Stage = st.of(m.Version)
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b *Model) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out, nil
}

// Production returns the model a server should load: the version in
// production. It reads two records, whatever the size of the registry.
// With nothing in production it returns an error wrapping ErrNoProduction.
func (r *Registry) Production(ctx context.Context) (*Model, error) {
	s, err := r.slot(ctx, Production)
	if err != nil {
		return nil, err
	}
	if s.Version == "" {
		return nil, fmt.Errorf("registry: %w", ErrNoProduction)
	}
	m, err := r.get(ctx, s.Version)
	if err != nil {
		return nil, err
	}
	m.Stage = Production
	return m, nil
}

// History returns the stage changes, oldest first; with version set, only
// those of that version (or unique prefix).
func (r *Registry) History(ctx context.Context, version string) ([]Event, error) {
	if version != "" {
		m, err := r.resolve(ctx, version)
		if err != nil {
			return nil, err
		}
		version = m.Version
	}
	recs, err := r.rec.ListRecords(ctx, KindEvent, "")
	if err != nil {
		return nil, fmt.Errorf("registry: history: %w", err)
	}
	var out []Event
	for _, rec := range recs {
		var e Event
		if err := json.Unmarshal(rec.Value, &e); err != nil {
			return nil, fmt.Errorf("registry: event %s: %w", rec.Key, err)
		}
		if version == "" || e.Version == version || e.Replaced == version {
			out = append(out, e)
		}
	}
	return out, nil
}

// Lineage is where a model version came from.
type Lineage struct {
	Version     string          `json:"version"`
	RunID       string          `json:"run_id"`
	Runs        []string        `json:"runs,omitempty"`
	DatasetHash string          `json:"dataset_hash"`
	DatasetPath string          `json:"dataset_path"`
	ConfigHash  string          `json:"config_hash"`
	Config      json.RawMessage `json:"config,omitempty"`
	Seed        uint64          `json:"seed"`
	CodeVersion string          `json:"code_version"`
	Artifact    artifact.Ref    `json:"artifact"`
}

// Details is what Show returns: the model, its lineage and its history.
type Details struct {
	Model   *Model  `json:"model"`
	Lineage Lineage `json:"lineage"`
	History []Event `json:"history"`
}

// Show returns version v with its stage, lineage (model → run → dataset
// hash and config) and the stage changes that concern it.
func (r *Registry) Show(ctx context.Context, v string) (*Details, error) {
	m, err := r.Get(ctx, v)
	if err != nil {
		return nil, err
	}
	h, err := r.History(ctx, m.Version)
	if err != nil {
		return nil, err
	}
	return &Details{
		Model: m,
		Lineage: Lineage{
			Version: m.Version, RunID: m.RunID, Runs: m.Runs,
			DatasetHash: m.DatasetHash, DatasetPath: m.DatasetPath,
			ConfigHash: m.ConfigHash, Config: m.Config, Seed: m.Seed,
			CodeVersion: m.CodeVersion, Artifact: m.Artifact,
		},
		History: h,
	}, nil
}

// PromoteOptions qualify a promotion; the zero value is a plain one.
type PromoteOptions struct {
	// Force allows a non-deployable model (failed quality gates) into
	// production.
	Force bool
	// Reason is kept in the history.
	Reason string
}

// Promote moves version v (or a unique prefix) to stage:
//
//   - production: v replaces the production version, which is pushed on
//     the rollback stack (and leaves staging if it was there). A model
//     that is not deployable needs o.Force.
//   - staging: v replaces the staging version. The production version
//     cannot be staged; promote another one or roll back first.
//   - archived: v leaves staging. The production version cannot be
//     archived directly.
//
// Promoting a version to the stage it holds changes nothing and returns
// a nil event. The change takes effect with the stage record's write;
// the history event is written after it.
func (r *Registry) Promote(ctx context.Context, v string, stage Stage, o PromoteOptions) (*Event, error) {
	start := time.Now()
	if _, err := ParseStage(string(stage)); err != nil {
		return nil, err
	}
	m, err := r.resolve(ctx, v)
	if err != nil {
		return nil, err
	}
	prod, err := r.slot(ctx, Production)
	if err != nil {
		return nil, err
	}
	stg, err := r.slot(ctx, Staging)
	if err != nil {
		return nil, err
	}
	e := &Event{Action: "promote", Version: m.Version, Stage: stage, Forced: o.Force && !m.Deployable && stage == Production, Reason: o.Reason}
	switch stage {
	case Production:
		if prod.Version == m.Version {
			return nil, nil
		}
		if !m.Deployable && !o.Force {
			return nil, fmt.Errorf("registry: promote %s to production: %w", m.Version, ErrNotDeployable)
		}
		next := slot{Version: m.Version, Since: r.now().UTC()}
		if prod.Version != "" {
			next.Previous = append([]string{prod.Version}, prod.Previous...)
			next.Previous = next.Previous[:min(len(next.Previous), maxPrevious)]
		}
		if err := r.putSlot(ctx, Production, next); err != nil {
			return nil, err
		}
		e.Replaced = prod.Version
		if stg.Version == m.Version {
			if err := r.deleteSlot(ctx, Staging); err != nil {
				return nil, err
			}
		}
	case Staging:
		if stg.Version == m.Version {
			return nil, nil
		}
		if prod.Version == m.Version {
			return nil, fmt.Errorf("registry: promote %s to staging: it is in production (promote another version or roll back first)", m.Version)
		}
		if err := r.putSlot(ctx, Staging, slot{Version: m.Version, Since: r.now().UTC()}); err != nil {
			return nil, err
		}
		e.Replaced = stg.Version
	case Archived:
		st, err := r.stages(ctx)
		if err != nil {
			return nil, err
		}
		if st.of(m.Version) == Archived {
			return nil, nil
		}
		if prod.Version == m.Version {
			return nil, fmt.Errorf("registry: archive %s: it is in production (promote another version or roll back first)", m.Version)
		}
		if stg.Version == m.Version {
			if err := r.deleteSlot(ctx, Staging); err != nil {
				return nil, err
			}
		}
	}
	e.Seconds = time.Since(start).Seconds()
	return e, r.putEvent(ctx, e)
}

// Rollback puts the previous production version back into production and
// returns the event. It costs one read and two record writes (the
// production record, which is what takes effect, then the history
// event), whatever the registry's size. With no previous version it
// returns an error wrapping ErrNoPrevious.
func (r *Registry) Rollback(ctx context.Context, o PromoteOptions) (*Event, error) {
	start := time.Now()
	prod, err := r.slot(ctx, Production)
	if err != nil {
		return nil, err
	}
	if prod.Version == "" {
		return nil, fmt.Errorf("registry: rollback: %w", ErrNoProduction)
	}
	if len(prod.Previous) == 0 {
		return nil, fmt.Errorf("registry: rollback from %s: %w", prod.Version, ErrNoPrevious)
	}
	next := slot{Version: prod.Previous[0], Since: r.now().UTC(), Previous: prod.Previous[1:]}
	if err := r.putSlot(ctx, Production, next); err != nil {
		return nil, err
	}
	e := &Event{Action: "rollback", Version: next.Version, Stage: Production, Replaced: prod.Version, Reason: o.Reason, Seconds: time.Since(start).Seconds()}
	return e, r.putEvent(ctx, e)
}

// stageSet is the current holders of the stages and every version the
// history mentions, from which each model's stage is derived.
type stageSet struct {
	production, staging string
	seen                map[string]bool
}

func (s stageSet) of(v string) Stage {
	switch {
	case v == s.production:
		return Production
	case v == s.staging:
		return Staging
	case s.seen[v]:
		return Archived
	}
	return None
}

func (r *Registry) stages(ctx context.Context) (stageSet, error) {
	prod, err := r.slot(ctx, Production)
	if err != nil {
		return stageSet{}, err
	}
	stg, err := r.slot(ctx, Staging)
	if err != nil {
		return stageSet{}, err
	}
	h, err := r.History(ctx, "")
	if err != nil {
		return stageSet{}, err
	}
	s := stageSet{production: prod.Version, staging: stg.Version, seen: map[string]bool{}}
	for _, e := range h {
		s.seen[e.Version] = true
		if e.Replaced != "" {
			s.seen[e.Replaced] = true
		}
	}
	return s, nil
}

// resolve finds the model of version v or a unique prefix of it.
func (r *Registry) resolve(ctx context.Context, v string) (*Model, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, fmt.Errorf("registry: empty model version: %w", store.ErrNotFound)
	}
	m, err := r.get(ctx, v)
	if err == nil || !errors.Is(err, store.ErrNotFound) || len(v) < 4 {
		return m, err
	}
	recs, lerr := r.rec.ListRecords(ctx, KindModel, v)
	if lerr != nil {
		return nil, fmt.Errorf("registry: model version %q: %w", v, lerr)
	}
	switch len(recs) {
	case 0:
		return nil, err
	case 1:
		return decodeModel(recs[0])
	}
	return nil, fmt.Errorf("registry: model version %q matches %d versions: %w", v, len(recs), ErrAmbiguous)
}

func (r *Registry) get(ctx context.Context, v string) (*Model, error) {
	rec, err := r.rec.GetRecord(ctx, KindModel, v)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("registry: unknown model version %q: %w", v, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: model version %q: %w", v, err)
	}
	return decodeModel(rec)
}

func decodeModel(rec *store.Record) (*Model, error) {
	var m Model
	if err := json.Unmarshal(rec.Value, &m); err != nil {
		return nil, fmt.Errorf("registry: model record %s: %w", rec.Key, err)
	}
	return &m, nil
}

func (r *Registry) put(ctx context.Context, m *Model) error {
	stored := *m
	stored.Stage = "" // derived on read, never stored
	b, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("registry: encode model %s: %w", m.Version, err)
	}
	if err := r.rec.PutRecord(ctx, KindModel, m.Version, b); err != nil {
		return fmt.Errorf("registry: save model %s: %w", m.Version, err)
	}
	return nil
}

// slot reads a stage record; a missing one is an empty stage.
func (r *Registry) slot(ctx context.Context, st Stage) (slot, error) {
	rec, err := r.rec.GetRecord(ctx, KindStage, string(st))
	if errors.Is(err, store.ErrNotFound) {
		return slot{}, nil
	}
	if err != nil {
		return slot{}, fmt.Errorf("registry: read %s: %w", st, err)
	}
	var s slot
	if err := json.Unmarshal(rec.Value, &s); err != nil {
		return slot{}, fmt.Errorf("registry: %s record: %w", st, err)
	}
	return s, nil
}

func (r *Registry) putSlot(ctx context.Context, st Stage, s slot) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("registry: encode %s: %w", st, err)
	}
	if err := r.rec.PutRecord(ctx, KindStage, string(st), b); err != nil {
		return fmt.Errorf("registry: set %s to %s: %w", st, s.Version, err)
	}
	return nil
}

func (r *Registry) deleteSlot(ctx context.Context, st Stage) error {
	if err := r.rec.DeleteRecord(ctx, KindStage, string(st)); err != nil {
		return fmt.Errorf("registry: clear %s: %w", st, err)
	}
	return nil
}

// putEvent appends e to the history. Keys sort by time (zero-padded Unix
// nanoseconds), then version and stage, so two processes writing in the
// same nanosecond do not overwrite each other's events.
func (r *Registry) putEvent(ctx context.Context, e *Event) error {
	e.Time = r.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("registry: encode event: %w", err)
	}
	key := fmt.Sprintf("%020d/%s/%s/%s", e.Time.UnixNano(), e.Version, e.Stage, e.Action)
	if err := r.rec.PutRecord(ctx, KindEvent, key, b); err != nil {
		return fmt.Errorf("registry: %s %s to %s took effect but its history event was not saved: %w", e.Action, e.Version, e.Stage, err)
	}
	return nil
}
