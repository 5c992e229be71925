package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestTrainStages runs Train with a registrar and checks the flow it
// reports: every stage announced once, in order, and timed; the model
// registered by the last stage; and the saved file carrying its contract
// (metrics, lineage, categories).
func TestTrainStages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, arts := storetest.Local(t, dir)

	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "mlc_churn.csv"), "churn"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	var mu sync.Mutex
	var announced, noted []string
	o := Options{Runs: st, Registrar: StoreRegistrar{Registry: registry.New(st), Artifacts: arts, CodeVersion: "test"},
		Progress: func(e progress.Event) {
			if e.Stage == progress.Step {
				mu.Lock()
				announced = append(announced, e.Name)
				// The store says which stage the run is in (StageKind).
				if recs, err := st.ListRecords(ctx, StageKind, ""); err == nil && len(recs) == 1 {
					var n StageNote
					if json.Unmarshal(recs[0].Value, &n) == nil && n.Stage == e.Name {
						noted = append(noted, n.Stage)
					}
				}
				mu.Unlock()
			}
		}, Profile: "development"}
	res, err := Train(ctx, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range newTrainRun(cfg, o).stages() {
		want = append(want, s.name)
		if _, ok := res.Timings["stage:"+s.name]; !ok {
			t.Errorf("stage %s not timed: %v", s.name, res.Timings)
		}
	}
	if !slices.Equal(announced, append(want, "done")) {
		t.Errorf("announced %q, want %q then done", announced, want)
	}
	if res.Registered == nil || res.ModelVersion == "" || res.Registered.Model.Version != res.ModelVersion || res.Registered.Model.RunID != res.RunID {
		t.Fatalf("register stage: version %q, %+v", res.ModelVersion, res.Registered)
	}

	// Stages from split on are noted (load and record run before the
	// run record exists); the note is gone once the run ends.
	if i := slices.Index(want, "split"); i < 0 || !slices.Equal(noted, want[i:]) {
		t.Errorf("stages noted in the store %q; want %q", noted, want[i:])
	}
	if recs, err := st.ListRecords(ctx, StageKind, ""); err != nil || len(recs) != 0 {
		t.Errorf("stage records after the run: %v, %v; want none", recs, err)
	}
	if rec, err := st.GetRun(ctx, res.RunID); err != nil || rec.Profile != "development" {
		t.Errorf("run record profile = %v, %v; want development (Options.Profile)", rec, err)
	}

	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	c := p.Contract()
	if c.Metrics["auc"] != res.Leaderboard[0].Test["auc"] || c.RunID != res.RunID || c.Dataset != res.DatasetHash {
		t.Errorf("contract metrics %v run %s dataset %s; want the leader's test metrics %v of run %s", c.Metrics, c.RunID, c.Dataset, res.Leaderboard[0].Test, res.RunID)
	}
	if c.Lineage.Name != "mlc_churn" || c.Lineage.DataPath != AbsPath(cfg.Data) || c.Lineage.ConfigHash != cfg.Hash() || c.Lineage.Trained.IsZero() {
		t.Errorf("contract lineage = %+v", c.Lineage)
	}
	if i := slices.IndexFunc(c.Inputs, func(f Field) bool { return f.Name == "state" }); i < 0 || len(c.Inputs[i].Levels) < 40 {
		t.Errorf("contract inputs lack state's training categories: %+v", c.Inputs)
	}
}

// TestTrainPanicRecordsFailure: a panic inside a run (a bug) still ends
// the run record as failed, with the panic's message, and reaches the
// caller; before, the deferred finish saw a nil error and recorded the
// run as succeeded.
func TestTrainPanicRecordsFailure(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "mlc_churn.csv"), "churn"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	o := Options{Runs: st, Profile: "development", Progress: func(e progress.Event) {
		if e.Stage == progress.Step && e.Name == "select" {
			panic("stage bug")
		}
	}}
	func() {
		defer func() {
			if p := recover(); p != "stage bug" {
				t.Errorf("recovered %v; want the stage's panic to reach the caller", p)
			}
		}()
		Train(ctx, cfg, o)
	}()
	runs, err := st.ListRuns(ctx, 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v; want one", runs, err)
	}
	if runs[0].Status != store.Failed || !strings.Contains(runs[0].Error, "stage bug") {
		t.Errorf("run status %q error %q; want failed with the panic's message", runs[0].Status, runs[0].Error)
	}
}

// TestRunRecordRedactsPasswords: the config a run records (which runs
// show and the dashboard print) hides the store URL's password.
func TestRunRecordRedactsPasswords(t *testing.T) {
	st := storetest.SQLite(t)
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
	cfg.Store = "redis://:hunter2@127.0.0.1:6379/0"
	res, err := Train(context.Background(), cfg, Options{Runs: st})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.GetRun(context.Background(), res.RunID)
	if err != nil || strings.Contains(string(r.Config), "hunter2") || !strings.Contains(string(r.Config), "xxxxx") {
		t.Errorf("recorded config %s, %v; want the password masked", r.Config, err)
	}
}

// TestRunRecordAbsolutePaths: a run trained on a relative --data into a
// relative --out records its data, model and report by absolute path,
// so that a dashboard, retrain or worker started in another directory
// finds them.
func TestRunRecordAbsolutePaths(t *testing.T) {
	data, err := filepath.Abs(filepath.Join("..", "testdata", "credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.SQLite(t)
	t.Chdir(t.TempDir())
	if err := os.WriteFile("credit.csv", raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target = "credit.csv", "Status"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, "out", false
	res, err := Train(context.Background(), cfg, Options{Runs: st})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.IsAbs(res.ModelPath) {
		t.Errorf("result's model path %q; want it as the user gave --out", res.ModelPath)
	}
	r, err := st.GetRun(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var got Result
	if err := json.Unmarshal(r.Result, &got); err != nil {
		t.Fatal(err)
	}
	for what, p := range map[string]string{"run's model path": r.ModelPath, "result's model path": got.ModelPath, "report": got.Report,
		"run's dataset path": r.DatasetPath} {
		if !filepath.IsAbs(p) {
			t.Errorf("recorded %s %q; want absolute", what, p)
			continue
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("recorded %s: %v", what, err)
		}
	}
}
