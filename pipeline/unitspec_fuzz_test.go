package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/split"
	"github.com/tabforge/tabforge/store/storetest"
)

// unitRecorder runs units in this process and keeps what a worker
// would receive: each unit's key, kind and spec, its result, and the
// artifacts shared with the workers. It reports a worker of its own, so
// that the driver decodes every result as it does a worker's.
type unitRecorder struct {
	mu        sync.Mutex
	units     []Unit
	results   [][]byte
	artifacts map[string][]byte
}

func (r *unitRecorder) ShareArtifact(_ context.Context, hash string, b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.artifacts == nil {
		r.artifacts = map[string][]byte{}
	}
	r.artifacts[hash] = slices.Clone(b)
	return nil
}

func (r *unitRecorder) Execute(ctx context.Context, units []Unit, done func(int, UnitResult) error) error {
	for i, u := range units {
		b, err := u.Run(ctx)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.units, r.results = append(r.units, u), append(r.results, b)
		r.mu.Unlock()
		if err := done(i, UnitResult{Value: b, Worker: "recorded"}); err != nil {
			return err
		}
	}
	return nil
}

// recordedUnits trains a small run on credit data through a
// unitRecorder, recording it in a fresh store, and returns a worker's
// UnitRunner on that store with the units the driver sent.
func recordedUnits(tb testing.TB) (*UnitRunner, *unitRecorder) {
	tb.Helper()
	st := storetest.SQLite(tb)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{"logistic", "tree"}
	cfg.CVFolds, cfg.Out, cfg.Cache, cfg.ForceProductionQuality, cfg.EnableAdvancedEnsemble = 3, tb.TempDir(), false, false, true
	ex := &unitRecorder{}
	if _, err := Train(context.Background(), cfg, Options{Runs: st, Executor: ex}); err != nil {
		tb.Fatal(err)
	}
	u := &UnitRunner{Runs: st, Artifact: func(_ context.Context, hash string) ([]byte, error) {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		if b, ok := ex.artifacts[hash]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("no artifact %s", hash)
	}}
	return u, ex
}

// unitsOf returns the recorded units of kind, at least one.
func unitsOf(tb testing.TB, ex *unitRecorder, kind string) []Unit {
	var out []Unit
	for _, u := range ex.units {
		if u.Kind == kind {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("the run sent no %s unit", kind)
	}
	return out
}

// specVariants returns spec with each of fields set in turn: seeds that
// reach the checks behind the ones a real spec passes.
func specVariants(spec []byte, fields map[string]any) [][]byte {
	var out [][]byte
	for k, v := range fields {
		var m map[string]any
		if json.Unmarshal(spec, &m) != nil {
			continue
		}
		m[k] = v
		b, _ := json.Marshal(m)
		out = append(out, b)
	}
	return out
}

// FuzzFoldSpec feeds fold specs to a worker's rebuild of the unit, every
// check it makes before fitting: no panic, and a spec it accepts for the
// driver's key rebuilds the very unit the driver sent (its spec as the
// driver encoded it), which is what the worker then runs.
func FuzzFoldSpec(f *testing.F) {
	u, ex := recordedUnits(f)
	folds := unitsOf(f, ex, "fold")
	for i, w := range folds {
		if _, err := u.rebuildFold(context.Background(), w.Key, w.Spec, 1); err != nil {
			f.Fatalf("the driver's own fold %d: %v", i, err)
		}
		f.Add(uint8(i), []byte(w.Spec))
	}
	for _, b := range specVariants(folds[0].Spec, map[string]any{"fold": 7, "thin": "budget100:sub50:", "chain": []string{"lags"},
		"learner": "*linear.Params", "params": map[string]any{"max_depth": -1}, "run": "", "design": "x"}) {
		f.Add(uint8(0), b)
	}
	f.Add(uint8(1), []byte(`{"thin":"sub0:"}`))
	f.Fuzz(func(t *testing.T, i uint8, spec []byte) {
		want := folds[int(i)%len(folds)]
		unit, err := u.rebuildFold(context.Background(), want.Key, spec, 1)
		if err != nil {
			return
		}
		if unit.Key != want.Key || !bytes.Equal(unit.Spec, want.Spec) {
			t.Fatalf("spec %s rebuilds unit %s %s; want %s %s", spec, unit.Key, unit.Spec, want.Key, want.Spec)
		}
	})
}

// FuzzEnsembleSpec is FuzzFoldSpec for ensemble units, whose rebuild
// also fetches and decodes the candidates' predictions the spec names.
func FuzzEnsembleSpec(f *testing.F) {
	u, ex := recordedUnits(f)
	units := unitsOf(f, ex, EnsembleUnitKind)
	for i, w := range units {
		if _, err := u.rebuildEnsemble(context.Background(), w.Key, w.Spec); err != nil {
			f.Fatalf("the driver's own ensemble unit %d: %v", i, err)
		}
		f.Add(uint8(i), []byte(w.Spec))
	}
	for _, b := range specVariants(units[0].Spec, map[string]any{"ensemble": "stacking", "inputs": "00", "members": []string{}, "config": ""}) {
		f.Add(uint8(0), b)
	}
	f.Fuzz(func(t *testing.T, i uint8, spec []byte) {
		want := units[int(i)%len(units)]
		unit, err := u.rebuildEnsemble(context.Background(), want.Key, spec)
		if err != nil {
			return
		}
		if unit.Key != want.Key || !bytes.Equal(unit.Spec, want.Spec) {
			t.Fatalf("spec %s rebuilds unit %s %s; want %s %s", spec, unit.Key, unit.Spec, want.Key, want.Spec)
		}
	})
}

// FuzzEnsembleInputs feeds a worker the candidates' predictions an
// ensemble unit combines (an artifact a driver shares): decoding them
// must not panic, and inputs that decode must be fit by every ensemble
// the run builds without a panic, to a result the driver decodes.
func FuzzEnsembleInputs(f *testing.F) {
	x := newEnsembleFixture(f)
	b, _, err := encodeEnsembleInputs(x.pool)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	short := slices.Clone(x.pool)
	short[1].testPred = short[1].testPred[:1]
	b, _, _ = encodeEnsembleInputs(short)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		pool, outputs, err := decodeEnsembleInputs(b, x.p)
		if err != nil {
			return
		}
		covered := coveredRows(x.p, pool, outputs)
		specs, _ := ensembleSpecs(x.cfg, x.p, len(pool), outputs)
		for _, s := range specs {
			res, err := x.p.ensembleUnit(s, pool, covered, outputs, "fuzz", nil).Run(ctx)
			if err != nil {
				t.Fatalf("%s over decoded inputs: %v", s.name, err)
			}
			if _, _, err := decodeEnsembleResult(res, unitMembers(s, pool)); err != nil {
				t.Fatalf("%s: its result does not decode: %v", s.name, err)
			}
		}
	})
}

// FuzzEnsembleResult feeds the driver an ensemble unit's result bytes (a
// worker's): no panic, and a result it accepts gives a leaderboard entry
// and predictor it can score and predict with on the run's test rows.
func FuzzEnsembleResult(f *testing.F) {
	x := newEnsembleFixture(f)
	ctx := context.Background()
	covered := coveredRows(x.p, x.pool, x.outputs)
	for i, s := range x.specs {
		b, err := x.p.ensembleUnit(s, x.pool, covered, x.outputs, "fuzz", nil).Run(ctx)
		if err != nil {
			f.Fatal(err)
		}
		fit, _, err := decodeEnsembleResult(b, unitMembers(s, x.pool))
		if err == nil {
			err = fit.fitsRun(x.p, x.outputs)
		}
		if err != nil {
			f.Fatalf("%s: the result of its own fit is refused: %v", s.name, err)
		}
		f.Add(uint8(i), b)
	}
	failed, _ := encodeEnsembleResult(nil, context.Canceled)
	f.Add(uint8(0), failed)
	f.Fuzz(func(t *testing.T, i uint8, b []byte) {
		s := x.specs[int(i)%len(x.specs)]
		fit, fitErr, err := decodeEnsembleResult(b, unitMembers(s, x.pool))
		if err != nil || fitErr != nil {
			return
		}
		if fit.fitsRun(x.p, x.outputs) != nil {
			return
		}
		e, pr := fit.entry(s, x.pool, x.fitted)
		y := split.Take(x.p.y, x.p.test)
		if _, err := taskMetrics(x.p.task, y, e.testPred, len(x.p.classes)); err != nil {
			return
		}
		preds := make([][]float64, len(pr.Members))
		used, _ := fit.combiner.Used()
		for j, m := range used {
			preds[j] = x.pool[s.members[m]].testPred
		}
		dst := make([]float64, len(y)*x.outputs)
		_ = pr.Combiner.Combine(dst, preds)
	})
}
