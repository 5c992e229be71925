package pipeline

import (
	"context"
	"errors"
	"fmt"
	"github.com/tabforge/tabforge/store/storetest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// TestRegisterRun trains a small model, registers it, loads it back from
// the artifact bucket, and checks that retraining the same identity
// reuses the version while a corrupted artifact is refused.
func TestRegisterRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, arts := storetest.Local(t, dir)
	reg := registry.New(st)

	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "mlc_churn.csv"), "churn"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	res, err := Train(ctx, cfg, Options{Runs: st})
	if err != nil {
		t.Fatal(err)
	}
	m, created, err := Register(ctx, reg, arts, cfg, res, "test-code")
	if err != nil || !created {
		t.Fatalf("Register = %v, %v", created, err)
	}
	wantID, _ := registry.ID("mlc_churn", registry.Identity{DatasetHash: res.DatasetHash, ConfigHash: cfg.Hash(), Seed: cfg.Seed, CodeVersion: "test-code"})
	if m.Version != wantID || m.Name != "mlc_churn" || m.RunID != res.RunID || m.Family != "logistic" || m.DatasetPath != AbsPath(cfg.Data) ||
		!m.Deployable || m.Metrics["auc"] == 0 || m.Stage != registry.None || !strings.HasPrefix(m.Artifact.Key, "models/"+m.Version+"/") {
		t.Errorf("registered %+v", m)
	}
	// The run the lineage points at is in the store, with the same data and config.
	run, err := st.GetRun(ctx, m.RunID)
	if err != nil || run.DatasetHash != m.DatasetHash || run.ConfigHash != m.ConfigHash {
		t.Errorf("lineage run = %+v, %v", run, err)
	}

	// The registered artifact predicts exactly like the file train saved.
	fromReg, err := LoadRegistered(ctx, arts, m)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	x, err := frame.ReadFile(cfg.Data, frame.ReadOptions{Schema: fromFile.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fromReg.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromFile.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Values) == 0 || len(a.Values) != len(b.Values) {
		t.Fatalf("predictions: %d from registry, %d from file", len(a.Values), len(b.Values))
	}
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			t.Fatalf("prediction %d: %v from registry, %v from file", i, a.Values[i], b.Values[i])
		}
	}

	// Same data, config, seed and code: same version, first record kept.
	res2, err := Train(ctx, cfg, Options{Runs: st})
	if err != nil {
		t.Fatal(err)
	}
	m2, created, err := Register(ctx, reg, arts, cfg, res2, "test-code")
	if err != nil || created || m2.Version != m.Version || m2.Artifact != m.Artifact || len(m2.Runs) != 1 || m2.Runs[0] != res2.RunID {
		t.Errorf("re-Register = %+v, %v, %v", m2, created, err)
	}
	// A new code version is a new model version.
	m3, created, err := Register(ctx, reg, arts, cfg, res2, "other-code")
	if err != nil || !created || m3.Version == m.Version {
		t.Errorf("Register with new code = %+v, %v, %v", m3, created, err)
	}

	// Corrupt the stored artifact: loading it is a checksum error.
	p := filepath.Join(dir, "artifacts", filepath.FromSlash(m.Artifact.Key))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *artifact.ChecksumError
	if _, err := LoadRegistered(ctx, arts, m); !errors.As(err, &ce) {
		t.Errorf("LoadRegistered(corrupt) error = %v; want *artifact.ChecksumError", err)
	}
}

// TestLoadModelDirectory: a run's directory given for its model file is
// named as a directory, with the file to give instead, before any store
// is opened; it was "no such file, and not a registered model".
func TestLoadModelDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ModelFile), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	noStore := func(context.Context) (*registry.Registry, error) {
		t.Error("a run directory opened the registry")
		return nil, errors.New("no store")
	}
	_, _, err := LoadModel(context.Background(), dir, noStore)
	if err == nil || !strings.Contains(err.Error(), "is a directory") || !strings.Contains(err.Error(), filepath.Join(dir, ModelFile)) {
		t.Errorf("LoadModel(directory) = %v; want it named a directory, with %s to give", err, filepath.Join(dir, ModelFile))
	}
	// Any other directory, say one named like a version prefix, leaves
	// the reference to the registry.
	other := t.TempDir()
	opened := false
	registryOnly := func(context.Context) (*registry.Registry, error) {
		opened = true
		return nil, errors.New("no store")
	}
	if _, _, err := LoadModel(context.Background(), other, registryOnly); err == nil || !opened {
		t.Errorf("LoadModel(a directory without a model) = %v, registry opened %v; want the registry asked", err, opened)
	}
}

// TestRegisterArtifact: the artifact put for a new version is removed
// when its registration does not take it, and only then: refused by a
// lost lease before the version was written, or finding the version
// registered meanwhile with another process's artifact. It stays when
// the version references it (registered, or written before a lease lost
// at its name), and when the registration failed otherwise: that write
// may have landed.
func TestRegisterArtifact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, arts := storetest.Local(t, dir)
	reg := registry.New(st)
	lost := &store.LostError{Kind: store.LeaseKind, Key: "run", Token: 1, Current: 2}
	for i, tc := range []struct {
		name     string
		register func(rm registry.Model) (*registry.Model, bool, error)
		kept     bool
		fails    bool
	}{
		{"registered", func(rm registry.Model) (*registry.Model, bool, error) { return reg.Register(ctx, rm) }, true, false},
		{"refused, lease lost", func(rm registry.Model) (*registry.Model, bool, error) { return nil, false, lost }, false, true},
		{"registered meanwhile by another", func(rm registry.Model) (*registry.Model, bool, error) {
			other := rm
			other.Artifact.Key += ".other"
			if _, _, err := reg.Register(ctx, other); err != nil {
				return nil, false, err
			}
			return reg.Register(ctx, rm)
		}, false, false},
		{"lease lost after the version was written", func(rm registry.Model) (*registry.Model, bool, error) {
			if _, _, err := reg.Register(ctx, rm); err != nil {
				return nil, false, err
			}
			return nil, false, fmt.Errorf("name: %w", lost)
		}, true, true},
		{"failed otherwise", func(rm registry.Model) (*registry.Model, bool, error) {
			return nil, false, errors.New("connection reset")
		}, true, true},
	} {
		id := registry.Identity{DatasetHash: fmt.Sprint("data", i), ConfigHash: "c", CodeVersion: "test"}
		version, err := registry.ID("m", id)
		if err != nil {
			t.Fatal(err)
		}
		var key string
		_, _, err = RegisterArtifact(ctx, reg, arts, version, []byte("model "+tc.name), func(ref artifact.Ref) (*registry.Model, bool, error) {
			key = ref.Key
			return tc.register(registry.Model{Name: "m", Version: version, Identity: id, Artifact: ref})
		})
		if (err != nil) != tc.fails {
			t.Errorf("%s: RegisterArtifact = %v; want failed %v", tc.name, err, tc.fails)
		}
		if ok, err := arts.Exists(ctx, key); err != nil || ok != tc.kept {
			t.Errorf("%s: artifact %s exists %v, %v; want %v", tc.name, key, ok, err, tc.kept)
		}
	}
}
