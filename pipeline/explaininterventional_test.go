package pipeline

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/report"
)

// TestExplainEnsembleInterventional builds the average production picks
// on credit data (gbdt, logistic and forest: probabilities averaged,
// gbdt and logistic explained in log-odds) with the 100 training rows a
// saved model keeps, and explains it on its input columns: interventional
// SHAP against those rows, not KernelSHAP. The values add up to the
// ensemble's probability to 1e-9, from a base value that is its mean
// probability over the background rows; the worker count changes no
// bit; and on a few rows they agree with KernelSHAP's estimate on the
// same background (correlation over the columns above 0.9: the two
// attribute the probability differently, and KernelSHAP samples).
func TestExplainEnsembleInterventional(t *testing.T) {
	_, p, pred := creditAverage(t, true)
	var err error
	if pred.Background, err = trainingBackground(p.x, p.train, pred.Schema, 1); err != nil {
		t.Fatal(err)
	}
	x := p.x.Take(p.test)
	v := checkInterventional(t, pred, x, "sigmoid")
	bg, err := backgroundFrame(pred)
	if err != nil {
		t.Fatal(err)
	}
	bp, err := pred.Predict(bg)
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, f := range bp.Values {
		mean += f / float64(len(bp.Values))
	}
	if math.Abs(v.BaseValue[0]-mean) > 1e-12 {
		t.Fatalf("base value %v; the mean prediction over the %d background rows is %v", v.BaseValue[0], bg.NumRows(), mean)
	}
	one, err := Explain(context.Background(), pred, x, ExplainOptions{MaxRows: 40, Options: explain.Options{Seed: 3, Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range v.Values {
		if v.Values[i] != one.Values[i] {
			t.Fatalf("value %d: %v on 2 workers, %v on 1", i, v.Values[i], one.Values[i])
		}
	}
	rows := v.RowIndex[:4]
	k, err := Explain(context.Background(), pred, x, ExplainOptions{Rows: rows, Options: explain.Options{Seed: 3,
		Method: explain.MethodKernel, BackgroundSize: backgroundRows, BackgroundSampling: true}})
	if err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		if c := correlation(v.Row(r, 0), k.Row(r, 0)); !(c > 0.9) {
			t.Errorf("row %d: correlation with KernelSHAP %.3f\n interventional %v\n KernelSHAP     %v", rows[r], c, v.Row(r, 0), k.Row(r, 0))
		}
	}
}

// TestExplainEnsembleLogTarget: an average of members fitted on
// log(1+y) (ames prices) gets interventional SHAP through exp, against
// the data's rows when the predictor keeps no training rows, and adds up
// to the prediction on y's scale.
func TestExplainEnsembleLogTarget(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "ames.csv"), "Sale_Price"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"tree", "ridge"}, 2, t.TempDir()
	cfg.TargetTransform, cfg.EnsembleTopK, cfg.EnsembleMethod = config.TargetLog, 2, config.EnsembleAverage
	p, lb, fitted := ensembleRun(t, cfg)
	_, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	v := checkInterventional(t, preds[ensembleAverage], p.x.Take(p.test), "exp")
	if notes := strings.Join(v.Notes, "; "); !strings.Contains(notes, "of the data given") {
		t.Errorf("notes %q do not say the background is the data's", notes)
	}
}

// TestExplainEnsembleSoftmax: a multiclass average of logistic and
// tree models (credit data's Home, 6 classes) gets interventional SHAP,
// the logistic member's margins mapped through the softmax, not
// KernelSHAP, and adds up to every class's probability.
func TestExplainEnsembleSoftmax(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Home"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree"}, 2, t.TempDir()
	cfg.EnsembleTopK, cfg.EnsembleMethod = 2, config.EnsembleAverage
	p, lb, fitted := ensembleRun(t, cfg)
	_, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	pred := preds[ensembleAverage]
	if pred == nil || pred.Target.Task != model.Multiclass {
		t.Fatalf("no multiclass average: %v", preds)
	}
	checkInterventional(t, pred, p.x.Take(p.test), "softmax")
}

// checkInterventional explains 40 rows of x with ensemble pred, checks
// interventional SHAP took them, through the link named, reporting its
// rows over all weighed members (Steps rising from 0 to members × 40,
// each member's rows weighted by their cost), and that they add up to the ensemble's prediction (each
// class's probability) to 1e-9, and returns the values.
func checkInterventional(t *testing.T, pred *Predictor, x *frame.Frame, link string) *explain.Values {
	t.Helper()
	want, err := pred.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	var events []progress.Event
	pf := func(e progress.Event) { events = append(events, e) }
	v, err := Explain(context.Background(), pred, x, ExplainOptions{MaxRows: 40, Options: explain.Options{Seed: 3, Workers: 2, Progress: pf}})
	if err != nil {
		t.Fatal(err)
	}
	// Each member's rows count by their cost: the work its pair walks do
	// on probes of the rows explained and of the background.
	o := ExplainOptions{MaxRows: 40, Options: explain.Options{Seed: 3}}
	e, err := setUpExplanation(pred, x, o)
	if err != nil {
		t.Fatal(err)
	}
	bg, err := ensembleBackground(e.in, e.background, 0, o.Seed)
	if err != nil {
		t.Fatal(err)
	}
	costs, err := memberCosts(context.Background(), pred, x.Take(e.rows), bg, o.Seed)
	if err != nil {
		t.Fatal(err)
	}
	members, sum := len(costs), 0.0
	for _, c := range costs {
		sum += c
	}
	if len(events) != members*40+1 || events[0].Step != 0 || events[members*40].Step != members*40 {
		t.Fatalf("%d progress events for %d members × 40 rows; want %d, Steps 0 to %d", len(events), members, members*40+1, members*40)
	}
	done := 0.0
	for i, c := range costs {
		done += c
		if e, want := events[(i+1)*40], math.Round(done/sum*float64(members*40)); float64(e.Step) != want {
			t.Errorf("after member %d: Step %d; want %v, its share of the cost", i, e.Step, want)
		}
	}
	for i, e := range events {
		if e.Stage != progress.ExplainRow || e.Name != string(explain.MethodInterventional) || e.Total != members*40 || (i > 0 && e.Step < events[i-1].Step) {
			t.Fatalf("event %d = %+v; want a rising step of %d interventional rows", i, e, members*40)
		}
	}
	notes := strings.Join(v.Notes, "; ")
	if v.Method != explain.MethodInterventional || v.Exact || !strings.Contains(notes, "interventional SHAP over") || !strings.Contains(notes, link+" link") {
		t.Fatalf("method %s exact %v, notes %q; want interventional SHAP through the %s link", v.Method, v.Exact, v.Notes, link)
	}
	if v.Features != len(pred.Schema) || v.Rows != 40 {
		t.Fatalf("%d rows × %d features; want 40 × the %d input columns", v.Rows, v.Features, len(pred.Schema))
	}
	out := want.Values
	if v.Outputs > 1 {
		out = want.Probs
	}
	for r, row := range v.RowIndex {
		for c := range v.Outputs {
			f := out[row*v.Outputs+c]
			if got := v.Sum(r, c); math.Abs(got-f) > 1e-9*math.Max(1, math.Abs(f)) {
				t.Fatalf("row %d output %d: base + Σφ = %v; the ensemble predicts %v", row, c, got, f)
			}
		}
	}
	in, err := NewExplainInput(pred, x)
	if err != nil {
		t.Fatal(err)
	}
	if !exactExplainer(pred, in).exact {
		t.Error("the report would size this ensemble's explanation for KernelSHAP")
	}
	return v
}

// TestReportInterventionalRows: the report explains an ensemble that
// gets interventional SHAP (credit data's gbdt, logistic and forest at
// their default sizes, averaged) on as many test rows as
// reportInterventionalCPU allows at the row cost its probe estimates,
// not TreeSHAP's larger budget, and its warning says what makes the rows
// costly.
func TestReportInterventionalRows(t *testing.T) {
	cfg, p, pred := creditAverage(t, false)
	var err error
	if pred.Background, err = trainingBackground(p.x, p.train, pred.Schema, 1); err != nil {
		t.Fatal(err)
	}
	cost, _, err := interventionalRowCost(context.Background(), pred, p.x.Take(p.test), cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	want := max(reportMinInterventionalRows, int(reportInterventionalCPU/cost))
	if want >= reportSHAPRows || want >= len(p.test) {
		t.Fatalf("a row costs %.3g: %d rows fit the budget, which cuts nothing; the test needs larger members", cost, want)
	}
	d := &report.Data{}
	explainRun(context.Background(), cfg, pred, p.x.Take(p.test), d, func(what string, err error) { t.Fatalf("%s: %v", what, err) })
	got := 0
	if d.SHAP != nil {
		got = len(d.SHAP.Values)
	}
	if got != want {
		t.Fatalf("the report explained %d rows; want %d (budget %.3g ns, %.3g a row)", got, want, reportInterventionalCPU, cost)
	}
	if w := strings.Join(d.Warnings, "; "); !strings.Contains(w, fmt.Sprintf("SHAP values of %d test rows: interventional SHAP", want)) {
		t.Errorf("warnings %q do not say why %d rows", w, want)
	}
}

// TestExplainEnsembleUnweighedMember: greedy selection leaves members
// with voting weight 0, which the explanation skips. The values of the
// weighed ones still come out labelled as interventional SHAP, with the
// data rows' note and a note naming only the methods used, not as
// "combined" values (which the CLI calls a sampled estimate).
func TestExplainEnsembleUnweighedMember(t *testing.T) {
	_, p, pred := creditAverage(t, true)
	// Weigh the two members explained in log-odds, not the forest.
	w := make([]float64, len(pred.Members))
	for i, m := range pred.Members {
		if explain.ExactPrediction(m.Model) != nil {
			w[i] = 1
		}
	}
	var err error
	if pred.Combiner, err = ensemble.VotingCombiner(len(w), pred.Combiner.NumOutputs(), w); err != nil {
		t.Fatal(err)
	}
	v := checkInterventional(t, pred, p.x.Take(p.test), "sigmoid")
	notes := strings.Join(v.Notes, "; ")
	if !strings.Contains(notes, "of the data given") || strings.Contains(notes, " and )") {
		t.Errorf("notes %q: want the data rows' note and only the methods used", notes)
	}
}

// creditAverage fits gbdt, logistic and forest on credit_data (2 CV
// folds) and returns the config, the prepared data and their average; small shrinks
// gbdt to 30 trees and the forest to 10, for tests that need not the
// default sizes.
func creditAverage(t *testing.T, small bool) (*config.Config, *prepared, *Predictor) {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"gbdt", "logistic", "forest"}, 2, t.TempDir()
	if small {
		cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 30}, "forest": {"n_estimators": 10}}
	}
	cfg.EnsembleTopK, cfg.EnsembleMethod = 3, config.EnsembleAverage
	p, pred := averageRun(t, cfg)
	return cfg, p, pred
}

// averageRun fits cfg's candidates and returns the prepared data and
// their average, which must hold cfg.EnsembleTopK members.
func averageRun(t *testing.T, cfg *config.Config) (*prepared, *Predictor) {
	t.Helper()
	p, lb, fitted := ensembleRun(t, cfg)
	_, preds, _ := buildEnsembles(context.Background(), cfg, p, lb, fitted)
	pred := preds[ensembleAverage]
	if pred == nil || len(pred.Members) != cfg.EnsembleTopK {
		t.Fatalf("no %d-member average: %v", cfg.EnsembleTopK, preds)
	}
	return p, pred
}

// TestExplainInterventionalBackground: ExplainOptions'
// InterventionalBackground caps the background rows an ensemble's
// interventional values average over (the report's plan for members too
// costly at the full background), and the values still add up to the
// prediction.
func TestExplainInterventionalBackground(t *testing.T) {
	_, p, pred := creditAverage(t, true)
	x := p.x.Take(p.test)
	want, err := pred.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{20, 0} {
		v, err := Explain(context.Background(), pred, x, ExplainOptions{MaxRows: 5, Options: explain.Options{Seed: 3, InterventionalBackground: n}})
		if err != nil {
			t.Fatal(err)
		}
		rows := n
		if n == 0 {
			rows = explain.InterventionalBackground
		}
		notes := strings.Join(v.Notes, "; ")
		if v.Method != explain.MethodInterventional || !strings.Contains(notes, fmt.Sprintf("interventional SHAP over %d background rows", rows)) ||
			!strings.Contains(notes, fmt.Sprintf("%d rows sampled from the %d", rows, len(p.test))) {
			t.Fatalf("cap %d: method %s, notes %q; want interventional SHAP over %d background rows", n, v.Method, notes, rows)
		}
		for r, row := range v.RowIndex {
			if f, got := want.Values[row], v.Sum(r, 0); math.Abs(got-f) > 1e-9*math.Max(1, math.Abs(f)) {
				t.Fatalf("cap %d, row %d: base + Σφ = %v; the ensemble predicts %v", n, row, got, f)
			}
		}
	}
}
