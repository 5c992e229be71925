package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/split"
)

// txhousingConfig is txhousing without volume on the peers' temporal
// split, the setup of ../shared/anchors/baselines.md.
func txhousingConfig(t *testing.T) *config.Config {
	td := filepath.Join("..", "testdata")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn = filepath.Join(td, "txhousing.csv"), "median", "date"
	cfg.TestRows = filepath.Join(td, "splits", "txhousing_novolume.test_rows.txt")
	cfg.Drop, cfg.ForceProductionQuality, cfg.Out = []string{"volume"}, false, t.TempDir()
	return cfg
}

// TestFeatureVariantsCompete checks that with advanced features on, each
// family runs on the basic and the advanced features and cross-validation
// picks between them: the best entry has the best CV score of all, and the
// saved model carries the advanced stages exactly when that entry used them.
func TestFeatureVariantsCompete(t *testing.T) {
	cfg := txhousingConfig(t)
	cfg.SegmentColumn, cfg.EnableAdvancedFeatures = "city", true
	cfg.Models, cfg.CVFolds = []string{"ridge", "tree"}, 3
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	bestCV := math.Inf(-1)
	// Entries are compared on the CV folds they all have (an ensemble
	// has no first time-series fold).
	common := commonFolds(res.Leaderboard)
	score := func(e Entry) float64 {
		if common != nil {
			return meanOver(e.foldScores, common)
		}
		return e.CV["r2"]
	}
	for _, e := range res.Leaderboard {
		bestCV = max(bestCV, score(e))
		if !strings.HasPrefix(e.Model, "ensemble") {
			labels = append(labels, e.Model)
		}
	}
	slices.Sort(labels)
	if want := []string{"ridge", "ridge" + AdvancedSuffix, "tree", "tree" + AdvancedSuffix}; !slices.Equal(labels, want) {
		t.Fatalf("leaderboard models = %v; want %v", labels, want)
	}
	if got := score(res.Leaderboard[0]); got != bestCV {
		t.Errorf("best %s has CV R² %.4f; the best CV R² is %.4f", res.Best, got, bestCV)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	if adv := strings.HasSuffix(res.Best, AdvancedSuffix); len(p.Members) == 0 && adv != (len(p.Chain) > 0) {
		t.Errorf("best %s: saved model has %d feature stages", res.Best, len(p.Chain))
	}
	for _, e := range res.Leaderboard {
		t.Logf("%-10s cv R² %.4f  test R² %.4f", e.Model, e.CV["r2"], e.Test["r2"])
	}
}

// TestAdvancedVariantKeepsName: a best model trained on the advanced
// features is saved under its leaderboard name, which explain, models
// verify and serve show; they called tree+adv "tree".
func TestAdvancedVariantKeepsName(t *testing.T) {
	cfg := txhousingConfig(t)
	cfg.SegmentColumn, cfg.EnableAdvancedFeatures = "city", true
	cfg.Models, cfg.CVFolds = []string{"tree"}, 3
	cfg.EnsembleMethod, cfg.EnsembleTopK = config.EnsembleAverage, 1
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != "tree"+AdvancedSuffix {
		t.Fatalf("best %s; the test needs the advanced variant to win", res.Best)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	if p.Family() != res.Best {
		t.Errorf("saved model's Family() = %q; want its leaderboard name %q", p.Family(), res.Best)
	}
}

// TestSegmentBy trains one ridge model per txhousing city, with a row
// minimum that sends the sparsest cities to the global model, and checks
// that the one saved artifact routes rows as the run scored them and sends
// an unseen city to the global model.
func TestSegmentBy(t *testing.T) {
	cfg := txhousingConfig(t)
	cfg.Models, cfg.CVFolds, cfg.SegmentBy, cfg.MinSegmentRows = []string{"ridge"}, 0, "city", 135
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sm := res.SegmentModels
	if sm == nil {
		t.Fatal("no segment models in the result")
	}
	if sm.Trained+sm.Fallback != 46 || sm.Trained == 0 || sm.Fallback == 0 {
		t.Fatalf("trained %d, fallback %d; want both > 0 over the 46 cities", sm.Trained, sm.Fallback)
	}
	rows := 0
	for _, s := range sm.Segments {
		rows += s.TestRows
		if s.OwnModel != (s.TrainRows >= cfg.MinSegmentRows) {
			t.Errorf("segment %s: %d training rows, own model %v", s.Segment, s.TrainRows, s.OwnModel)
		}
		if !s.OwnModel && s.TestRows > 0 && s.Routed["rmse"] != s.Global["rmse"] {
			t.Errorf("fallback segment %s: routed RMSE %.1f != global %.1f", s.Segment, s.Routed["rmse"], s.Global["rmse"])
		}
	}
	if rows != res.TestRows {
		t.Errorf("segments cover %d test rows; want %d", rows, res.TestRows)
	}
	t.Logf("txhousing ridge, test R²: global %.4f, per city %.4f (%d own models, %d fallbacks)", sm.Global["r2"], sm.Routed["r2"], sm.Trained, sm.Fallback)
	// The report shows the comparison: its test-row sections are the
	// routed model's, its leaderboard the global model's.
	d := reportData(t, res)
	if rs := d.SegmentModels; rs == nil || rs.Trained != sm.Trained || rs.Fallback != sm.Fallback || len(rs.Segments) != len(sm.Segments) || rs.Routed["r2"] != sm.Routed["r2"] {
		t.Errorf("report's segment models %+v; result's trained %d, fallback %d, %d segments, routed r2 %v", rs, sm.Trained, sm.Fallback, len(sm.Segments), sm.Routed["r2"])
	}

	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	if p.Routes == nil || len(p.Routes.Models) != sm.Trained {
		t.Fatalf("saved artifact routes %v; want %d segment models", p.Routes, sm.Trained)
	}
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	test := f.Take(testRowsOf(t, cfg, f))
	m, n, err := Evaluate(p, test)
	if err != nil {
		t.Fatal(err)
	}
	if n != res.TestRows || math.Abs(m["r2"]-sm.Routed["r2"]) > 1e-9 {
		t.Errorf("saved artifact on the test rows: R² %.6f over %d rows; run reported %.6f over %d", m["r2"], n, sm.Routed["r2"], res.TestRows)
	}

	// An unseen city gets the global model's prediction.
	unseen := make([]string, test.NumRows())
	for i := range unseen {
		unseen[i] = "Atlantis"
	}
	moved, err := test.Drop("city").With(frame.NewCategoricalFromStrings("city", unseen))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Predict(moved)
	if err != nil {
		t.Fatal(err)
	}
	global := *p
	global.Routes = nil
	want, err := global.Predict(moved)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Values, want.Values) {
		t.Errorf("unseen city: routed predictions differ from the global model's")
	}
}

// testRowsOf returns the data rows of cfg.TestRows that have a target.
func testRowsOf(t *testing.T, cfg *config.Config, f *frame.Frame) []int {
	t.Helper()
	y, _ := f.Lookup(cfg.Target)
	var rows []int
	data, err := split.ReadRowsFile(cfg.TestRows)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range data {
		if !y.IsMissing(r) {
			rows = append(rows, r)
		}
	}
	return rows
}
