package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/report"
)

// TestReportSHAPInInputUnits trains a logistic model on the penguins,
// whose design standardises the numeric inputs, and checks that the
// report's SHAP feature values of bill_length_mm are the bill lengths in
// millimetres (32.1 to 59.6 in the data), not the standardised values
// (about -2 to 2) the dependence plot showed.
func TestReportSHAPInInputUnits(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), "species"
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality, cfg.Out = []string{"logistic"}, 0, false, t.TempDir()
	res, err := Train(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	d := &report.Data{}
	explainRun(ctx, cfg, p, f, d, func(what string, err error) { t.Errorf("%s: %v", what, err) })
	if d.SHAP == nil {
		t.Fatal("no SHAP values")
	}
	j := slices.Index(d.SHAP.Features, "bill_length_mm")
	if j < 0 {
		t.Fatalf("no bill_length_mm among the SHAP features %q", d.SHAP.Features)
	}
	col, _ := f.Lookup("bill_length_mm")
	n := 0
	for r, fv := range d.SHAP.FeatureValues {
		v := fv[j]
		if v != v { // a missing bill length
			continue
		}
		n++
		if !slices.Contains(col.Num, v) {
			t.Fatalf("row %d: bill_length_mm %v is no bill length of the data", r, v)
		}
	}
	if n == 0 {
		t.Fatal("no bill_length_mm values")
	}
}
