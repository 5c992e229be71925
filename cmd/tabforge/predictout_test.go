package main

import (
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// TestWritePredictionsFormats writes predictions under every name
// frame.ReadFile reads and reads them back: .pq and .csv.gz paths got
// plain CSV text, which tabforge itself then refused to read.
func TestWritePredictionsFormats(t *testing.T) {
	p := &pipeline.Predictor{Target: pipeline.Target{Name: "y", Task: model.Regression}}
	pred := &pipeline.Prediction{Values: []float64{1.5, -2, 0.25}}
	dir := t.TempDir()
	for _, name := range []string{"p.csv", "p.csv.gz", "p.parquet", "p.pq", "P.CSV.GZ"} {
		path := filepath.Join(dir, name)
		if err := writePredictions(path, p, pred); err != nil {
			t.Fatalf("writePredictions(%s): %v", name, err)
		}
		f, err := frame.ReadFile(path, frame.ReadOptions{})
		if err != nil {
			t.Errorf("reading back %s: %v", name, err)
			continue
		}
		c, ok := f.Lookup("prediction")
		if !ok || c.Kind != frame.Numeric || len(c.Num) != 3 || c.Num[0] != 1.5 || c.Num[1] != -2 || c.Num[2] != 0.25 {
			t.Errorf("%s read back as %v", name, f.Names())
		}
	}
}
