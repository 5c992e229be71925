package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
	"github.com/tabforge/tabforge/tune"
)

// xss is the hostile column name every page must show as text.
const xss = "<script>alert(1)</script>"

// backends are the stores the page tests run on: SQLite always, Redis
// when $TABFORGE_TEST_REDIS names a server (scripts/test.sh starts one).
func backends(t *testing.T) map[string]func(t *testing.T) store.Store {
	b := map[string]func(t *testing.T) store.Store{"sqlite": openSQLite}
	if os.Getenv(redistest.EnvURL) != "" {
		b["redis"] = func(t *testing.T) store.Store {
			st, err := redis.Open(context.Background(), redistest.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}
	return b
}

func openSQLite(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fixture is a store with synthetic runs (storetest.FillRuns), two runs
// to compare whose configs differ in "seed" only, a run with the hostile
// column name, a tuned study and two registered versions of "churn", the
// first in production.
type fixture struct {
	st       store.Store
	studyID  int64
	v1, v2   string
	nRuns    int
	reportOK string // a line of the cmp-a run's report
}

const fillRuns = 30

func newFixture(t testing.TB, st store.Store, trials int) *fixture {
	ctx := context.Background()
	f := &fixture{st: st, nRuns: fillRuns + 3}
	storetest.FillRuns(t, st, fillRuns, 1)
	dir := t.TempDir()
	report := filepath.Join(dir, "report", "report.html")
	f.reportOK = "report of cmp-a"
	os.MkdirAll(filepath.Dir(report), 0o755)
	if err := os.WriteFile(report, []byte(`<!doctype html><html data-status="ok"><body><h1>`+f.reportOK+`</h1></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("outside the report"), 0o644)
	modelFile := filepath.Join(dir, "model.tfm")
	if err := os.WriteFile(modelFile, []byte("model bytes of cmp-a"), 0o644); err != nil {
		t.Fatal(err)
	}
	study := "train/abc/def/gbdt"
	created := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"cmp-a", "cmp-b"} {
		cfg := fmt.Sprintf(`{"target":"churned","seed":%d,"models":["gbdt","linear"],"model_params":{"gbdt":{"depth":6}},"max_evals":100,"use_stacking":false}`, i+1)
		lb := []map[string]any{
			{"model": "gbdt", "cv": map[string]float64{"roc_auc": 0.8 + float64(i)/100, "log_loss": 0.4}, "test": map[string]float64{"roc_auc": 0.79 + float64(i)/100},
				"tuning": map[string]any{"study": study, "trials": 10}},
			{"model": "linear", "cv": map[string]float64{"roc_auc": 0.7}, "test": map[string]float64{"roc_auc": 0.69}},
		}
		// The version the run registers below, as a run's result names it.
		version, err := registry.ID("churn", fixtureIdentity(i))
		if err != nil {
			t.Fatal(err)
		}
		result := map[string]any{"metric": "roc_auc", "best": "gbdt", "report": report, "train_rows": 800, "test_rows": 200, "leaderboard": lb,
			"model_version": version}
		if i == 1 { // cmp-b was ranked on the folds its entries share
			result["ranked_folds"] = []int{2, 3}
			lb[0]["cv_ranked"], lb[1]["cv_ranked"] = 0.8234, 0.7123
		}
		res, _ := json.Marshal(result)
		r := &store.Run{ID: id, Created: created.Add(time.Duration(i) * time.Minute), Finished: created.Add(time.Hour), Status: store.Succeeded,
			DatasetPath: "data/churn.csv", DatasetHash: "feedfacecafebeef01", ConfigHash: fmt.Sprintf("cfg%d", i), Config: json.RawMessage(cfg),
			Task: "binary", Target: "churned", Best: "gbdt", Result: res}
		if i == 0 { // cmp-b is an old run: no profile, no model file
			r.Profile, r.ModelPath = "research", modelFile
		}
		if err := st.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	bad := &store.Run{ID: "xss-run", Created: created, Finished: created.Add(time.Minute), Status: store.Succeeded,
		DatasetPath: "data/" + xss + ".csv", DatasetHash: "0bad", ConfigHash: "c", Config: json.RawMessage(`{"target":` + quote(xss) + `,"drop":[` + quote(xss) + `]}`),
		Task: "regression", Target: xss, Best: "linear"}
	if err := st.PutRun(ctx, bad); err != nil {
		t.Fatal(err)
	}
	f.studyID = fillStudy(t, st, study, trials, 3)
	reg := registry.New(st)
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arts.Close() })
	model := binaryModel(t)
	for i, run := range []string{"cmp-a", "cmp-b"} {
		// Real artifacts: promotion loads a version before it serves.
		ref, err := arts.Put(ctx, "m"+run, model)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := reg.Register(ctx, registry.Model{Name: "churn",
			Identity: fixtureIdentity(i),
			RunID:    run, DatasetPath: "data/churn.csv", Task: "binary", Target: "churned", Family: "gbdt", Deployable: true,
			Metrics: map[string]float64{"roc_auc": 0.79}, Artifact: ref,
			Created: created.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.v1 = m.Version
		} else {
			f.v2 = m.Version
		}
	}
	if _, err := reg.Promote(ctx, f.v1, registry.Production, registry.PromoteOptions{Reason: "fixture"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// fixtureIdentity is the identity of the fixture's version i of churn.
func fixtureIdentity(i int) registry.Identity {
	return registry.Identity{DatasetHash: "feedfacecafebeef01", ConfigHash: fmt.Sprintf("cfg%d", i), CodeVersion: "test"}
}

// binaryModel is the saved predictor of a logistic model of credit data
// (a binary task, as the fixture's versions), trained once per process.
var binaryModel = func() func(t testing.TB) []byte {
	var once sync.Once
	var model []byte
	var err error
	return func(t testing.TB) []byte {
		once.Do(func() {
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
			cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
			var res *pipeline.Result
			if res, err = pipeline.Train(context.Background(), cfg, pipeline.Options{}); err == nil {
				model, err = os.ReadFile(res.ModelPath)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return model
	}
}()

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fillStudy puts a minimising study of n seeded trials in st: most
// complete, every tenth pruned, with two parameters.
func fillStudy(t testing.TB, st store.Store, name string, n int, seed uint64) int64 {
	ctx := context.Background()
	id, err := st.CreateStudy(ctx, name, tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	start := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	dists := map[string]tune.Distribution{"learning_rate": {Kind: tune.Float, Low: 0.01, High: 0.3, Log: true}, "depth": {Kind: tune.Int, Low: 2, High: 10}}
	for i := range n {
		tr := tune.FrozenTrial{Number: i, State: tune.Complete, Value: 0.3 + rng.Float64(), RetryOf: -1,
			Params:        map[string]float64{"learning_rate": 0.01 + 0.29*rng.Float64(), "depth": float64(2 + rng.IntN(9))},
			Distributions: dists, Start: start.Add(time.Duration(i) * time.Second), Finish: start.Add(time.Duration(i)*time.Second + 500*time.Millisecond)}
		if i%10 == 9 {
			tr.State = tune.Pruned
		}
		if err := st.PutTrial(ctx, name, tr); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// serve starts the dashboard of st on a real loopback listener.
func serve(t testing.TB, st store.Store, o Options) *httptest.Server {
	srv, err := New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}
