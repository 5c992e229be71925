package linear

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/tabforge/tabforge/model"
)

// regressionData returns y = 2 + 3·x0 − x1 (+ 0.5·noise) on n random rows.
func regressionData(n int, noise float64) *model.Dataset {
	rng := rand.New(rand.NewPCG(11, 2))
	x := model.NewMatrix(n, 2)
	y := make([]float64, n)
	for i := range n {
		a, b := rng.NormFloat64(), rng.NormFloat64()*10+100
		x.Data[2*i], x.Data[2*i+1] = a, b
		y[i] = 2 + 3*a - b + noise*rng.NormFloat64()
	}
	return &model.Dataset{X: x, Y: y, Task: model.Regression, FeatureNames: []string{"a", "b"}}
}

func TestRegressionExactFit(t *testing.T) {
	no := false
	tests := []struct {
		name      string
		learner   Regression
		weighted  bool
		wantCoef  []float64
		wantInter float64
	}{
		{"ols", Regression{}, false, []float64{3, -1}, 2},
		{"ols_weighted", Regression{}, true, []float64{3, -1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := regressionData(5000, 0)
			if tt.weighted {
				d.Weights = make([]float64, d.X.Rows)
				for i := range d.Weights {
					d.Weights[i] = float64(i%4) * 0.5
				}
			}
			m, err := tt.learner.Train(context.Background(), d, model.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range tt.wantCoef {
				if got := m.Coef()[j]; math.Abs(got-w) > 1e-9 {
					t.Errorf("coef[%d] = %.12g; want %g", j, got, w)
				}
			}
			if got := m.Intercept()[0]; math.Abs(got-tt.wantInter) > 1e-7 {
				t.Errorf("intercept = %.12g; want %g", got, tt.wantInter)
			}
		})
	}
	// Without an intercept the fit of 2 + 3a − b must absorb the 2 into b's
	// coefficient; compare with gonum's QR least squares on the raw matrix.
	d := regressionData(500, 0.5)
	m, err := Regression{FitIntercept: &no}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want mat.VecDense
	if err := want.SolveVec(mat.NewDense(500, 2, d.X.Data), mat.NewVecDense(500, d.Y)); err != nil {
		t.Fatal(err)
	}
	for j := range 2 {
		if got := m.Coef()[j]; math.Abs(got-want.AtVec(j)) > 1e-9*math.Max(1, math.Abs(got)) {
			t.Errorf("no intercept: coef[%d] = %.12g; QR gives %.12g", j, got, want.AtVec(j))
		}
	}
	if m.Intercept()[0] != 0 {
		t.Errorf("no intercept: intercept = %g; want 0", m.Intercept()[0])
	}
}

// ridgeReference solves the centred ridge system with gonum, row by row,
// independently of the package's blocked moments.
func ridgeReference(d *model.Dataset, alpha float64) []float64 {
	n, p := d.X.Rows, d.X.Cols
	mean := make([]float64, p+1)
	for i := range n {
		for j := range p {
			mean[j] += d.X.At(i, j) / float64(n)
		}
		mean[p] += d.Y[i] / float64(n)
	}
	xc := mat.NewDense(n, p, nil)
	yc := mat.NewVecDense(n, nil)
	for i := range n {
		for j := range p {
			xc.Set(i, j, d.X.At(i, j)-mean[j])
		}
		yc.SetVec(i, d.Y[i]-mean[p])
	}
	var a mat.Dense
	a.Mul(xc.T(), xc)
	for j := range p {
		a.Set(j, j, a.At(j, j)+alpha)
	}
	var b, beta mat.VecDense
	b.MulVec(xc.T(), yc)
	if err := beta.SolveVec(&a, &b); err != nil {
		panic(err)
	}
	return beta.RawVector().Data
}

func TestRidgeMatchesDirectSolve(t *testing.T) {
	tests := []struct {
		name  string
		n, p  int
		alpha float64
	}{
		{"tall", 3000, 6, 1},
		{"wide_n_lt_p", 20, 50, 0.5},
		{"strong_penalty", 400, 10, 1e4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(tt.p)))
			d := &model.Dataset{X: model.NewMatrix(tt.n, tt.p), Y: make([]float64, tt.n), Task: model.Regression}
			for i := range d.X.Data {
				d.X.Data[i] = rng.NormFloat64() + 1000 // large means test the centring
			}
			for i := range d.Y {
				d.Y[i] = d.X.At(i, 0) - 2*d.X.At(i, 1) + rng.NormFloat64()
			}
			m, err := Regression{Alpha: tt.alpha}.Train(context.Background(), d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			want := ridgeReference(d, tt.alpha)
			for j, w := range want {
				if got := m.Coef()[j]; math.Abs(got-w) > 1e-8*math.Max(1, math.Abs(w)) {
					t.Errorf("coef[%d] = %.12g; direct solve %.12g", j, got, w)
				}
			}
		})
	}
}

// TestOLSRankDeficient checks the minimum-norm solution on designs with a
// duplicated column, a constant column and n < p, against an SVD
// pseudo-inverse of the whole centred matrix (gonum), and that both the
// normal-equation, TSQR and wide (dual) paths are exercised.
func TestOLSRankDeficient(t *testing.T) {
	tests := []struct {
		name        string
		n, p        int
		dup, const_ bool
		wantSolver  string
	}{
		{"well_conditioned", 5000, 4, false, false, "normal"},
		{"duplicate_column", 5000, 4, true, false, "tsqr-svd"},
		{"constant_column", 300, 4, false, true, "normal"},
		{"n_lt_p", 6, 10, false, false, "dual-eigen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(tt.n)))
			d := &model.Dataset{X: model.NewMatrix(tt.n, tt.p), Y: make([]float64, tt.n), Task: model.Regression}
			for i := range d.X.Data {
				d.X.Data[i] = rng.NormFloat64()
			}
			for i := range tt.n {
				if tt.dup {
					d.X.Data[i*tt.p+1] = d.X.Data[i*tt.p]
				}
				if tt.const_ {
					d.X.Data[i*tt.p+2] = 7
				}
				d.Y[i] = 1 + d.X.At(i, 0) + 0.5*d.X.At(i, 3) + 0.1*rng.NormFloat64()
			}
			for _, workers := range []int{1, 3} {
				m, err := Regression{}.Train(context.Background(), d, model.FitOptions{Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				if m.solver != tt.wantSolver {
					t.Errorf("solver = %q; want %q", m.solver, tt.wantSolver)
				}
				want := minNormReference(d)
				for j, w := range want {
					if got := m.Coef()[j]; math.Abs(got-w) > 1e-8 {
						t.Errorf("workers=%d coef[%d] = %.12g; pseudo-inverse %.12g", workers, j, got, w)
					}
				}
				if tt.dup {
					if c := m.Coef(); math.Abs(c[0]-c[1]) > 1e-9 {
						t.Errorf("duplicated columns got %g and %g; the minimum norm splits evenly", c[0], c[1])
					}
				}
			}
		})
	}
}

// minNormReference returns pinv(Xc)·yc via gonum's SVD of the full centred
// matrix.
func minNormReference(d *model.Dataset) []float64 {
	n, p := d.X.Rows, d.X.Cols
	mean := make([]float64, p+1)
	for i := range n {
		for j := range p {
			mean[j] += d.X.At(i, j) / float64(n)
		}
		mean[p] += d.Y[i] / float64(n)
	}
	xc := mat.NewDense(n, p, nil)
	yc := make([]float64, n)
	for i := range n {
		for j := range p {
			xc.Set(i, j, d.X.At(i, j)-mean[j])
		}
		yc[i] = d.Y[i] - mean[p]
	}
	return svdMinNorm(xc, yc)
}

// svdMinNorm is the minimum-norm least-squares solution of xc β = yc
// through a thin SVD, singular values below 1e-10 of the largest dropped.
func svdMinNorm(xc *mat.Dense, yc []float64) []float64 {
	n, p := xc.Dims()
	var svd mat.SVD
	svd.Factorize(xc, mat.SVDThin)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	s := svd.Values(nil)
	beta := make([]float64, p)
	for k, sk := range s {
		if sk <= 1e-10*s[0] {
			continue
		}
		c := 0.0
		for i := range n {
			c += u.At(i, k) * yc[i]
		}
		for j := range p {
			beta[j] += c / sk * v.At(j, k)
		}
	}
	return beta
}

// logisticGradientNorm returns the largest component of the gradient of
// sklearn's objective Σ wᵢ·logloss + ‖W‖²/(2C) at the model, computed
// directly in input units.
func logisticGradientNorm(m *Model, d *model.Dataset, c float64) float64 {
	n, p, k := d.X.Rows, d.X.Cols, m.rows()
	gw := make([]float64, k*p)
	gb := make([]float64, k)
	prob := make([]float64, m.NumOutputs())
	for i := range n {
		x := &model.Matrix{Rows: 1, Cols: p, Data: d.X.Row(i)}
		if err := m.Predict(prob, x); err != nil {
			panic(err)
		}
		w := 1.0
		if d.Weights != nil {
			w = d.Weights[i]
		}
		for c := range k {
			var r float64
			if k == 1 {
				r = prob[0] - d.Y[i]
			} else {
				r = prob[c]
				if int(d.Y[i]) == c {
					r--
				}
			}
			for j := range p {
				gw[c*p+j] += w * r * d.X.At(i, j)
			}
			gb[c] += w * r
		}
	}
	g := 0.0
	for i, v := range gw {
		if c > 0 {
			v += m.coef[i] / c
		}
		g = math.Max(g, math.Abs(v))
	}
	for _, v := range gb {
		g = math.Max(g, math.Abs(v))
	}
	return g
}

func TestLogisticOptimality(t *testing.T) {
	tests := []struct {
		name     string
		k        int
		weighted bool
		c        float64
	}{
		{"binary", 2, false, 1},
		{"binary_weighted", 2, true, 0.3},
		{"binary_unpenalised", 2, false, 0},
		{"multiclass", 3, false, 1},
		{"multiclass_weighted", 5, true, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := randomClassification(21, 2000, 6, tt.k, tt.weighted)
			// A tolerance far below the default: this checks that the
			// stopping rule and the gradient agree, not the default.
			m, err := Logistic{C: tt.c, Tol: 1e-8}.Train(context.Background(), d, model.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// The stopping rule bounds the scaled, standardised gradient by
			// 1e-8; in input units and summed over 2000 rows that is ~1e-4
			// at most (column scales here reach 6).
			if g := logisticGradientNorm(m, d, tt.c); g > 1e-4 {
				t.Errorf("max |∇f| at the fit = %.3g; want <= 1e-4", g)
			}
		})
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	reg := regressionData(40_000, 1)
	cls := randomClassification(4, 40_000, 5, 3, true)
	ctx := context.Background()
	learners := []struct {
		name string
		l    model.Learner
		d    *model.Dataset
	}{
		{"ols", Regression{}, reg},
		{"ridge", Regression{Alpha: 3}, reg},
		{"logistic", Logistic{C: 1}, cls},
	}
	for _, tt := range learners {
		var ref []byte
		for _, w := range []int{1, 2, 7} {
			m, err := tt.l.Fit(ctx, tt.d, model.FitOptions{Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = b
			} else if !bytes.Equal(ref, b) {
				t.Errorf("%s: Workers=%d gives a different model than Workers=1", tt.name, w)
			}
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := regressionData(300, 1)
	cls := randomClassification(8, 300, 4, 3, false)
	fams := map[string]model.Family{}
	for _, f := range Families() {
		fams[f.Name] = f
	}
	for _, tt := range []struct {
		l model.Learner
		d *model.Dataset
	}{{Regression{}, reg}, {Regression{Alpha: 2}, reg}, {Logistic{C: 1}, cls}} {
		m, err := tt.l.Fit(ctx, tt.d, model.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := fams[m.Family()].Decode(b)
		if err != nil {
			t.Fatalf("%s: Decode: %v", m.Family(), err)
		}
		b2, _ := back.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Errorf("%s: re-encoding differs", m.Family())
		}
		p1 := make([]float64, tt.d.X.Rows*m.NumOutputs())
		p2 := make([]float64, len(p1))
		if err := m.Predict(p1, tt.d.X); err != nil {
			t.Fatal(err)
		}
		if err := back.Predict(p2, tt.d.X); err != nil {
			t.Fatal(err)
		}
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Fatalf("%s: prediction %d = %v after decode; want %v", m.Family(), i, p2[i], p1[i])
			}
		}
		// Decoding as another family fails.
		other := FamilyLogistic
		if m.Family() == FamilyLogistic {
			other = FamilyOLS
		}
		if _, err := fams[other].Decode(b); err == nil {
			t.Errorf("%s model decoded as %s", m.Family(), other)
		}
	}
	for _, bad := range []string{``, `{}`, `{"format":"tabforge.linear/v1","family":"ols","task":"regression","features":2,"coef":[1],"intercept":[0],"means":[0,0],"params":{"fit_intercept":true}}`, `{"format":"x"}`, `{"extra":1}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) succeeded; want an error", bad)
		}
	}
}

func TestFitErrors(t *testing.T) {
	ctx := context.Background()
	nanX := regressionData(10, 0)
	nanX.X.Data[7] = math.NaN() // row 3, column "b"
	infY := regressionData(10, 0)
	infY.Y[2] = math.Inf(1)
	negW := regressionData(10, 0)
	negW.Weights = make([]float64, 10)
	negW.Weights[4] = -1
	oneClass := randomClassification(1, 50, 3, 2, false)
	clear(oneClass.Y)
	badLabel := randomClassification(1, 50, 3, 2, false)
	badLabel.Y[3] = 0.5
	zeroW := randomClassification(1, 50, 3, 2, false)
	zeroW.Weights = make([]float64, 50)
	tests := []struct {
		name string
		l    model.Learner
		d    *model.Dataset
		want string
	}{
		{"nan_feature", Regression{}, nanX, `linear: missing value in feature "b"; impute first`},
		{"nan_feature_logistic", Logistic{C: 1}, &model.Dataset{X: nanX.X, Y: []float64{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, Task: model.Binary, NumClasses: 2, FeatureNames: nanX.FeatureNames}, `missing value in feature "b"`},
		{"inf_target", Regression{Alpha: 1}, infY, "target of row 2"},
		{"negative_weight", Regression{}, negW, "sample weight 4"},
		{"empty", Regression{}, &model.Dataset{X: model.NewMatrix(0, 3), Task: model.Regression}, "empty"},
		{"nil_dataset", Logistic{}, nil, "empty"},
		{"single_class", Logistic{C: 1}, oneClass, "1 class"},
		{"bad_label", Logistic{C: 1}, badLabel, "label of row 3"},
		{"zero_weights", Logistic{C: 1}, zeroW, "weights sum"},
		{"regression_task_for_logistic", Logistic{C: 1}, regressionData(10, 0), "binary or multiclass"},
		{"classification_task_for_ols", Regression{}, oneClass, "regression task"},
		{"negative_alpha", Regression{Alpha: -1}, regressionData(10, 0), "alpha"},
		{"negative_max_iter", Logistic{MaxIter: -1}, oneClass, "max_iter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.l.Fit(ctx, tt.d, model.FitOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Fit error = %v; want one containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "linear: linear:") {
				t.Errorf("Fit error = %v; want the package named once", err)
			}
		})
	}
}

func TestConstantColumns(t *testing.T) {
	d := randomClassification(2, 1000, 4, 2, false)
	for i := range d.X.Rows {
		d.X.Data[i*4+1] = 3.5 // constant
		d.X.Data[i*4+2] = 0   // all zero
	}
	ctx := context.Background()
	for _, l := range []model.Learner{Logistic{C: 1}, Logistic{}} {
		m, err := l.Fit(ctx, d, model.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := m.(*Model).Coef()
		if math.Abs(c[1]) > 1e-6 || c[2] != 0 || !finite(c) {
			t.Errorf("coefficients of constant columns = %v, %v; want ≈ 0", c[1], c[2])
		}
	}
	r := regressionData(1000, 1)
	x := model.NewMatrix(1000, 3)
	for i := range 1000 {
		x.Data[i*3], x.Data[i*3+1], x.Data[i*3+2] = r.X.At(i, 0), 42, r.X.At(i, 1)
	}
	r.X, r.FeatureNames = x, nil
	for _, l := range []Regression{{}, {Alpha: 1}} {
		m, err := l.Train(ctx, r, model.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c := m.Coef(); math.Abs(c[1]) > 1e-9 || math.Abs(c[0]-3) > 0.1 {
			t.Errorf("alpha %g: coef = %v; want constant column ≈ 0 and coef[0] ≈ 3", l.Alpha, c)
		}
	}
}

func TestFitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		l model.Learner
		d *model.Dataset
	}{{Regression{}, regressionData(100, 1)}, {Logistic{C: 1}, randomClassification(1, 100, 3, 2, false)}} {
		if _, err := tt.l.Fit(ctx, tt.d, model.FitOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%T.Fit with a cancelled context = %v; want context.Canceled", tt.l, err)
		}
	}
}

func TestPredictErrors(t *testing.T) {
	m, err := Regression{}.Train(context.Background(), regressionData(50, 1), model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := model.NewMatrix(2, 2)
	x.Data[3] = math.NaN()
	tests := []struct {
		name string
		dst  []float64
		x    *model.Matrix
		want string
	}{
		{"nan", make([]float64, 2), x, `linear: predict: row 1: missing value in feature "b"`},
		{"columns", make([]float64, 2), model.NewMatrix(2, 3), "3 columns"},
		{"dst", make([]float64, 1), model.NewMatrix(2, 2), "dst has length 1"},
		{"nil", nil, nil, "nil matrix"},
	}
	for _, tt := range tests {
		if err := m.Predict(tt.dst, tt.x); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Predict error = %v; want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestPredictDoesNotModifyInput(t *testing.T) {
	d := randomClassification(3, 200, 4, 3, false)
	m, err := Logistic{C: 1}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float64(nil), d.X.Data...)
	out := make([]float64, 200*3)
	if err := m.Predict(out, d.X); err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i] != d.X.Data[i] {
			t.Fatal("Predict modified its input")
		}
	}
	for i := range 200 {
		s := out[3*i] + out[3*i+1] + out[3*i+2]
		if math.Abs(s-1) > 1e-12 {
			t.Fatalf("row %d probabilities sum to %v", i, s)
		}
	}
}

func TestFamilies(t *testing.T) {
	var reg model.Registry
	for _, f := range Families() {
		reg.Register(f)
		if !f.Input.OneHot || !f.Input.Scale || f.Input.Missing {
			t.Errorf("%s: Input = %+v; want one-hot, scaled, no missing", f.Name, f.Input)
		}
	}
	tests := []struct {
		family, params string
		task           model.Task
		want           model.Learner
		err            string
	}{
		{"ols", ``, model.Regression, Regression{}, ""},
		{"ols", `{"fit_intercept": false}`, model.Regression, Regression{FitIntercept: ptr(false)}, ""},
		{"ols", `{"alpha": 1}`, model.Regression, nil, "unknown field"},
		{"ols", ``, model.Binary, nil, "does not support"},
		{"ridge", `null`, model.Regression, Regression{Alpha: 1}, ""},
		{"ridge", `{"alpha": 0.25}`, model.Regression, Regression{Alpha: 0.25}, ""},
		{"ridge", `{"alpha": 0}`, model.Regression, nil, "alpha"},
		{"ridge", `{"alpha": "x"}`, model.Regression, nil, "parameters"},
		{"logistic", ``, model.Binary, Logistic{C: 1}, ""},
		{"logistic", `{"c": 0.5, "max_iter": 50, "tol": 1e-6}`, model.Multiclass, Logistic{C: 0.5, MaxIter: 50, Tol: 1e-6}, ""},
		{"logistic", `{"C": 0.5}`, model.Binary, Logistic{C: 0.5}, ""}, // encoding/json matches keys case-insensitively
		{"logistic", `{"penalty": "l1"}`, model.Binary, nil, "unknown field"},
		{"logistic", `{"max_iter": -3}`, model.Binary, nil, "max_iter"},
		{"logistic", ``, model.Regression, nil, "does not support"},
	}
	for _, tt := range tests {
		f, err := reg.Lookup(tt.family)
		if err != nil {
			t.Fatal(err)
		}
		l, err := f.New(tt.task, 0, json.RawMessage(tt.params))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s.New(%q) error = %v; want %q", tt.family, tt.params, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s.New(%q): %v", tt.family, tt.params, err)
			continue
		}
		gotJSON, _ := json.Marshal(l)
		wantJSON, _ := json.Marshal(tt.want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s.New(%q) = %s; want %s", tt.family, tt.params, gotJSON, wantJSON)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestParams(t *testing.T) {
	ctx := context.Background()
	m, err := Logistic{C: 2, MaxIter: 30}.Train(ctx, randomClassification(1, 100, 2, 2, false), model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.Params())
	if want := `{"c":2,"fit_intercept":true,"max_iter":30,"tol":0.0001}`; string(got) != want {
		t.Errorf("Params() = %s; want %s", got, want)
	}
	r, err := Regression{Alpha: 0.5}.Train(ctx, regressionData(20, 1), model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(r.Params())
	if want := `{"alpha":0.5,"fit_intercept":true}`; string(got) != want {
		t.Errorf("Params() = %s; want %s", got, want)
	}
}

func TestChunkRows(t *testing.T) {
	tests := []struct{ n, base, q, want int }{
		{800_000, momentChunk, 29, momentChunk}, // 49 parts of 29² floats fit easily
		{100_000, momentChunk, 5001, 131072},    // one 5001² part already exceeds the budget
		{1_000_000, 2048, 1001, 65536},          // 16 parts of 1001² floats fill the budget
	}
	for _, tt := range tests {
		got := chunkRows(tt.n, tt.base, tt.q)
		if got != tt.want {
			t.Errorf("chunkRows(%d, %d, %d) = %d; want %d", tt.n, tt.base, tt.q, got, tt.want)
		}
		if parts := numChunks(tt.n, got); parts > 1 && parts*tt.q*tt.q*8 > partBudget {
			t.Errorf("chunkRows(%d, %d, %d): %d parts exceed the budget", tt.n, tt.base, tt.q, parts)
		}
	}
}
