package explain

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/pipeline"
)

// amesPredictor builds a ridge predictor on ames in-process, as train
// would save it: schema, design (one-hot, scaled) and model.
func amesPredictor(t *testing.T) (*pipeline.Predictor, *frame.Frame) {
	t.Helper()
	f, err := frame.ReadFile(filepath.Join("..", "testdata", "ames.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yc, _ := f.Lookup("Sale_Price")
	x := f.Drop("Sale_Price")
	d, err := features.FitDesign(context.Background(), x, features.DesignSpecFor(linear.Families()[0].Input))
	if err != nil {
		t.Fatal(err)
	}
	mat, err := d.Matrix(x)
	if err != nil {
		t.Fatal(err)
	}
	m, err := linear.Regression{Alpha: 1}.Train(context.Background(), &model.Dataset{X: mat, Y: yc.Num, Task: model.Regression}, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var schema []pipeline.Field
	for _, c := range x.Columns() {
		schema = append(schema, pipeline.Field{Name: c.Name, Kind: c.Kind})
	}
	return &pipeline.Predictor{Target: pipeline.Target{Name: "Sale_Price", Task: model.Regression}, Schema: schema, Design: d, Model: m}, x
}

// TestExplainPredictor explains a predictor on its design matrix (exact
// linear SHAP) and on its raw columns (KernelSHAP over the whole
// pipeline): both reconstruct the predictor's own predictions.
func TestExplainPredictor(t *testing.T) {
	p, x := amesPredictor(t)
	rows := []int{4, 1, 2000}
	pred, err := p.Predict(x.Take(rows))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ExplainPredictor(context.Background(), p, x, PredictorOptions{Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if v.Method != MethodLinear || v.Features != p.Design.NumFeatures() || v.RowIndex[2] != 2000 || len(v.X) != 3*v.Features {
		t.Fatalf("ExplainPredictor: method %s, %d features, rows %v", v.Method, v.Features, v.RowIndex)
	}
	if _, err := v.CheckLocalAccuracy(pred.Values, 1e-9); err != nil {
		t.Fatal(err)
	}
	raw, err := ExplainPredictorRaw(context.Background(), p, x, PredictorOptions{Rows: rows,
		Options: Options{BackgroundSize: 8, KernelSamples: 150, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Method != MethodKernel || raw.Features != len(p.Schema) || raw.FeatureNames[0] != p.Schema[0].Name {
		t.Fatalf("ExplainPredictorRaw: method %s, %d features (%v)", raw.Method, raw.Features, raw.FeatureNames[:3])
	}
	worst, err := raw.CheckLocalAccuracy(pred.Values, raw.Tolerance)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw-column KernelSHAP of 3 rows × %d columns; worst local-accuracy error %.2g", raw.Features, worst)

	// Bad input: out-of-range rows, a missing column.
	var re *RowsError
	if _, err := ExplainPredictor(context.Background(), p, x, PredictorOptions{Rows: []int{x.NumRows()}}); !errors.As(err, &re) {
		t.Errorf("row %d: error %v; want *RowsError", x.NumRows(), err)
	}
	var se *pipeline.SchemaError
	if _, err := ExplainPredictor(context.Background(), p, x.Drop("Lot_Area"), PredictorOptions{}); !errors.As(err, &se) || se.Column != "Lot_Area" {
		t.Errorf("data without Lot_Area: error %v; want a *pipeline.SchemaError for it", err)
	}
	if _, err := ExplainPredictorRaw(context.Background(), p, x.Drop("Lot_Area"), PredictorOptions{}); !errors.As(err, &se) {
		t.Errorf("raw, data without Lot_Area: error %v; want a *pipeline.SchemaError", err)
	}
}
