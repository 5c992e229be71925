package eval_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
)

// friedman is the noise-free Friedman-1 function on the first five inputs.
func friedman(x []float64) float64 {
	return 10*math.Sin(math.Pi*x[0]*x[1]) + 20*(x[2]-0.5)*(x[2]-0.5) + 10*x[3] + 5*x[4]
}

// noisyProblem returns a training set of n rows and a test set of
// distinct inputs each repeated reps times, targets f(x) + N(0, sigma²),
// and the noise-free f of each test row.
func noisyProblem(seed uint64, n, distinct, reps int, sigma float64) (train, test *model.Dataset, f []float64) {
	const cols = 5
	rng := rand.New(rand.NewPCG(seed, 1))
	train = &model.Dataset{X: model.NewMatrix(n, cols), Y: make([]float64, n), Task: model.Regression}
	for i := range n {
		row := train.X.Row(i)
		for j := range row {
			row[j] = rng.Float64()
		}
		train.Y[i] = friedman(row) + sigma*rng.NormFloat64()
	}
	m := distinct * reps
	test = &model.Dataset{X: model.NewMatrix(m, cols), Y: make([]float64, m), Task: model.Regression}
	f = make([]float64, m)
	for g := range distinct {
		x := make([]float64, cols)
		for j := range x {
			x[j] = rng.Float64()
		}
		for r := range reps {
			i := g*reps + r
			copy(test.X.Row(i), x)
			f[i] = friedman(x)
			test.Y[i] = f[i] + sigma*rng.NormFloat64()
		}
	}
	return train, test, f
}

// meanPrediction re-estimates the main prediction m of a learner by its
// own bootstrap (other resamples than BiasVariance draws), to compare
// (f - m)² from the known f with the estimated squared bias.
func meanPrediction(t *testing.T, l model.Learner, train, test *model.Dataset, rounds int, seed uint64) []float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	mean := make([]float64, test.X.Rows)
	pred := make([]float64, test.X.Rows)
	for range rounds {
		rows := make([]int, train.X.Rows)
		for i := range rows {
			rows[i] = rng.IntN(train.X.Rows)
		}
		d := *train
		d.X = train.X.TakeRows(rows)
		d.Y = make([]float64, len(rows))
		for i, r := range rows {
			d.Y[i] = train.Y[r]
		}
		m, err := l.Fit(context.Background(), &d, model.FitOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Predict(pred, test.X); err != nil {
			t.Fatal(err)
		}
		for i, p := range pred {
			mean[i] += p / float64(rounds)
		}
	}
	return mean
}

// TestBiasVarianceShallowVsDeep is the acceptance check of issue 7: on a
// problem with known noise σ² = 1, a depth-1 tree has high bias and low
// variance, an unlimited tree low bias and high variance; the terms add up
// to the expected loss; the noise estimate recovers σ² and the squared
// bias agrees with the one computed from the known function.
func TestBiasVarianceShallowVsDeep(t *testing.T) {
	const (
		sigma  = 1.0
		reps   = 20
		rounds = 30
	)
	train, test, f := noisyProblem(7, 500, 60, reps, sigma)
	results := map[string]*eval.BiasVarianceResult{}
	for _, tc := range []struct {
		name  string
		depth int
	}{{"stump", 1}, {"deep", 0}} {
		l := tree.Params{MaxDepth: tc.depth, Seed: 1}
		r, err := eval.BiasVariance(context.Background(), l, train, test, eval.BiasVarianceOptions{Rounds: rounds, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		results[tc.name] = r
		t.Logf("%s: loss %.4f = bias² %.4f + variance %.4f + noise %.4f (noise rows %d)",
			tc.name, r.ExpectedLoss, r.Bias2, r.Variance, r.Noise, r.NoiseRows)

		if r.Loss != "squared" || r.Rounds != rounds || r.TestRows != test.X.Rows {
			t.Errorf("%s: loss %q rounds %d rows %d", tc.name, r.Loss, r.Rounds, r.TestRows)
		}
		if !r.NoiseAvailable || r.NoiseRows != test.X.Rows {
			t.Errorf("%s: noise available %v over %d rows; want true over %d", tc.name, r.NoiseAvailable, r.NoiseRows, test.X.Rows)
		}
		// Additivity is exact in the estimate (rounding only).
		if d := math.Abs(r.Sum() - r.ExpectedLoss); d > 1e-9*r.ExpectedLoss {
			t.Errorf("%s: bias² + variance + noise = %v; expected loss %v", tc.name, r.Sum(), r.ExpectedLoss)
		}
		// The within-group (1/n_g) spread estimates (1 - 1/reps)·σ²; with
		// 1140 degrees of freedom its relative standard error is ~4%.
		wantNoise := (1 - 1.0/reps) * sigma * sigma
		if math.Abs(r.Noise-wantNoise) > 0.15*wantNoise {
			t.Errorf("%s: noise %.4f; want %.4f ± 15%%", tc.name, r.Noise, wantNoise)
		}
		// Squared bias from the known f: (ȳ_g - m)² estimates (f - m)² +
		// σ²/reps. The main prediction is re-estimated with other
		// resamples, so allow bootstrap tolerance: 15% of the loss.
		m := meanPrediction(t, l, train, test, rounds, 11)
		var tb float64
		for i := range f {
			tb += (f[i] - m[i]) * (f[i] - m[i])
		}
		tb = tb/float64(len(f)) + sigma*sigma/reps
		if math.Abs(r.Bias2-tb) > 0.15*r.ExpectedLoss {
			t.Errorf("%s: bias² %.4f; from the known function %.4f (tolerance %.4f)", tc.name, r.Bias2, tb, 0.15*r.ExpectedLoss)
		}
		// Expected loss against the known decomposition: true bias² +
		// variance + σ².
		if want := tb - sigma*sigma/reps + r.Variance + sigma*sigma; math.Abs(r.ExpectedLoss-want) > 0.15*want {
			t.Errorf("%s: expected loss %.4f; true bias² + variance + σ² = %.4f", tc.name, r.ExpectedLoss, want)
		}
	}
	stump, deep := results["stump"], results["deep"]
	if !(stump.Bias2 > 2*deep.Bias2) {
		t.Errorf("bias²: stump %.4f, deep %.4f; want the stump's far higher", stump.Bias2, deep.Bias2)
	}
	if !(deep.Variance > 2*stump.Variance) {
		t.Errorf("variance: stump %.4f, deep %.4f; want the deep tree's far higher", stump.Variance, deep.Variance)
	}
	if !(stump.Bias2 > stump.Variance) || !(deep.Variance > deep.Bias2-deep.Noise/reps) {
		t.Errorf("stump bias² %.4f vs variance %.4f; deep bias² %.4f vs variance %.4f: want stump bias-dominated, deep variance-dominated",
			stump.Bias2, stump.Variance, deep.Bias2, deep.Variance)
	}
}

func TestBiasVarianceDeterministic(t *testing.T) {
	train, test, _ := noisyProblem(1, 200, 40, 1, 0.5)
	l := tree.Params{MaxDepth: 3}
	a, err := eval.BiasVariance(context.Background(), l, train, test, eval.BiasVarianceOptions{Rounds: 8, Seed: 5, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := eval.BiasVariance(context.Background(), l, train, test, eval.BiasVarianceOptions{Rounds: 8, Seed: 5, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if *a != *b {
		t.Errorf("Workers=1 gives %+v, Workers=4 %+v", *a, *b)
	}
	// No repeated inputs: the noise is not available and bias² absorbs it.
	if a.NoiseAvailable || a.Noise != 0 {
		t.Errorf("noise available %v, noise %v; want false, 0 without repeated inputs", a.NoiseAvailable, a.Noise)
	}
	if d := math.Abs(a.Bias2 + a.Variance - a.ExpectedLoss); d > 1e-9*a.ExpectedLoss {
		t.Errorf("bias² + variance = %v; expected loss %v", a.Bias2+a.Variance, a.ExpectedLoss)
	}
}

func TestBiasVarianceErrors(t *testing.T) {
	train, test, _ := noisyProblem(1, 50, 10, 1, 0.5)
	ctx := context.Background()
	if _, err := eval.BiasVariance(ctx, tree.Params{}, train, test, eval.BiasVarianceOptions{Rounds: 1}); err == nil {
		t.Error("1 round: no error")
	}
	narrow := &model.Dataset{X: model.NewMatrix(3, 2), Y: make([]float64, 3), Task: model.Regression}
	if _, err := eval.BiasVariance(ctx, tree.Params{}, train, narrow, eval.BiasVarianceOptions{Rounds: 2}); err == nil {
		t.Error("column mismatch: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := eval.BiasVariance(cancelled, tree.Params{}, train, test, eval.BiasVarianceOptions{Rounds: 4}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// binaryProblem thresholds the Friedman function with label noise: flip
// probability 0.1.
func binaryProblem(seed uint64, n int) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	d := &model.Dataset{X: model.NewMatrix(n, 5), Y: make([]float64, n), Task: model.Binary, NumClasses: 2}
	for i := range n {
		row := d.X.Row(i)
		for j := range row {
			row[j] = rng.Float64()
		}
		if friedman(row) > 14.4 {
			d.Y[i] = 1
		}
		if rng.Float64() < 0.1 {
			d.Y[i] = 1 - d.Y[i]
		}
	}
	return d
}

func TestBiasVarianceZeroOne(t *testing.T) {
	train, test := binaryProblem(3, 400), binaryProblem(4, 300)
	res := map[int]*eval.BiasVarianceResult{}
	for _, depth := range []int{1, 0} {
		r, err := eval.BiasVariance(context.Background(), tree.Params{MaxDepth: depth}, train, test, eval.BiasVarianceOptions{Rounds: 25, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		res[depth] = r
		t.Logf("depth %d: 0-1 loss %.4f = bias %.4f + net variance %.4f (unbiased %.4f - biased %.4f)",
			depth, r.ExpectedLoss, r.Bias, r.NetVariance, r.VarianceUnbiased, r.VarianceBiased)
		if r.Loss != "zero_one" {
			t.Errorf("loss %q; want zero_one", r.Loss)
		}
		if d := math.Abs(r.Sum() - r.ExpectedLoss); d > 1e-12 {
			t.Errorf("depth %d: bias + net variance = %v; expected loss %v", depth, r.Sum(), r.ExpectedLoss)
		}
	}
	if !(res[1].Bias > res[0].Bias) || !(res[0].Variance > res[1].Variance) {
		t.Errorf("stump bias %.4f variance %.4f, deep bias %.4f variance %.4f: want stump higher bias, deep higher variance",
			res[1].Bias, res[1].Variance, res[0].Bias, res[0].Variance)
	}
}

// seqLearner predicts fixed probabilities, for checking the
// 0-1 decomposition against hand-computed values.
type seqLearner struct{ rounds [][]float64 }

type seqModel struct{ p []float64 }

func (m seqModel) Family() string                 { return "seq" }
func (m seqModel) NumOutputs() int                { return 1 }
func (m seqModel) Params() map[string]any         { return nil }
func (m seqModel) MarshalBinary() ([]byte, error) { return nil, nil }
func (m seqModel) Predict(dst []float64, x *model.Matrix) error {
	copy(dst, m.p)
	return nil
}

// Fit picks the round's probabilities by the first training target, which
// bootstrapping makes depend on the resample; the test below instead uses
// a training set whose every row is identical except for its index column.
func (l seqLearner) Fit(_ context.Context, d *model.Dataset, _ model.FitOptions) (model.Model, error) {
	return seqModel{l.rounds[int(d.X.At(0, 0))%len(l.rounds)]}, nil
}

func TestZeroOneByHand(t *testing.T) {
	// Training rows all carry index 0, so every round predicts rounds[0]:
	// variance 0, and bias = loss = share of wrong rows.
	train := &model.Dataset{X: model.NewMatrix(4, 1), Y: []float64{0, 1, 0, 1}, Task: model.Binary, NumClasses: 2}
	test := &model.Dataset{X: model.NewMatrix(4, 1), Y: []float64{0, 1, 1, 0}, Task: model.Binary, NumClasses: 2}
	l := seqLearner{rounds: [][]float64{{0.1, 0.9, 0.2, 0.3}}}
	r, err := eval.BiasVariance(context.Background(), l, train, test, eval.BiasVarianceOptions{Rounds: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Bias != 0.25 || r.Variance != 0 || r.ExpectedLoss != 0.25 || r.NetVariance != 0 {
		t.Errorf("got bias %v variance %v loss %v net %v; want 0.25, 0, 0.25, 0", r.Bias, r.Variance, r.ExpectedLoss, r.NetVariance)
	}
}

func TestLearningAndValidationCurves(t *testing.T) {
	train, valid, _ := noisyProblem(5, 600, 200, 1, 1)
	ctx := context.Background()
	lc, err := eval.LearningCurve(ctx, tree.Params{MaxDepth: 6}, train, valid, []float64{0.05, 0.25, 1}, eval.CurveOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if lc[0].Size != 30 || lc[2].Size != 600 {
		t.Errorf("sizes %d, %d; want 30, 600", lc[0].Size, lc[2].Size)
	}
	if !(lc[2].Valid[eval.KeyR2] > lc[0].Valid[eval.KeyR2]+0.1) {
		t.Errorf("validation r2 %v at 30 rows, %v at 600: want more data to help", lc[0].Valid[eval.KeyR2], lc[2].Valid[eval.KeyR2])
	}
	if !(lc[0].Train[eval.KeyR2] > lc[0].Valid[eval.KeyR2]) {
		t.Errorf("30 rows: train r2 %v not above validation r2 %v", lc[0].Train[eval.KeyR2], lc[0].Valid[eval.KeyR2])
	}
	depths := []float64{1, 2, 4, 8, 0}
	vc, err := eval.ValidationCurve(ctx, func(v float64) (model.Learner, error) {
		return tree.Params{MaxDepth: int(v)}, nil
	}, depths, train, valid, eval.CurveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Deeper CART trees refine shallower ones, so the training fit only
	// improves; the unlimited tree fits the training rows exactly.
	for i := 1; i < len(vc); i++ {
		if vc[i].Train[eval.KeyR2] < vc[i-1].Train[eval.KeyR2] {
			t.Errorf("train r2 falls from depth %v (%v) to %v (%v)", depths[i-1], vc[i-1].Train[eval.KeyR2], depths[i], vc[i].Train[eval.KeyR2])
		}
	}
	if got := vc[len(vc)-1].Train[eval.KeyR2]; got < 0.999 {
		t.Errorf("unlimited tree train r2 %v; want 1", got)
	}
	if _, err := eval.LearningCurve(ctx, tree.Params{}, train, valid, []float64{1.5}, eval.CurveOptions{}); err == nil {
		t.Error("fraction 1.5: no error")
	}
}
