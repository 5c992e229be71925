package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// Registrar records a finished run's saved model as a version of its
// registered name, deployable or not, and reports whether the version is
// new. fence, when not nil, is the run's lease: a run that stalled past
// it while another process took the run over registers nothing, and
// Register fails with an error wrapping store.ErrLeaseLost.
type Registrar interface {
	Register(ctx context.Context, cfg *config.Config, res *Result, fence *store.Fence) (*registry.Model, bool, error)
}

// StoreRegistrar is the Registrar of a registry whose artifacts live in
// an artifact store (see Register).
type StoreRegistrar struct {
	Registry    *registry.Registry
	Artifacts   *artifact.Store
	CodeVersion string
}

// Register calls the package's Register with s's registry, fenced by
// fence when it is not nil (see registry.Registry.Fenced), and
// artifacts.
func (s StoreRegistrar) Register(ctx context.Context, cfg *config.Config, res *Result, fence *store.Fence) (*registry.Model, bool, error) {
	reg := s.Registry
	if fence != nil {
		reg = reg.Fenced(*fence)
	}
	return Register(ctx, reg, s.Artifacts, cfg, res, s.CodeVersion)
}

// Register records the best model of a finished run as a version of the
// registered name ModelName(cfg): its id is the hash of (name, dataset
// version, config hash, seed, codeVersion),
// its file is copied into arts under models/VERSION/, and its record keeps
// the run, data and config it came from. A run that failed its quality
// gates registers a non-deployable version. A version trained before
// (same identity) keeps its first artifact and record and gains the run
// in its Runs; created reports which happened.
func Register(ctx context.Context, reg *registry.Registry, arts *artifact.Store, cfg *config.Config, res *Result, codeVersion string) (m *registry.Model, created bool, err error) {
	if res == nil || res.Best == "" || res.ModelPath == "" {
		return nil, false, errors.New("register: the run saved no model")
	}
	name := ModelName(cfg)
	if err := registry.CheckName(name); err != nil {
		return nil, false, fmt.Errorf("register run %s: %w", res.RunID, err)
	}
	id := registry.Identity{DatasetHash: res.DatasetHash, ConfigHash: cfg.Hash(), Seed: cfg.Seed, CodeVersion: codeVersion}
	version, err := registry.ID(name, id)
	if err != nil {
		return nil, false, fmt.Errorf("register run %s: %w", res.RunID, err)
	}
	rm := registry.Model{Version: version, Name: name, Identity: id, RunID: res.RunID}
	if _, err := reg.Get(ctx, version); err == nil {
		return reg.Register(ctx, rm)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, fmt.Errorf("register run %s: %w", res.RunID, err)
	}

	data, err := os.ReadFile(res.ModelPath)
	if err != nil {
		return nil, false, fmt.Errorf("register run %s: %w", res.RunID, err)
	}
	cfgJSON, err := json.Marshal(cfg.Redacted())
	if err != nil {
		return nil, false, fmt.Errorf("register run %s: encode config: %w", res.RunID, err)
	}
	rm.DatasetPath, rm.Config = AbsPath(cfg.Data), cfgJSON
	rm.Task, rm.Target, rm.Family = string(res.Task), res.Target, res.Best
	rm.Deployable = res.Deployable
	// The best model heads the leaderboard; search by name in case an
	// ensemble or a fallback put it elsewhere.
	for i, e := range res.Leaderboard {
		if e.Model == res.Best || (i == 0 && rm.Metrics == nil) {
			rm.Metrics, rm.CV = e.Test, e.CV
		}
		if e.Model == res.Best {
			break
		}
	}
	m, created, err = RegisterArtifact(ctx, reg, arts, version, data, func(ref artifact.Ref) (*registry.Model, bool, error) {
		rm.Artifact = ref
		return reg.Register(ctx, rm)
	})
	if err != nil {
		return nil, false, fmt.Errorf("register run %s: %w", res.RunID, err)
	}
	return m, created, nil
}

// RegisterArtifact puts data into arts as the artifact of a new model
// version, then calls register with its Ref to record the version in reg
// and returns what register does. The artifact's key is its own: the
// version, the content's hash (so two stores sharing a bucket never
// overwrite each other's bytes under one version) and a random suffix,
// models/VERSION/SHA-NONCE.tfm. No other registration can take it, so a
// registration that does not is removed with certainty that no version
// references it: one refused because its lease was lost (a stale
// process's), and one that found the version registered meanwhile by
// another process, with that process's artifact. A file no version
// references would otherwise stay: housekeeping removes only the
// artifacts of the versions it removes.
func RegisterArtifact(ctx context.Context, reg *registry.Registry, arts *artifact.Store, version string, data []byte,
	register func(ref artifact.Ref) (*registry.Model, bool, error)) (*registry.Model, bool, error) {
	sum := sha256.Sum256(data)
	nonce := make([]byte, 4)
	rand.Read(nonce) // never fails (crypto/rand)
	ref, err := arts.Put(ctx, fmt.Sprintf("models/%s/%s-%s.tfm", version, hex.EncodeToString(sum[:8]), hex.EncodeToString(nonce)), data)
	if err != nil {
		return nil, false, err
	}
	m, created, err := register(ref)
	// Removed even when ctx ended: a lost lease cancels the run's.
	cctx := context.WithoutCancel(ctx)
	if unreferenced(cctx, reg, version, ref, m, created, err) {
		if derr := arts.Delete(cctx, ref.Key); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove the unregistered artifact: %w", derr))
		}
	}
	return m, created, err
}

// unreferenced reports whether no version references ref after a
// registration of version that returned m, created and err, and none
// ever will. An error other than a lost lease leaves that unknown (a
// write reported failed may have landed), so ref is kept.
func unreferenced(ctx context.Context, reg *registry.Registry, version string, ref artifact.Ref, m *registry.Model, created bool, err error) bool {
	switch {
	case err == nil:
		return !created && m.Artifact.Key != ref.Key
	case !errors.Is(err, store.ErrLeaseLost):
		return false
	}
	// The version's record is written first and its name after: a lease
	// lost in between leaves a version that references ref.
	v, gerr := reg.Get(ctx, version)
	if errors.Is(gerr, store.ErrNotFound) {
		return true
	}
	return gerr == nil && v.Artifact.Key != ref.Key
}

// ModelName is the registered model name a run of cfg registers under:
// cfg.Name, or else the stem of the data file (registry.NameFromPath).
func ModelName(cfg *config.Config) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	return registry.NameFromPath(cfg.Data)
}

// ModelFile is the name of the model file train saves in its run's
// directory.
const ModelFile = "model.tfm"

// LoadModel loads the model ref names: the saved model file at path ref
// when one exists, else the registered version ref resolves to (see
// registry.Registry.Resolve: NAME@production, NAME@staging, NAME@ALIAS,
// NAME/VERSION or a version prefix), read from its artifact store with its
// checksum verified. openRegistry is called only for a registry
// reference, so a file needs no store. The model version is nil for a
// file.
func LoadModel(ctx context.Context, ref string, openRegistry func(context.Context) (*registry.Registry, error)) (*Predictor, *registry.Model, error) {
	if fi, err := os.Stat(ref); err == nil && fi.Mode().IsRegular() {
		p, err := LoadPredictor(ref, Families())
		return p, nil, err
	} else if err == nil && fi.IsDir() {
		// A run's directory is an easy slip for its model file; "no such
		// file" would send the user looking for a missing path. Any other
		// directory (one named like a version prefix, "cafe") does not
		// hide the registry.
		if inside := filepath.Join(ref, ModelFile); isFile(inside) {
			return nil, nil, fmt.Errorf("model %q is a directory: give the model file, %s", ref, inside)
		}
	}
	if strings.TrimSpace(ref) == "" {
		return nil, nil, errors.New("no model given: want a model file or a reference NAME@production, NAME@ALIAS, NAME/VERSION or VERSION")
	}
	// A ref that looks like a path is more likely a mistyped file than a
	// version: say both, whether the registry lacks it or cannot be read.
	notFile := func(err error) error {
		if strings.ContainsAny(ref, `./\`) && !strings.Contains(ref, "@") {
			return fmt.Errorf("model %q: no such file, and not a registered model: %w", ref, err)
		}
		return err
	}
	reg, err := openRegistry(ctx)
	if err != nil {
		return nil, nil, notFile(err)
	}
	m, err := reg.Resolve(ctx, ref)
	if err != nil {
		return nil, nil, notFile(err)
	}
	p, err := LoadVersion(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	return p, m, nil
}

// LoadVersion loads registered version m from the artifact store its
// record names, verifying the checksum, and checks that the predictor is
// what the record says: its task, with inputs.
func LoadVersion(ctx context.Context, m *registry.Model) (*Predictor, error) {
	arts, err := artifact.Open(ctx, m.Artifact.URL)
	if err != nil {
		return nil, fmt.Errorf("model version %s: %w", m.Version, err)
	}
	defer arts.Close()
	p, err := LoadRegistered(ctx, arts, m)
	if err != nil {
		return nil, err
	}
	if string(p.Target.Task) != m.Task || len(p.Schema) == 0 {
		return nil, fmt.Errorf("model version %s: artifact is a %s model of %d inputs, the registry says %s", m.Version, p.Target.Task, len(p.Schema), m.Task)
	}
	return p, nil
}

// CheckLoads is a registry.PromoteOptions.Check: the version must load
// (LoadVersion) before it serves.
func CheckLoads(ctx context.Context, m *registry.Model) error {
	_, err := LoadVersion(ctx, m)
	return err
}

// LoadRegistered reads the saved predictor of a registered model version
// from arts, verifying the artifact's checksum, and loads it.
func LoadRegistered(ctx context.Context, arts *artifact.Store, m *registry.Model) (*Predictor, error) {
	data, err := arts.Load(ctx, m.Artifact)
	if err != nil {
		return nil, fmt.Errorf("model version %s: %w", m.Version, err)
	}
	kind, payload, err := model.DecodeEnvelope(data)
	if err == nil && kind != PredictorKind {
		err = fmt.Errorf("%w: %q, want %q", model.ErrWrongKind, kind, PredictorKind)
	}
	if err != nil {
		return nil, fmt.Errorf("model version %s: %w", m.Version, err)
	}
	p, err := decodePredictor(payload, Families())
	if err != nil {
		return nil, fmt.Errorf("model version %s: %w", m.Version, err)
	}
	return p, nil
}

// isFile reports whether path names a regular file.
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
