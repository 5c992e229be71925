package explain

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// columnMeans returns the column means of x, computed here rather than
// taken from the model.
func columnMeans(x *model.Matrix) []float64 {
	m := make([]float64, x.Cols)
	for r := range x.Rows {
		for j, v := range x.Row(r) {
			m[j] += v
		}
	}
	for j := range m {
		m[j] /= float64(x.Rows)
	}
	return m
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// TestLinearSHAPExact checks linear SHAP against brute-force Shapley
// values of the model's own predictions with absent features set to the
// training means (exact for a linear margin), and local accuracy against
// Predict (the logit of the probability for logistic models).
func TestLinearSHAPExact(t *testing.T) {
	const p = 5
	reg := synth(model.Regression, 300, p, 21, false)
	bin := synth(model.Binary, 300, p, 22, false)
	for _, tc := range []struct {
		name string
		d    *model.Dataset
		m    model.Model
	}{
		{"ridge", reg, fitRidge(t, reg)},
		{"logistic", bin, fitLogistic(t, bin)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := head(tc.d.X, 20)
			v, err := Explain(context.Background(), tc.m, x, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Method != MethodLinear || !v.Exact {
				t.Fatalf("Explain used %s (exact %v); want exact linear SHAP", v.Method, v.Exact)
			}
			mean := columnMeans(tc.d.X)
			margin := func(z []float64) float64 {
				out := predict(t, tc.m, &model.Matrix{Rows: 1, Cols: p, Data: z})
				if tc.name == "logistic" {
					return logit(out[0])
				}
				return out[0]
			}
			f := make([]float64, x.Rows)
			for r := range x.Rows {
				row := x.Row(r)
				want := bruteShapley(p, 1, func(inS []bool, out []float64) {
					z := make([]float64, p)
					for j := range z {
						z[j] = mean[j]
						if inS[j] {
							z[j] = row[j]
						}
					}
					out[0] = margin(z)
				})
				if d := maxAbsDiff(v.Row(r, 0), want); d > 1e-9 {
					t.Fatalf("row %d: linear SHAP %v, brute force %v", r, v.Row(r, 0), want)
				}
				f[r] = margin(row)
			}
			if _, err := v.CheckLocalAccuracy(f, 1e-6); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// interventional returns brute-force interventional Shapley values of f
// at row x over background bg (equal weights).
func interventional(t *testing.T, m model.Model, x []float64, bg *model.Matrix) []float64 {
	p, k := bg.Cols, m.NumOutputs()
	return bruteShapley(p, k, func(inS []bool, out []float64) {
		z := model.NewMatrix(bg.Rows, p)
		for r := range bg.Rows {
			for j := range p {
				z.Data[r*p+j] = bg.At(r, j)
				if inS[j] {
					z.Data[r*p+j] = x[j]
				}
			}
		}
		pred := predict(t, m, z)
		clear(out)
		for r := range bg.Rows {
			for o := range k {
				out[o] += pred[r*k+o] / float64(bg.Rows)
			}
		}
	})
}

// TestKernelSHAPExactWhenEnumerated checks that KernelSHAP with every
// coalition enumerated equals brute-force interventional Shapley values
// for nonlinear models, including multiclass outputs.
func TestKernelSHAPExactWhenEnumerated(t *testing.T) {
	const p = 6
	reg := synth(model.Regression, 300, p, 31, false)
	multi := synth(model.Multiclass, 300, p, 32, false)
	for _, tc := range []struct {
		name string
		d    *model.Dataset
		m    model.Model
	}{
		{"gbdt-regression", reg, fitGBDT(t, reg, gbdt.Params{NEstimators: 20, MaxDepth: 4})},
		{"forest-multiclass", multi, fitForest(t, multi, 5, 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bg := head(tc.d.X, 12)
			x := &model.Matrix{Rows: 5, Cols: p, Data: tc.d.X.Data[100*p : 105*p]}
			v, err := KernelSHAP(context.Background(), tc.m.Predict, tc.m.NumOutputs(), x, &Background{X: bg}, KernelOptions{Seed: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Exact {
				t.Fatal("6 features should be enumerated")
			}
			k := tc.m.NumOutputs()
			for r := range x.Rows {
				want := interventional(t, tc.m, x.Row(r), bg)
				for o := range k {
					if d := maxAbsDiff(v.Row(r, o), want[o*p:(o+1)*p]); d > 1e-8 {
						t.Fatalf("row %d output %d: KernelSHAP %v, brute force %v", r, o, v.Row(r, o), want[o*p:(o+1)*p])
					}
				}
			}
			if _, err := v.CheckLocalAccuracy(predict(t, tc.m, x), 1e-6); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKernelSHAPSampled explains a 20-feature model with a budget far
// below the 2^20 coalitions: local accuracy still holds to the stated
// tolerance, and on a linear model (where the least-squares fit is exact
// for any full-rank sample) the values equal coef × (x − background mean).
func TestKernelSHAPSampled(t *testing.T) {
	const p = 20
	reg := synth(model.Regression, 400, p, 41, false)
	lin := fitRidge(t, reg)
	g := fitGBDT(t, reg, gbdt.Params{NEstimators: 30, MaxDepth: 4})
	x := head(reg.X, 6)
	bg, err := KMeansBackground(context.Background(), reg.X, 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []model.Model{lin, g} {
		v, err := KernelSHAP(context.Background(), m.Predict, 1, x, bg, KernelOptions{Samples: 300, Seed: 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v.Exact {
			t.Fatal("300 of 2^20 coalitions reported as exact")
		}
		worst, err := v.CheckLocalAccuracy(predict(t, m, x), v.Tolerance)
		if err != nil {
			t.Fatal(err)
		}
		if m == lin {
			var bmean [p]float64
			var wsum float64
			for i := range bg.X.Rows {
				wsum += bg.Weights[i]
				for j := range p {
					bmean[j] += bg.Weights[i] * bg.X.At(i, j)
				}
			}
			coef := lin.Coef()
			for r := range x.Rows {
				for j := range p {
					want := coef[j] * (x.At(r, j) - bmean[j]/wsum)
					if got := v.Row(r, 0)[j]; math.Abs(got-want) > 1e-6 {
						t.Fatalf("row %d feature %d: KernelSHAP %v, coef×(x−mean) %v", r, j, got, want)
					}
				}
			}
		}
		t.Logf("%s: worst local-accuracy error %.2g", m.Family(), worst)
	}
}

// TestKernelSHAPDeterministic checks the seed, not the worker count,
// decides the sampled values.
func TestKernelSHAPDeterministic(t *testing.T) {
	d := synth(model.Regression, 300, 14, 51, false)
	m := fitGBDT(t, d, gbdt.Params{NEstimators: 10})
	x := head(d.X, 4)
	bg := SampleBackground(d.X, 10, 1)
	run := func(workers int, seed uint64) []float64 {
		v, err := KernelSHAP(context.Background(), m.Predict, 1, x, bg, KernelOptions{Samples: 200, Seed: seed, Workers: workers}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v.Values
	}
	a, b, c := run(1, 7), run(3, 7), run(1, 8)
	if maxAbsDiff(a, b) != 0 {
		t.Fatal("KernelSHAP depends on the worker count")
	}
	if maxAbsDiff(a, c) == 0 {
		t.Fatal("KernelSHAP ignores the seed")
	}
}

// notTree is a model no exact explainer knows: a fixed nonlinear function.
type notTree struct{ p int }

func (notTree) Family() string                 { return "custom" }
func (notTree) NumOutputs() int                { return 1 }
func (notTree) Params() map[string]any         { return nil }
func (notTree) MarshalBinary() ([]byte, error) { return nil, nil }
func (n notTree) Predict(dst []float64, x *model.Matrix) error {
	for r := range x.Rows {
		row := x.Row(r)
		dst[r] = row[0]*row[1] + math.Sin(row[2])
	}
	return nil
}

// TestExplainFallsBack checks that MethodTree and MethodAuto on a model
// TreeSHAP cannot read fall back to KernelSHAP, saying so.
func TestExplainFallsBack(t *testing.T) {
	d := synth(model.Regression, 200, 4, 61, false)
	x := head(d.X, 5)
	for _, method := range []Method{MethodAuto, MethodTree, MethodLinear} {
		v, err := Explain(context.Background(), notTree{4}, x, Options{Method: method, Background: d.X, BackgroundSize: 10})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if v.Method != MethodKernel || len(v.Notes) == 0 || !strings.Contains(v.Notes[0], "KernelSHAP") {
			t.Fatalf("%s: method %s, notes %q; want a KernelSHAP fallback with a note", method, v.Method, v.Notes)
		}
		if _, err := v.CheckLocalAccuracy(predict(t, notTree{4}, x), v.Tolerance); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewTreeEnsemble(notTree{4}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("NewTreeEnsemble(custom) error %v; want ErrUnsupported", err)
	}
}

// TestExplainBadInput covers shape errors.
func TestExplainBadInput(t *testing.T) {
	d := synth(model.Regression, 200, 4, 71, false)
	g := fitGBDT(t, d, gbdt.Params{NEstimators: 5})
	lin := fitRidge(t, d)
	wrong := model.NewMatrix(3, 5)
	for _, m := range []model.Model{g, lin} {
		if _, err := Explain(context.Background(), m, wrong, Options{}); err == nil || !strings.Contains(err.Error(), "columns") {
			t.Errorf("%s: explaining a 5-column matrix: error %v; want a column-count error", m.Family(), err)
		}
		if _, err := Explain(context.Background(), m, model.NewMatrix(0, 4), Options{}); err == nil {
			t.Errorf("%s: explaining no rows: no error", m.Family())
		}
	}
	nan := model.NewMatrix(1, 4)
	nan.Data[2] = math.NaN()
	if _, err := Explain(context.Background(), lin, nan, Options{}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("linear SHAP of a NaN row: error %v", err)
	}
	if _, err := KernelSHAP(context.Background(), g.Predict, 1, head(d.X, 2), &Background{X: wrong}, KernelOptions{}, nil); err == nil {
		t.Error("KernelSHAP with a background of the wrong width: no error")
	}
}

func TestParseRows(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"0,5,10-12", []int{0, 5, 10, 11, 12}, false},
		{"3", []int{3}, false},
		{"2-2", []int{2}, false},
		{"", nil, true},
		{"1,,2", nil, true},
		{"-1", nil, true},
		{"5-3", nil, true},
		{"a", nil, true},
		{"1-x", nil, true},
		{"0-16777216", nil, true},          // 1<<24 + 1 rows
		{"0-9999999,0-9999999", nil, true}, // each range in bounds, the list not
	} {
		got, err := ParseRows(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("ParseRows(%q) error %v; want error %v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && (len(got) != len(tc.want) || maxAbsDiff(intsF(got), intsF(tc.want)) != 0) {
			t.Errorf("ParseRows(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func intsF(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestSampleRows(t *testing.T) {
	a := SampleRows(1000, 50, 9)
	b := SampleRows(1000, 50, 9)
	if len(a) != 50 || maxAbsDiff(intsF(a), intsF(b)) != 0 {
		t.Fatalf("SampleRows not deterministic: %v vs %v", a, b)
	}
	for i := 1; i < len(a); i++ {
		if a[i] <= a[i-1] {
			t.Fatalf("SampleRows not increasing: %v", a)
		}
	}
	if len(SampleRows(10, 50, 9)) != 10 || len(SampleRows(10, 0, 9)) != 10 {
		t.Fatal("SampleRows with max >= n or 0 must return every row")
	}
}
