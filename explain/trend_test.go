package explain

import (
	"context"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// A trend-target model is explained in prediction space: its trend is
// an exact linear term of the time feature's SHAP value, and the values
// with the base still add up to the prediction.
func TestTreeSHAPTrendModel(t *testing.T) {
	const p = 5
	d := synth(model.Regression, 300, p, 93, true)
	inner := fitGBDT(t, d, gbdt.Params{NEstimators: 8, MaxDepth: 3})
	tm := &model.TrendModel{Inner: inner, Index: []int{3}, Mean: []float64{0.5}, Coef: []float64{40}, Intercept: 7}
	e, err := NewTreeEnsemble(tm)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewTreeEnsemble(inner)
	if err != nil {
		t.Fatal(err)
	}
	x := head(d.X, 20)
	ctx := context.Background()
	sv, err := e.TreeSHAP(ctx, x, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := plain.TreeSHAP(ctx, x, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := e.InteractionValues(ctx, x, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	pred := predict(t, tm, x)
	for r := range x.Rows {
		sum := sv.BaseValue[0]
		for j, v := range sv.Row(r, 0) {
			sum += v
			want := ps.Row(r, 0)[j]
			if j == 3 {
				want += 40 * (x.At(r, 3) - 0.5)
			}
			if math.Abs(v-want) > 1e-9 {
				t.Fatalf("row %d feature %d: SHAP %v, want %v", r, j, v, want)
			}
			row := 0.0
			for k := range p {
				row += iv.At(r, 0, j, k)
			}
			if math.Abs(row-v) > 1e-9 {
				t.Fatalf("row %d: Σ_k Φ[%d][k] = %v; SHAP value %v", r, j, row, v)
			}
		}
		if math.Abs(sum-pred[r]) > 1e-9 {
			t.Fatalf("row %d: base + Σφ = %v; prediction %v", r, sum, pred[r])
		}
	}
}

// A trend-target linear model is explained like a trend-target tree
// model: in prediction space, the trend an exact linear term of the time
// feature. Linear SHAP explained only the inner model, called that the
// margin, and its values missed the trend in the prediction.
func TestLinearSHAPTrendModel(t *testing.T) {
	const p = 5
	d := synth(model.Regression, 300, p, 94, false)
	inner := fitRidge(t, d)
	tm := &model.TrendModel{Inner: inner, Index: []int{3}, Mean: []float64{0.5}, Coef: []float64{40}, Intercept: 7}
	x := head(d.X, 20)
	v, err := Explain(context.Background(), tm, x, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := LinearSHAP(inner, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Method != MethodLinear || v.Output != OutputPrediction {
		t.Fatalf("method %s output %s; want linear SHAP of the prediction", v.Method, v.Output)
	}
	if _, err := v.CheckLocalAccuracy(predict(t, tm, x), 1e-9); err != nil {
		t.Fatal(err)
	}
	for r := range x.Rows {
		if want := plain.Row(r, 0)[3] + 40*(x.At(r, 3)-0.5); math.Abs(v.Row(r, 0)[3]-want) > 1e-12 {
			t.Fatalf("row %d time feature: SHAP %v, want %v", r, v.Row(r, 0)[3], want)
		}
	}
}
