package explain

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/progress"
)

// catSynth is synth(Regression) with column 0 turned into a categorical
// code 0..7 (some missing) whose effect is not monotone in the code, so
// gbdt grows category-set splits.
func catSynth(n int, seed uint64) *model.Dataset {
	d := synth(model.Regression, n, 5, seed, true)
	for r := range n {
		c := math.Floor(8 * d.X.At(r, 2))
		d.X.Data[r*5+2] = c
		if int(c)%3 == 1 {
			d.Y[r] += 8
		}
	}
	d.Categorical = []bool{false, false, true, false, false}
	return d
}

// refCases are small fitted models of every kind newRefModel takes:
// depth up to 6 on 5 or 6 features, so paths split on a feature twice;
// missing values exercise default directions, catSynth category sets.
func refCases(t *testing.T) []struct {
	name string
	m    model.Model
	x    *model.Matrix
} {
	const p = 6
	reg := synth(model.Regression, 400, p, 1, false)
	bin := synth(model.Binary, 400, p, 2, false)
	multi := synth(model.Multiclass, 400, p, 3, false)
	regNaN := synth(model.Regression, 400, p, 4, true)
	binNaN := synth(model.Binary, 400, p, 5, true)
	multiNaN := synth(model.Multiclass, 400, p, 8, true)
	cat := catSynth(2000, 6)
	pos := synth(model.Regression, 400, p, 7, false)
	logTarget := &model.LogTargetModel{Inner: fitGBDT(t, pos, gbdt.Params{NEstimators: 6, MaxDepth: 4, LearningRate: 0.1}),
		Smear: 1.05, Lo: -2, Hi: 1.5} // bounds the margins cross, so the clamp is met
	trend := &model.TrendModel{Inner: fitTree(t, reg, 5), Index: []int{3}, Mean: []float64{0.5}, Coef: []float64{2}, Intercept: 1}
	return []struct {
		name string
		m    model.Model
		x    *model.Matrix
	}{
		{"tree-regression", fitTree(t, reg, 6), reg.X},
		{"tree-binary", fitTree(t, bin, 5), bin.X},
		{"forest-multiclass", fitForest(t, multi, 4, 5), multi.X},
		{"gbdt-regression-missing", fitGBDT(t, regNaN, gbdt.Params{NEstimators: 8, MaxDepth: 5}), regNaN.X},
		{"gbdt-binary-missing", fitGBDT(t, binNaN, gbdt.Params{NEstimators: 8, MaxDepth: 4}), binNaN.X},
		{"gbdt-categorical", fitGBDT(t, cat, gbdt.Params{NEstimators: 8, MaxDepth: 4, CategoricalSplits: true}), cat.X},
		{"gbdt-multiclass-missing", fitGBDT(t, multiNaN, gbdt.Params{NEstimators: 6, MaxDepth: 4}), multiNaN.X},
		{"logistic", fitLogistic(t, bin), bin.X},
		{"logistic-multiclass", fitLogistic(t, multi), multi.X},
		{"ridge", fitRidge(t, reg), reg.X},
		{"log-target", logTarget, pos.X},
		{"trend", trend, reg.X},
	}
}

// TestSingleReferenceMatchesBruteForce compares each pair's values with
// Shapley values of the game v(S) = m(x_S, r_S̄) of the margin, computed
// by enumerating every coalition and predicting each hybrid row.
func TestSingleReferenceMatchesBruteForce(t *testing.T) {
	for _, tc := range refCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			rm, err := newRefModel(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			p, k := rm.features, rm.outputs
			if tc.name == "gbdt-categorical" && !hasCategorical(rm.trees) {
				t.Fatal("no category-set split to test")
			}
			w := newRefWorker(rm)
			z := model.NewMatrix(1, p)
			for i := range 12 {
				x, r := tc.x.Row(i), tc.x.Row(100+7*i)
				w.pair(rm, x, r)
				want := bruteShapley(p, k, func(inS []bool, out []float64) {
					for j := range p {
						z.Data[j] = r[j]
						if inS[j] {
							z.Data[j] = x[j]
						}
					}
					if err := rm.margins(out, z); err != nil {
						t.Fatal(err)
					}
				})
				if d := maxAbsDiff(w.phi, want); d > 1e-9 {
					t.Fatalf("pair %d: values %v, brute force %v", i, w.phi, want)
				}
			}
		})
	}
}

func hasCategorical(e *TreeEnsemble) bool {
	for i := range e.trees {
		for _, c := range e.trees[i].cats {
			if c != nil {
				return true
			}
		}
	}
	return false
}

// TestInterventionalSHAP checks InterventionalSHAP against its
// definitions on every refCases model and a 9-row background: without a
// link, the brute-force interventional Shapley values of the prediction
// (the coalition's mean prediction over the background); with one, the
// mean over background rows of the brute-force margin values scaled by
// the link's secant, or mapped through the softmax's path-averaged
// Jacobian (softmaxShapley). Either way the values add up to the model's own
// prediction from the mean prediction over the background.
func TestInterventionalSHAP(t *testing.T) {
	for _, tc := range refCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			rm, err := newRefModel(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			x, bg := head(tc.x, 6), &model.Matrix{Rows: 9, Cols: tc.x.Cols, Data: tc.x.Data[200*tc.x.Cols : 209*tc.x.Cols]}
			v, err := InterventionalSHAP(context.Background(), tc.m, x, bg, InterventionalOptions{Workers: 2}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Exact != (rm.link.kind == linkIdentity) {
				t.Errorf("Exact = %v with a %s link", v.Exact, rm.link)
			}
			if _, err := v.CheckLocalAccuracy(predict(t, tc.m, x), 1e-9); err != nil {
				t.Fatal(err)
			}
			base := make([]float64, rm.outputs)
			for i, f := range predict(t, tc.m, bg) {
				base[i%rm.outputs] += f / float64(bg.Rows)
			}
			if d := maxAbsDiff(v.BaseValue, base); d > 1e-12 {
				t.Fatalf("base value %v, mean prediction over the background %v", v.BaseValue, base)
			}
			p, k := rm.features, rm.outputs
			for r := range x.Rows {
				var want []float64
				switch rm.link.kind {
				case linkIdentity:
					want = interventional(t, tc.m, x.Row(r), bg)
				case linkSoftmax:
					want = softmaxShapley(t, rm, x.Row(r), bg)
				default:
					want = secantShapley(t, rm, x.Row(r), bg)
				}
				if d := maxAbsDiff(v.Values[r*k*p:(r+1)*k*p], want); d > 1e-9 {
					t.Fatalf("row %d: values %v, brute force %v", r, v.Values[r*k*p:(r+1)*k*p], want)
				}
			}
		})
	}
}

// secantShapley is the brute-force definition of the rescaled values of
// one output: the mean over background rows r of the margin's Shapley
// values of v(S) = m(x_S, r_S̄) times (g(m(x)) − g(m(r)))/(m(x) − m(r)).
func secantShapley(t *testing.T, rm *refModel, x []float64, bg *model.Matrix) []float64 {
	p := rm.features
	out := make([]float64, p)
	z, mx, mr := model.NewMatrix(1, p), make([]float64, 1), make([]float64, 1)
	copy(z.Data, x)
	if err := rm.margins(mx, z); err != nil {
		t.Fatal(err)
	}
	for b := range bg.Rows {
		r := bg.Row(b)
		phi := refShapley(t, rm, z, x, r)
		copy(z.Data, r)
		if err := rm.margins(mr, z); err != nil {
			t.Fatal(err)
		}
		s := (rm.link.apply(mx[0]) - rm.link.apply(mr[0])) / (mx[0] - mr[0])
		for j := range p {
			out[j] += s * phi[j] / float64(bg.Rows)
		}
	}
	return out
}

// TestInterventionalSHAPDeterministic checks that the worker count does
// not change a bit of the values.
func TestInterventionalSHAPDeterministic(t *testing.T) {
	d := synth(model.Binary, 600, 8, 17, true)
	m := fitGBDT(t, d, gbdt.Params{NEstimators: 20, MaxDepth: 5})
	x, bg := head(d.X, 40), &model.Matrix{Rows: 30, Cols: 8, Data: d.X.Data[300*8 : 330*8]}
	a, err := InterventionalSHAP(context.Background(), m, x, bg, InterventionalOptions{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := InterventionalSHAP(context.Background(), m, x, bg, InterventionalOptions{Workers: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, a, b)
}

// TestInterventionalSupport refuses models without an interventional
// explainer, saying why: a custom model, and a trend over a link.
func TestInterventionalSupport(t *testing.T) {
	bin := synth(model.Binary, 300, 4, 19, false)
	trendLogit := &model.TrendModel{Inner: fitLogistic(t, bin), Index: []int{1}, Mean: []float64{0.5}, Coef: []float64{1}}
	for _, tc := range []struct {
		m   model.Model
		why string
	}{{notTree{4}, "interventional SHAP explains tree"}, {trendLogit, "trend target over a sigmoid link"}} {
		err := InterventionalSupport(tc.m)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.why) {
			t.Fatalf("%s: error %v; want ErrUnsupported saying %q", tc.m.Family(), err, tc.why)
		}
		if _, err := InterventionalSHAP(context.Background(), tc.m, head(bin.X, 2), head(bin.X, 2), InterventionalOptions{Workers: 1}, nil); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%s: InterventionalSHAP error %v; want ErrUnsupported", tc.m.Family(), err)
		}
	}
}

// TestInterventionalProgress checks that InterventionalSHAP reports every
// row as KernelSHAP does: a Step 0 event with the total first, then
// Steps 1, 2, ... up to the rows explained, in order although three
// workers finish them.
func TestInterventionalProgress(t *testing.T) {
	d := synth(model.Binary, 400, 6, 19, false)
	m := fitGBDT(t, d, gbdt.Params{NEstimators: 10, MaxDepth: 4})
	x, bg := head(d.X, 23), &model.Matrix{Rows: 10, Cols: 6, Data: d.X.Data[300*6 : 310*6]}
	var events []progress.Event
	_, err := InterventionalSHAP(context.Background(), m, x, bg,
		InterventionalOptions{Workers: 3, Progress: func(e progress.Event) { events = append(events, e) }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != x.Rows+1 {
		t.Fatalf("%d events for %d rows; want %d", len(events), x.Rows, x.Rows+1)
	}
	for i, e := range events {
		want := progress.Event{Stage: progress.ExplainRow, Name: string(MethodInterventional), Step: i, Total: x.Rows}
		if e.Stage != want.Stage || e.Name != want.Name || e.Step != want.Step || e.Total != want.Total {
			t.Fatalf("event %d = %+v; want %+v", i, e, want)
		}
	}
}
