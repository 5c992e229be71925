package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/prob"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
)

// TestGaussLegendre checks the nodes and weights on [0, 1]: n nodes
// integrate t^d exactly, 1/(d+1), for every degree d < 2n.
func TestGaussLegendre(t *testing.T) {
	nodes, weights := gaussLegendre(gaussNodes)
	for d := range 2 * gaussNodes {
		got := 0.0
		for i, u := range nodes {
			got += weights[i] * math.Pow(u, float64(d))
		}
		if want := 1 / float64(d+1); math.Abs(got-want) > 1e-15 {
			t.Fatalf("∫t^%d = %.17g; want %.17g", d, got, want)
		}
	}
}

// simpsonJacobian is ∫_0^1 J(zr + t(zx − zr)) dt by composite Simpson
// over n (even) intervals: an independent reference for jacobian.
func simpsonJacobian(zx, zr []float64, n int) []float64 {
	k := len(zx)
	c, z, p := make([]float64, k*k), make([]float64, k), make([]float64, k)
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		w := 2.0
		switch {
		case i == 0 || i == n:
			w = 1
		case i%2 == 1:
			w = 4
		}
		w /= 3 * float64(n)
		for m := range k {
			z[m] = zr[m] + t*(zx[m]-zr[m])
		}
		prob.Softmax(p, z)
		for a := range k {
			c[a*k+a] += w * p[a]
			for b := range k {
				c[a*k+b] -= w * p[a] * p[b]
			}
		}
	}
	return c
}

// TestSoftmaxPathJacobian checks the quadrature against composite Simpson
// with 20,000 intervals (error ~h^4·spread^4, below 1e-13 for these
// spreads) on random margin pairs whose spread runs from 0 to 200 (a
// logistic model on separable data), and that C·Δ reproduces
// p(x) − p(r) before apply's residual step: the quadrature alone is
// accurate, the residual step only a guard.
func TestSoftmaxPathJacobian(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	worst, worstSum := 0.0, 0.0
	for i := range 60 {
		k := 2 + i%5
		scale := []float64{0, 0.1, 1, 5, 20, 60}[i%6]
		zx, zr := make([]float64, k), make([]float64, k)
		for m := range k {
			zx[m], zr[m] = scale*rng.NormFloat64(), scale*rng.NormFloat64()
		}
		s := newSoftmaxPath(k)
		s.jacobian(zx, zr)
		want := simpsonJacobian(zx, zr, 20000)
		worst = max(worst, maxAbsDiff(s.c, want))
		px, pr := make([]float64, k), make([]float64, k)
		prob.Softmax(px, zx)
		prob.Softmax(pr, zr)
		for a := range k {
			sum := 0.0
			for m := range k {
				sum += s.c[a*k+m] * (zx[m] - zr[m])
			}
			worstSum = max(worstSum, math.Abs(sum-(px[a]-pr[a])))
		}
	}
	if worst > 1e-12 || worstSum > 1e-12 {
		t.Fatalf("quadrature error %g against Simpson, %g in C·Δ = p(x) − p(r); want both below 1e-12", worst, worstSum)
	}
}

// TestSoftmaxPathSaturated checks apply beyond maxPanels·panelSpread,
// where the quadrature is coarse: the values still add up to
// p(x) − p(r) per class.
func TestSoftmaxPathSaturated(t *testing.T) {
	const k, p = 3, 4
	zx, zr := []float64{900, -400, 0}, []float64{-700, 300, 5}
	phi := []float64{ // k×p margin values summing to zx − zr per class
		1000, 500, 100, 0,
		-300, -500, 0, -400,
		2, 0, -10, 3,
	}
	s := newSoftmaxPath(k)
	s.jacobian(zx, zr)
	px, pr := make([]float64, k), make([]float64, k)
	prob.Softmax(px, zx)
	prob.Softmax(pr, zr)
	acc, out := make([]float64, k*p), make([]float64, k*p)
	s.apply(acc, out, phi, px, pr, p)
	for a := range k {
		sum := 0.0
		for _, v := range acc[a*p : (a+1)*p] {
			sum += v
		}
		if d := math.Abs(sum - (px[a] - pr[a])); d > 1e-15 {
			t.Errorf("class %d: values add up to %.17g; p(x) − p(r) = %.17g", a, sum, px[a]-pr[a])
		}
	}
}

// softmaxShapley is the definition of InterventionalSHAP's values of a
// softmax model, from brute force: the mean over background rows r of
// C·φ, φ the margins' Shapley values of v(S) = z(x_S, r_S̄) by
// enumeration and C the path-averaged Jacobian by Simpson's rule.
func softmaxShapley(t *testing.T, rm *refModel, x []float64, bg *model.Matrix) []float64 {
	p, k := rm.features, rm.outputs
	out := make([]float64, k*p)
	z, zx, zr := model.NewMatrix(1, p), make([]float64, k), make([]float64, k)
	copy(z.Data, x)
	if err := rm.margins(zx, z); err != nil {
		t.Fatal(err)
	}
	for b := range bg.Rows {
		r := bg.Row(b)
		phi := refShapley(t, rm, z, x, r)
		copy(z.Data, r)
		if err := rm.margins(zr, z); err != nil {
			t.Fatal(err)
		}
		c := simpsonJacobian(zx, zr, 20000)
		for a := range k {
			for m := range k {
				for j := range p {
					out[a*p+j] += c[a*k+m] * phi[m*p+j] / float64(bg.Rows)
				}
			}
		}
	}
	return out
}

// penguins returns palmerpenguins (testdata/corpus: 344 rows, 3 species)
// as the design matrix linear models see (medians imputed, island and
// sex one-hot), with the species as class codes.
func penguins(t testing.TB) *model.Dataset {
	t.Helper()
	f, err := frame.ReadFile(filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yc, ok := f.Lookup("species")
	if !ok || yc.Kind != frame.Categorical {
		t.Fatal("penguins has no categorical species column")
	}
	x := f.Drop("species")
	d, err := features.FitDesign(context.Background(), x, features.DesignSpecFor(linear.Families()[0].Input))
	if err != nil {
		t.Fatal(err)
	}
	mat, err := d.Matrix(x)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, mat.Rows)
	for i, c := range yc.Codes {
		y[i] = float64(c)
	}
	return &model.Dataset{X: mat, Y: y, Task: model.Multiclass, NumClasses: len(yc.Levels), FeatureNames: d.FeatureNames()}
}

// TestInterventionalSoftmaxPenguins explains multiclass gbdt and
// logistic models with InterventionalSHAP, and a voting ensemble of them
// and a forest with Explain, on the penguins: the ensemble takes the
// interventional path and says so, the values add up to the predicted
// probabilities from their mean over the background to 1e-9, and one
// worker gives the same bits as three.
func TestInterventionalSoftmaxPenguins(t *testing.T) {
	d := penguins(t)
	gb := fitGBDT(t, d, gbdt.Params{NEstimators: 30, MaxDepth: 4})
	lo := fitLogistic(t, d)
	ens := voting(t, nil, gb, lo, fitForest(t, d, 10, 5))
	x := &model.Matrix{Rows: 40, Cols: d.X.Cols, Data: d.X.Data[100*d.X.Cols : 140*d.X.Cols]}
	bg := CapBackground(d.X, 0, 7)
	for _, m := range []model.Model{gb, lo, ens} {
		t.Run(m.Family(), func(t *testing.T) {
			run := func(workers int) *Values {
				t.Helper()
				var v *Values
				var err error
				if m == ens {
					v, err = Explain(context.Background(), m, x, Options{Background: d.X, Seed: 7, Workers: workers})
				} else {
					v, err = InterventionalSHAP(context.Background(), m, x, bg, InterventionalOptions{Workers: workers}, nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			v := run(1)
			notes := strings.Join(v.Notes, "; ")
			if v.Method != MethodInterventional || v.Output != OutputPrediction || v.Exact || strings.Contains(notes, "KernelSHAP") || !strings.Contains(notes, "softmax") {
				t.Fatalf("method %s output %s exact %v, notes %q; want interventional SHAP of the probabilities through the softmax", v.Method, v.Output, v.Exact, v.Notes)
			}
			if _, err := v.CheckLocalAccuracy(predict(t, m, x), 1e-9); err != nil {
				t.Fatal(err)
			}
			for c := range v.Outputs {
				mean := 0.0
				for r, f := range predict(t, m, bg) {
					if r%v.Outputs == c {
						mean += f / float64(bg.Rows)
					}
				}
				if math.Abs(v.BaseValue[c]-mean) > 1e-12 {
					t.Errorf("class %d: base value %v; the mean probability over the background is %v", c, v.BaseValue[c], mean)
				}
			}
			sameBits(t, v, run(3))
		})
	}
}
