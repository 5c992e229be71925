package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/cache"
	"github.com/tabforge/tabforge/store/storetest"
)

// rebuildingExecutor runs every unit the way a worker process does: from
// its key, kind and spec alone, through a UnitRunner reading the run
// record from the store and the artifacts shared with it, never through
// the unit's Run closure.
type rebuildingExecutor struct {
	runner    *UnitRunner
	units     atomic.Int64
	kinds     sync.Map // kind → *atomic.Int64
	artifacts sync.Map // hash → []byte
}

func newRebuildingExecutor(st store.Runs) *rebuildingExecutor {
	r := &rebuildingExecutor{}
	r.runner = &UnitRunner{Runs: st, Artifact: func(_ context.Context, hash string) ([]byte, error) {
		b, ok := r.artifacts.Load(hash)
		if !ok {
			return nil, fmt.Errorf("no artifact %s", hash)
		}
		return b.([]byte), nil
	}}
	return r
}

// ShareArtifact implements Sharer.
func (r *rebuildingExecutor) ShareArtifact(_ context.Context, hash string, b []byte) error {
	r.artifacts.Store(hash, slices.Clone(b))
	return nil
}

func (r *rebuildingExecutor) ran(kind string) int64 {
	n, _ := r.kinds.LoadOrStore(kind, new(atomic.Int64))
	return n.(*atomic.Int64).Load()
}

func (r *rebuildingExecutor) Execute(ctx context.Context, units []Unit, done func(int, UnitResult) error) error {
	for i, u := range units {
		b, err := r.runner.Run(ctx, u.Key, u.Kind, u.Spec, 1)
		if err != nil {
			return err
		}
		r.units.Add(1)
		n, _ := r.kinds.LoadOrStore(u.Kind, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)

		if err := done(i, UnitResult{Value: b, Worker: "rebuilt"}); err != nil {
			return err
		}
	}
	return nil
}

// TestUnitRunnerRebuildsFolds trains through an executor that rebuilds
// every fold unit from its spec and the run record, and gets the
// leaderboard of the in-process run: the specs carry everything a worker
// needs (log-target learners, tuned parameters and advanced feature
// stages included).
func TestUnitRunnerRebuildsFolds(t *testing.T) {
	tests := []struct {
		name string
		set  func(*config.Config)
	}{
		{"classification", func(c *config.Config) {
			c.Data, c.Target, c.Models = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{"logistic", "tree", "gbdt"}
		}},
		{"multiclass", func(c *config.Config) {
			c.Data, c.Target, c.Models = filepath.Join("..", "testdata", "midwest.csv"), "state", []string{"logistic", "tree"}
		}},
		{"log target", func(c *config.Config) {
			c.Data, c.Target, c.Models = filepath.Join("..", "testdata", "ames.csv"), "Sale_Price", []string{"ols", "ridge"}
		}},
		{"trend target", func(c *config.Config) {
			c.Data, c.Target, c.Models = filepath.Join("..", "testdata", "txhousing.csv"), "median", []string{"tree"}
			c.TimeColumn, c.Drop, c.TargetTransform = "year,month", []string{"date"}, config.TargetTrend
		}},
		{"tuned", func(c *config.Config) {
			c.Data, c.Target, c.Models = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{"tree"}
			c.EnableHyperparameterTuning, c.MaxEvals = true, 4
		}},
		{"advanced features", func(c *config.Config) {
			c.Data, c.Target, c.Models = filepath.Join("..", "testdata", "txhousing.csv"), "sales", []string{"ridge"}
			c.TimeColumn, c.SegmentColumn, c.EnableAdvancedFeatures = "date", "city", true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.SQLite(t)
			cfg := config.Default()
			cfg.CVFolds, cfg.Out, cfg.Cache, cfg.ForceProductionQuality = 3, t.TempDir(), false, false
			tt.set(cfg)
			want, err := Train(ctx, cfg, Options{Runs: st})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.TargetTransform == config.TargetTrend && want.Leaderboard[0].Params[model.TargetTransformKey] != model.TargetTrend {
				t.Fatalf("target_transform trend: %s params %v", want.Leaderboard[0].Model, want.Leaderboard[0].Params)
			}
			ex := newRebuildingExecutor(st)
			got, err := Train(ctx, cfg, Options{Runs: st, Executor: ex})
			if err != nil {
				t.Fatal(err)
			}
			if ex.units.Load() < int64(cfg.CVFolds) {
				t.Fatalf("%d units rebuilt, want at least %d", ex.units.Load(), cfg.CVFolds)
			}
			if len(got.Leaderboard) != len(want.Leaderboard) {
				t.Fatalf("leaderboard has %d entries, want %d", len(got.Leaderboard), len(want.Leaderboard))
			}
			ensembles := 0
			for i := range want.Leaderboard {
				w, g := want.Leaderboard[i], got.Leaderboard[i]
				if w.Model != g.Model || fmt.Sprint(w.CV) != fmt.Sprint(g.CV) || w.Error != g.Error {
					t.Errorf("entry %d = %s %v %q; want %s %v %q", i, g.Model, g.CV, g.Error, w.Model, w.CV, w.Error)
				}
				if strings.HasPrefix(w.Model, "ensemble:") {
					ensembles++
					wp, _ := json.Marshal(w.Params)
					gp, _ := json.Marshal(g.Params)
					if string(wp) != string(gp) || fmt.Sprint(w.Test) != fmt.Sprint(g.Test) || g.Ran == nil || w.Ran != nil {
						t.Errorf("%s = %s test %v ran %+v; want %s test %v, ran on the worker", w.Model, gp, g.Test, g.Ran, wp, w.Test)
					}
				}
			}
			if n := ex.ran(EnsembleUnitKind); n != int64(ensembles) {
				t.Errorf("%d ensemble units rebuilt; the leaderboard has %d ensembles", n, ensembles)
			}
		})
	}
}

// TestUnitRunnerRejects checks that a spec the worker cannot honour is an
// error naming the cause, not a different result.
func TestUnitRunnerRejects(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	u := &UnitRunner{Runs: st}
	tests := []struct{ kind, spec, want string }{
		{"trial", `{}`, "unknown unit kind"},
		{"fold", `{`, "fold spec"},
		{"fold", `{"run":"nope"}`, "run nope is not in this worker's store sqlite://"}, // and says why it matters
		{EnsembleUnitKind, `{`, "ensemble spec"},
		{EnsembleUnitKind, `{"run":"nope"}`, "cannot fetch an ensemble's inputs"},
	}
	for _, tt := range tests {
		_, err := u.Run(ctx, "k", tt.kind, []byte(tt.spec), 1)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%s, %s) = %v; want an error with %q", tt.kind, tt.spec, err, tt.want)
		}
	}
}

// TestUnitKeysCarryTheBuild: a worker rebuilds the driver's fold keys
// whether the run and the worker have the cache on or off (with the
// run's cache off, a worker whose own cache was on used to put its code
// version in the key and refuse every fold), refuses the units of another
// build in either case, and leaves the cache alone for a run that has it
// off.
func TestUnitKeysCarryTheBuild(t *testing.T) {
	tests := []struct {
		name               string
		runCache, wkrCache bool
		wkrBuild           string
		wantErr            string
	}{
		{"both cached", true, true, "build-a", ""},
		{"run uncached, worker cached", false, true, "build-a", ""},
		{"run cached, worker uncached", true, false, "build-a", ""},
		{"both uncached", false, false, "build-a", ""},
		{"another build, cached", true, true, "build-b", "rebuilds to another unit"},
		{"another build, uncached", false, false, "build-b", "rebuilds to another unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.SQLite(t)
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Models = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{"logistic"}
			cfg.CVFolds, cfg.Out, cfg.Cache, cfg.ForceProductionQuality = 3, t.TempDir(), tt.runCache, false
			o := Options{Runs: st, CodeVersion: "build-a"}
			if tt.runCache {
				o.Cache = cache.New(st, nil)
			}
			ex := newRebuildingExecutor(st)
			ex.runner.CodeVersion = tt.wkrBuild
			workerCache := cache.New(st, nil)
			if tt.wkrCache {
				ex.runner.Cache = workerCache
			}
			o.Executor = ex
			_, err := Train(ctx, cfg, o)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("train: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("train = %v; want an error with %q", err, tt.wantErr)
			}
			if n := workerCache.Stats(); !(tt.runCache && tt.wkrCache) && n.Hits+n.Misses != 0 {
				t.Errorf("worker cache used %d times for a run or worker with the cache off", n.Hits+n.Misses)
			}
		})
	}
}

// TestUnitRunnerChecksEveryRef: a worker checks the run, config and
// dataset a unit names against the record for every unit, not only the
// first of its run, and refuses a run named by a prefix of its id (the
// store's GetRun takes one); found by FuzzEnsembleSpec, which rebuilt a
// unit of run "2" once a unit with the right hashes had loaded it.
func TestUnitRunnerChecksEveryRef(t *testing.T) {
	ctx := context.Background()
	u, ex := recordedUnits(t)
	fold := unitsOf(t, ex, "fold")[0]
	var fs foldSpec
	if err := json.Unmarshal(fold.Spec, &fs); err != nil {
		t.Fatal(err)
	}
	with := func(change func(*foldSpec)) []byte {
		c := fs
		change(&c)
		b, _ := json.Marshal(c)
		return b
	}
	tests := []struct {
		name, want string
		spec       []byte
	}{
		{"the driver's", "", fold.Spec},
		{"run id prefix", "is not a run id", with(func(c *foldSpec) { c.Run = c.Run[:4] })},
		{"another config", "records config", with(func(c *foldSpec) { c.Config = strings.Repeat("0", len(c.Config)) })},
		{"another dataset", "records config", with(func(c *foldSpec) { c.Dataset = "" })},
		{"the driver's again", "", fold.Spec},
	}
	for _, tt := range tests {
		_, err := u.rebuildFold(ctx, fold.Key, tt.spec, 1)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: rebuild = %v; want an error with %q", tt.name, err, tt.want)
		}
	}
}

// elsewhere is a rebuildingExecutor whose worker runs in another working
// directory, as a worker started in another terminal does.
type elsewhere struct {
	*rebuildingExecutor
	dir string
}

func (e elsewhere) Execute(ctx context.Context, units []Unit, done func(int, UnitResult) error) error {
	back, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(e.dir); err != nil {
		return err
	}
	defer os.Chdir(back)
	return e.rebuildingExecutor.Execute(ctx, units, done)
}

// TestUnitRunnerReadsTestRowsWhereTheDriverDid: a worker in another
// directory than the driver reads the run's relative test_rows where the
// driver did, as it reads the data by its recorded absolute path; it read
// the file of that name in its own directory, rebuilt other folds and
// refused every unit (another unit than the driver sent).
func TestUnitRunnerReadsTestRowsWhereTheDriverDid(t *testing.T) {
	data, err := filepath.Abs(filepath.Join("..", "testdata", "credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dir, other := t.TempDir(), t.TempDir()
	for d, n := range map[string]int{dir: 800, other: 400} { // the same name, other rows
		var b strings.Builder
		for i := range n {
			fmt.Fprintln(&b, i)
		}
		if err := os.WriteFile(filepath.Join(d, "rows.txt"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	st := storetest.SQLite(t)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.TestRows = data, "Status", []string{"logistic"}, "rows.txt"
	cfg.CVFolds, cfg.Out, cfg.Cache, cfg.ForceProductionQuality = 3, t.TempDir(), false, false
	ex := newRebuildingExecutor(st)
	res, err := Train(context.Background(), cfg, Options{Runs: st, Executor: elsewhere{ex, other}})
	if err != nil {
		t.Fatalf("train with a worker in another directory: %v", err)
	}
	if n := ex.ran("fold"); n != int64(cfg.CVFolds) || res.TestRows != 800 {
		t.Errorf("%d folds rebuilt, %d test rows; want %d and 800", n, res.TestRows, cfg.CVFolds)
	}
}
