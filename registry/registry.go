// Package registry owns tabforge's model versions, grouped under
// registered model names as in MLflow's model registry: a name (say
// "churn" or "ames") has versions; each version has an identity (a hash of
// its name, the dataset version, the config, the seed and the code
// version), lineage back to the run, data and config that made it, and a
// stage (none, staging, production, archived). Stages and free aliases
// ("champion", "challenger", ...) are per name, so promoting the churn
// model never touches the house-price model, and rollback stays within a
// name. Resolve turns a model reference (NAME@production, NAME@ALIAS,
// NAME/VERSION, a bare version prefix) into a version.
//
// All state lives in a store.Swapper, a keyed record space (so any store
// backend, its failover and its export/import carry the registry along)
// under these kinds:
//
//	registry.model  version → Model (immutable once written, but for Runs)
//	registry.versions NAME/CREATED/VERSION → version: each name's
//	                versions in time order, for pages of the newest
//	registry.name   name → its stages (production with its rollback stack,
//	                staging) and aliases, in one record
//	registry.event  time-ordered key → Event (the history of every name)
//	registry.summary name → what its history says (Summary: the versions
//	                that held a stage, retrain decisions), kept up to
//	                date with every event so the history need not be read
//	registry.meta   "layout" → the layout version Migrate brought it to
//
// A name's record is the single source of truth for who holds its stages
// and aliases: a promotion, a rollback or an alias change takes effect
// with one record write. It also holds the name's traffic route (A/B
// weights, shadow versions; see Route and Plan). A model's Stage
// and Aliases are derived from it (and from the name's Summary, for
// archived) when the model is read.
//
// Stores written before names existed (one production and one staging
// record for the whole store, kind registry.stage) are migrated by Open.
//
// A name's record is changed by compare-and-swap (store.Swapper): two
// processes changing the same name at the same moment both take effect,
// one after the other, and the history holds both events, each naming
// the state it replaced. Changes to different names never interfere.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/store"
)

// Record kinds of the registry in its store.Swapper.
const (
	KindModel = "registry.model"
	KindName  = "registry.name"
	KindEvent = "registry.event"
	// KindStage is the single-slot layout of stores written before names
	// existed; Open migrates it to KindName records and removes it.
	KindStage = "registry.stage"
)

// Stage is where a model version stands within its name.
type Stage string

// Stages. A version is in production or staging while its name's record
// says so; archived once it held a stage (or was archived explicitly) and
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
	// gates into production without Force; the error Promote returns
	// is a *NotDeployableError, which names the version.
	ErrNotDeployable = errors.New("model is not deployable (it failed its quality gates)")
	// ErrNoPrevious reports a rollback with no earlier production version.
	ErrNoPrevious = errors.New("no previous production version to roll back to")
	// ErrNoProduction reports that no version of a name is in production.
	ErrNoProduction = errors.New("no model version is in production")
	// ErrNoStaging reports that no version of a name is in staging.
	ErrNoStaging = errors.New("no model version is in staging")
	// ErrAmbiguous reports a version prefix matching several versions.
	ErrAmbiguous = errors.New("ambiguous model version prefix")
	// ErrUnknownName reports a model name with no registered version.
	ErrUnknownName = errors.New("unknown model name")
	// ErrUnknownAlias reports an alias a name does not have.
	ErrUnknownAlias = errors.New("unknown alias")
	// ErrBadRoute reports a route SetRoute refuses for what it asks: a
	// weight out of range, a split of no weight, a key with no split, a
	// shadow of a version that serves the traffic.
	ErrBadRoute = errors.New("bad route")
	// ErrInProduction refuses to move a name's production version to
	// staging or archived: the name would be left without one.
	ErrInProduction = errors.New("production version (promote another version or roll back first)")
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

// ID returns the version of a model registered under name with identity
// id: 16 hex digits of a SHA-256 over the name and the identity's fields,
// so the same training registered under two names gives two versions. An
// empty name gives the ids of versions registered before names existed.
// It fails if a field that identifies the model is empty.
func ID(name string, id Identity) (string, error) {
	if id.DatasetHash == "" || id.ConfigHash == "" || id.CodeVersion == "" {
		return "", fmt.Errorf("registry: model identity needs a dataset hash, a config hash and a code version (got %+v)", id)
	}
	h := sha256.New()
	parts := []string{idVersion, id.DatasetHash, id.ConfigHash, strconv.FormatUint(id.Seed, 10), id.CodeVersion}
	if name != "" {
		parts = append(parts, "name", name)
	}
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Model is one registered model version and its lineage.
type Model struct {
	Version string `json:"version"`
	// Name is the registered model name the version belongs to.
	Name string `json:"name"`
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
	Metrics eval.Metrics `json:"metrics,omitempty"`
	CV      eval.Metrics `json:"cv,omitempty"`
	// Artifact is where the saved model lives and its checksum.
	Artifact artifact.Ref `json:"artifact"`
	Created  time.Time    `json:"created"`
	// Deployable is false when the model failed a quality gate; it then
	// needs Force to enter production.
	Deployable bool `json:"deployable"`

	// Stage and Aliases are derived when the model is read; they are not
	// stored.
	Stage   Stage    `json:"stage,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
}

// Event is one change of stage or alias within a name, kept in the
// history.
type Event struct {
	Time time.Time `json:"time"`
	Name string    `json:"name"`
	// Action is "promote", "rollback", "alias" (Alias now points at
	// Version), "unalias" (Alias, which pointed at Version, is gone) or
	// "route" (the traffic route changed; Reason describes it, Version is
	// the production version then).
	Action  string `json:"action"`
	Version string `json:"version"`
	Stage   Stage  `json:"stage,omitempty"` // the stage Version entered
	Alias   string `json:"alias,omitempty"`
	// Replaced is the version that held Stage (or Alias) before, if any.
	Replaced string `json:"replaced,omitempty"`
	// Parent is the version Version was retrained from (Action
	// "retrain", see Record).
	Parent string `json:"parent,omitempty"`
	Forced bool   `json:"forced,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Seconds is how long the change took to take effect, from the start
	// of the call to the name record's write.
	Seconds float64 `json:"seconds"`
}

// Registry is the model registry on a record store. It holds no state of
// its own: several Registries (and processes) may share one store.
type Registry struct {
	rec store.Swapper
	now func() time.Time
	// fences are the leases its writes are made under (see Fenced).
	fences []store.Fence
}

// New returns a registry keeping its state in rec, which must already be
// in the current layout (empty, or opened once with Open).
func New(rec store.Swapper) *Registry { return &Registry{rec: rec, now: time.Now} }

// Open returns a registry keeping its state in rec, first migrating a
// store that does not record the current layout (see Migrate). On a
// store that does, it reads that one record, whatever the number of
// versions and events: every command that takes a model opens the
// registry. A store recording a later layout than LayoutVersion, which a
// newer tabforge migrated, is refused with an error wrapping
// formatversion.ErrNewer: this build would read its records by older
// rules and write them without the newer layout's bookkeeping.
func Open(ctx context.Context, rec store.Swapper) (*Registry, error) {
	r := New(rec)
	v, _, err := r.layout(ctx)
	if err != nil {
		return nil, err
	}
	if v > LayoutVersion {
		return nil, fmt.Errorf("registry: the store's %w", formatversion.Check("registry layout", v, 1, LayoutVersion))
	}
	if v < LayoutVersion {
		if _, err := r.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register records m as a new version of m.Name (which must pass
// CheckName). m.Version is computed from the name and m.Identity (a
// version given in m must match it). If the version exists already, the
// stored record is kept and only m.RunID is appended to its Runs: a
// version is immutable, so a server never sees its artifact change.
// Register returns the stored model and whether it was new.
func (r *Registry) Register(ctx context.Context, m Model) (*Model, bool, error) {
	if err := CheckName(m.Name); err != nil {
		return nil, false, err
	}
	v, err := ID(m.Name, m.Identity)
	if err != nil {
		return nil, false, err
	}
	if m.Version != "" && m.Version != v {
		return nil, false, fmt.Errorf("registry: model version %s does not match its name and identity (%s)", m.Version, v)
	}
	m.Version = v
	// Runs registering one version at once (from two processes) must
	// create it once and each join its lineage: the record is created
	// only where there is none and extended only over the value read.
	for range maxSwaps {
		rec, err := r.rec.GetRecord(ctx, KindModel, v)
		if errors.Is(err, store.ErrNotFound) {
			created, err := r.create(ctx, &m)
			if err != nil {
				return nil, false, err
			}
			if created {
				return &m, true, nil
			}
			continue // another run created it meanwhile
		}
		if err != nil {
			return nil, false, fmt.Errorf("registry: model version %q: %w", v, err)
		}
		old, err := decodeModel(rec)
		if err != nil {
			return nil, false, err
		}
		if m.RunID != "" && m.RunID != old.RunID && !slices.Contains(old.Runs, m.RunID) {
			old.Runs = append(old.Runs, m.RunID)
			b, err := encodeModel(old)
			if err != nil {
				return nil, false, err
			}
			b = keepUnknown(rec.Value, b, reflect.TypeFor[Model]())
			if ok, err := r.swap(ctx, KindModel, v, rec.Value, b); err != nil || !ok {
				if err != nil {
					return nil, false, fmt.Errorf("registry: save model %s: %w", v, err)
				}
				continue
			}
		}
		// Written again so that a registration cut short between the
		// model record and its index entry is finished by the next.
		if err := r.indexVersion(ctx, old); err != nil {
			return nil, false, err
		}
		return old, false, r.derive(ctx, old)
	}
	return nil, false, fmt.Errorf("registry: model version %s: its record changed under each of %d attempts to register run %s; try again", v, maxSwaps, m.RunID)
}

// create writes m as a new version of its name unless the version exists
// (then it reports false and writes nothing).
func (r *Registry) create(ctx context.Context, m *Model) (bool, error) {
	if m.Artifact.Key == "" || m.Artifact.SHA256 == "" {
		return false, fmt.Errorf("registry: model %s has no checksummed artifact", m.Version)
	}
	if m.Created.IsZero() {
		m.Created = r.now().UTC()
	}
	b, err := encodeModel(m)
	if err != nil {
		return false, err
	}
	created, err := r.swap(ctx, KindModel, m.Version, nil, b)
	if err != nil {
		return false, fmt.Errorf("registry: save model %s: %w", m.Version, err)
	}
	if !created {
		return false, nil
	}
	if _, err := r.ensureName(ctx, m.Name); err != nil {
		return true, err
	}
	if err := r.indexVersion(ctx, m); err != nil {
		return true, err
	}
	m.Stage, m.Aliases = None, nil
	return true, nil
}

// Get returns the model with version v (or a unique prefix of it, at
// least 4 characters), with its current stage and aliases. An unknown
// version is an error wrapping store.ErrNotFound. Resolve takes every
// form of model reference.
func (r *Registry) Get(ctx context.Context, v string) (*Model, error) {
	m, err := r.resolveVersion(ctx, v)
	if err != nil {
		return nil, err
	}
	return m, r.derive(ctx, m)
}

// List returns every model version with its stage and aliases, grouped
// by name (names in order) and newest first within a name. With name set,
// only that name's versions; an unknown name is an error wrapping
// ErrUnknownName.
func (r *Registry) List(ctx context.Context, name string) ([]*Model, error) {
	recs, err := r.rec.ListRecords(ctx, KindModel, "")
	if err != nil {
		return nil, fmt.Errorf("registry: list models: %w", err)
	}
	st, err := r.stages(ctx, true)
	if err != nil {
		return nil, err
	}
	if name != "" && st.names[name] == nil {
		return nil, r.unknownName(ctx, name) // listing the names, as every other unknown name does
	}
	out := make([]*Model, 0, len(recs))
	for _, rec := range recs {
		m, err := decodeModel(rec)
		if err != nil {
			return nil, err
		}
		if name != "" && m.Name != name {
			continue
		}
		st.derive(m)
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b *Model) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out, nil
}

// Lineage is where a model version came from.
type Lineage struct {
	Version     string          `json:"version"`
	Name        string          `json:"name"`
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
	// History is the newest ShowHistory changes that concern the model,
	// oldest first; OlderHistory says there are older ones (HistoryWith
	// reads them).
	History      []Event `json:"history"`
	OlderHistory bool    `json:"older_history,omitempty"`
}

// ShowHistory is how many of a version's newest changes Show returns: a
// production version swapped in and out every five minutes for a year
// is in 100,000 of them.
const ShowHistory = 20

// Show returns the version ref resolves to (see Resolve) with its stage,
// aliases, lineage (model → run → dataset hash and config) and the
// newest ShowHistory changes that concern it.
func (r *Registry) Show(ctx context.Context, ref string) (*Details, error) {
	m, err := r.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	h, err := r.events(ctx, eventFilter{version: m.Version}, HistoryQuery{Limit: ShowHistory + 1})
	if err != nil {
		return nil, err
	}
	older := len(h) > ShowHistory
	if older {
		h = h[1:]
	}
	return &Details{
		Model: m,
		Lineage: Lineage{
			Version: m.Version, Name: m.Name, RunID: m.RunID, Runs: m.Runs,
			DatasetHash: m.DatasetHash, DatasetPath: m.DatasetPath,
			ConfigHash: m.ConfigHash, Config: m.Config, Seed: m.Seed,
			CodeVersion: m.CodeVersion, Artifact: m.Artifact,
		},
		History:      h,
		OlderHistory: older,
	}, nil
}

// resolveVersion finds the model of version v or a unique prefix of it.
func (r *Registry) resolveVersion(ctx context.Context, v string) (*Model, error) {
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
		return nil, r.Missing(fmt.Errorf("registry: unknown model version %q: %w", v, store.ErrNotFound), "versions")
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
	b, err := encodeModel(m)
	if err != nil {
		return err
	}
	if err := r.rec.PutRecord(ctx, KindModel, m.Version, b); err != nil {
		return fmt.Errorf("registry: save model %s: %w", m.Version, err)
	}
	return nil
}

// encodeModel is m's stored form, without its stage and aliases, which
// are derived on read.
func encodeModel(m *Model) ([]byte, error) {
	stored := *m
	stored.Stage, stored.Aliases = "", nil
	b, err := json.Marshal(stored)
	if err != nil {
		return nil, fmt.Errorf("registry: encode model %s: %w", m.Version, err)
	}
	return b, nil
}
