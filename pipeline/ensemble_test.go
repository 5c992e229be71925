package pipeline

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/split"
)

// ensembleRun prepares cfg's data and runs every candidate, returning
// what buildEnsembles needs.
func ensembleRun(t testing.TB, cfg *config.Config) (*prepared, []Entry, map[string]*Predictor) {
	t.Helper()
	ctx := context.Background()
	p, o := preparedRun(t, cfg)
	var lb []Entry
	fitted := map[string]*Predictor{}
	for i, name := range cfg.Models {
		e, pr, err := runCandidate(ctx, cfg, o, p, name, i, len(cfg.Models))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pr.Schema = schemaOf(p.x, p.train)
		lb = append(lb, e)
		fitted[name] = pr
	}
	return p, lb, fitted
}

// preparedRun reads and prepares cfg's data as a run does, with options
// that log nowhere.
func preparedRun(t testing.TB, cfg *config.Config) (*prepared, Options) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepare(f, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	p.dataset = f.Hash()
	return p, Options{Families: Families(), Logger: log}
}

// TestEnsemblesSaveAndPredict builds every ensemble kind on credit data,
// checks each is scored, saves and reloads its multi-member predictor and
// checks the reloaded predictor reproduces the test predictions the run
// scored, through the same path `tabforge predict` takes.
func TestEnsemblesSaveAndPredict(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree", "gbdt"}, 3, t.TempDir()
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 60}, "tree": {"max_depth": 6}}
	cfg.EnableAdvancedEnsemble = true
	p, lb, fitted := ensembleRun(t, cfg)
	entries, preds, warnings := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Model)
	}
	if want := []string{ensembleVoting, ensembleStacking, ensembleSelection}; !slices.Equal(names, want) {
		t.Fatalf("ensembles = %v; want %v", names, want)
	}
	xtest := p.x.Take(p.test)
	for _, e := range entries {
		t.Run(e.Model, func(t *testing.T) {
			if auc := e.CV["auc"]; !(auc > 0.7 && auc < 1) || e.Test["auc"] < 0.7 {
				t.Errorf("cv auc %v, test auc %v; want both above 0.7", auc, e.Test["auc"])
			}
			path := filepath.Join(t.TempDir(), "m.tfm")
			if err := preds[e.Model].Save(path); err != nil {
				t.Fatal(err)
			}
			back, err := LoadPredictor(path, Families())
			if err != nil {
				t.Fatal(err)
			}
			// The predictor holds the members the combination reads: a
			// voting member of weight 0 is not saved (nor run).
			want := len(e.Params["members"].([]string))
			if w, ok := e.Params["weights"].([]float64); ok {
				want = 0
				for _, x := range w {
					if x != 0 {
						want++
					}
				}
			}
			if len(back.Members) != want || want == 0 {
				t.Fatalf("reloaded %s has %d members; want %d (params %v)", back.Family(), len(back.Members), want, e.Params)
			}
			// One model, one name: explain, models verify and serve
			// called the leaderboard's ensemble:average
			// "ensemble:voting(ridge+tree)".
			if back.Family() != e.Model {
				t.Errorf("reloaded ensemble's Family() = %q; want its leaderboard name %q", back.Family(), e.Model)
			}
			out, err := back.Predict(xtest)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range out.Values {
				if math.Abs(v-e.testPred[i]) > 1e-12 {
					t.Fatalf("row %d: reloaded predicts %v, the run scored %v", i, v, e.testPred[i])
				}
			}
			m, err := taskMetrics(p.task, split.Take(p.y, p.test), out.Values, 2)
			if err != nil {
				t.Fatal(err)
			}
			if m["auc"] != e.Test["auc"] {
				t.Errorf("test auc of the reloaded ensemble %v; the leaderboard says %v", m["auc"], e.Test["auc"])
			}
		})
	}
	// Without advanced ensembles: the simple average of the top k and
	// greedy selection over every candidate, or either alone.
	cfg.EnableAdvancedEnsemble, cfg.EnsembleTopK = false, 2
	entries, _, _ = buildEnsembles(context.Background(), cfg, p, lb, fitted)
	if len(entries) != 2 || entries[0].Model != ensembleAverage || entries[1].Model != ensembleSelection {
		t.Fatalf("default ensembles = %+v; want the average and the selection", entries)
	}
	cfg.EnsembleMethod = config.EnsembleSelection
	entries, _, _ = buildEnsembles(context.Background(), cfg, p, lb, fitted)
	if len(entries) != 1 || entries[0].Model != ensembleSelection || len(entries[0].Params["members"].([]string)) != len(lb) {
		t.Fatalf("ensemble_method selection: ensembles = %+v; want one selection over all %d candidates", entries, len(lb))
	}
	cfg.EnsembleMethod = config.EnsembleAverage
	entries, _, _ = buildEnsembles(context.Background(), cfg, p, lb, fitted)
	if len(entries) != 1 || entries[0].Model != ensembleAverage || len(entries[0].Params["members"].([]string)) != 2 {
		t.Fatalf("ensemble_method average: ensembles = %+v; want one average of 2", entries)
	}
}

// TestStackingSeesOnlyOutOfFold: on a target of pure noise, an unlimited
// tree memorises its training rows (in-sample R² near 1) but predicts
// nothing out of fold. A meta-learner fitted on in-sample predictions
// would give it a coefficient near 1; fitted on out-of-fold predictions
// only, as it must be, the coefficient stays near 0 and the stack's CV R²
// stays at or below 0.
func TestStackingSeesOnlyOutOfFold(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "noise.csv")
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("a,b,c,y\n")
	for range 400 {
		fmt.Fprintf(&b, "%.4f,%.4f,%.4f,%.4f\n", rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64())
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = path, "y", dir
	cfg.Models, cfg.CVFolds = []string{"tree", "ridge"}, 5
	cfg.EnableAdvancedEnsemble, cfg.UseVoting, cfg.UseSelection = true, false, false
	p, lb, fitted := ensembleRun(t, cfg)

	// The memoriser really memorises: in-sample R² near 1.
	tr := fitted["tree"]
	in, err := tr.Predict(p.x.Take(p.train))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := eval.Regression(split.Take(p.y, p.train), in.Values); m["r2"] < 0.9 {
		t.Fatalf("tree in-sample r2 %v; the test needs a memorising member", m["r2"])
	}
	entries, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	if len(entries) != 1 || entries[0].Model != ensembleStacking {
		t.Fatalf("ensembles = %+v; want stacking alone", entries)
	}
	st := preds[ensembleStacking]
	coef := st.Combiner.Params()["meta_coef"].([]float64)
	ti := slices.IndexFunc(st.Members, func(m Member) bool { return m.Name == "tree" })
	if ti < 0 || math.Abs(coef[ti]) > 0.3 {
		t.Errorf("meta-learner coefficients %v (members %v); the tree's must stay near 0", coef, st.Family())
	}
	if r2 := entries[0].CV["r2"]; r2 > 0.05 {
		t.Errorf("stacking CV r2 %v on noise; want <= 0.05", r2)
	}
}

// TestPredictorLayout1Loads: files written before ensembles (payload
// layout 1) still load and predict.
func TestPredictorLayout1Loads(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"logistic"}, 0, t.TempDir()
	_, p := trainSaved(t, cfg)
	// Layout 1, as the previous Marshal wrote it.
	meta, _ := json.Marshal(map[string]any{"version": 1, "target": p.Target, "schema": p.Schema, "design": p.Design,
		"family": p.Model.Family(), "run_id": p.RunID, "dataset": p.Dataset})
	body, err := p.Model.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	payload := binary.LittleEndian.AppendUint64(nil, uint64(len(meta)))
	payload = append(append(payload, meta...), body...)
	old := filepath.Join(t.TempDir(), "v1.tfm")
	if err := model.WriteFileAtomic(old, model.EncodeEnvelope(PredictorKind, payload)); err != nil {
		t.Fatal(err)
	}
	q, err := LoadPredictor(old, Families())
	if err != nil {
		t.Fatalf("layout 1: %v", err)
	}
	x, err := frame.ReadFile(data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Values, b.Values) {
		t.Error("layout 1 file predicts differently")
	}
}
