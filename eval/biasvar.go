package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/model"
)

// BiasVarianceOptions configure BiasVariance.
type BiasVarianceOptions struct {
	// Rounds is the number of bootstrap resamples, each fitted once; it
	// must be at least 2 (config key bias_variance_rounds).
	Rounds int
	// Seed seeds the resamples: round r draws its rows from a stream of
	// (Seed, r), so the result depends neither on Workers nor on scheduling.
	Seed uint64
	// Workers bounds how many rounds are fitted at a time; 0 means
	// runtime.GOMAXPROCS(0). Each fit runs single-threaded.
	Workers int
}

// BiasVarianceResult is a bias–variance decomposition of one learner's
// loss on a fixed test set, averaged over the test rows.
//
// For squared loss (regression), with f_b the prediction of round b,
// m = mean_b f_b the main prediction and y the target of a test row:
//
//	Loss     = mean_b (y - f_b)²          the expected loss over training sets
//	Variance = mean_b (f_b - m)²          (1/B, not 1/(B-1), so that the sum is exact)
//	Bias2    = (ȳ_g - m)²                 ȳ_g: mean target of the row's group
//	Noise    = mean_g (y - ȳ_g)²          within-group spread of the target
//
// where a group holds the test rows with identical inputs. Loss = Bias2 +
// Variance + Noise holds exactly (up to rounding) for every row, so also
// for the averages. Noise is estimated only from groups of two or more
// rows; when the test set has no repeated inputs NoiseAvailable is false,
// Noise is 0 and Bias2 = mean (y - m)² includes the noise. The within-group
// mean uses the biased (1/n_g) spread, so Bias2 of a group of n_g rows
// overstates the true squared bias by about σ²/n_g.
//
// For 0-1 loss (classification) the decomposition is Domingos' (2000):
// the main prediction y_m is the most frequent predicted class over the
// rounds (ties to the smaller class), the bias of a row is 1 if y_m ≠ y,
// its variance P_b(f_b ≠ y_m). With VarianceUnbiased and VarianceBiased
// the row averages of the variance over unbiased rows and of q·variance
// over biased rows (q = P_b(f_b = y | f_b ≠ y_m); 1 for two classes),
// both divided by all rows,
//
//	Loss = Bias + NetVariance,  NetVariance = VarianceUnbiased - VarianceBiased
//
// exactly. Noise is taken as zero (Domingos' noise needs the Bayes-optimal
// prediction, which data cannot give), so it is folded into Bias.
type BiasVarianceResult struct {
	// Loss is "squared" for regression and "zero_one" for classification.
	Loss      string `json:"loss"`
	Rounds    int    `json:"rounds"`
	TestRows  int    `json:"test_rows"`
	TrainRows int    `json:"train_rows"`
	// ExpectedLoss is the test loss averaged over rounds and rows.
	ExpectedLoss float64 `json:"expected_loss"`
	// Bias2 is the squared bias (squared loss).
	Bias2 float64 `json:"bias2,omitempty"`
	// Bias is the share of rows whose main prediction is wrong (0-1 loss).
	Bias float64 `json:"bias,omitempty"`
	// Variance is the mean spread of the round predictions around the
	// main prediction, over all rows.
	Variance float64 `json:"variance"`
	// VarianceUnbiased and VarianceBiased split the 0-1 variance (see the
	// type comment); NetVariance is their difference.
	VarianceUnbiased float64 `json:"variance_unbiased,omitempty"`
	VarianceBiased   float64 `json:"variance_biased,omitempty"`
	NetVariance      float64 `json:"net_variance,omitempty"`
	// Noise is the irreducible-noise estimate (squared loss), from rows
	// with repeated inputs; see NoiseAvailable and NoiseRows.
	Noise          float64 `json:"noise,omitempty"`
	NoiseAvailable bool    `json:"noise_available"`
	// NoiseRows is the number of test rows in groups of repeated inputs.
	NoiseRows int `json:"noise_rows,omitempty"`
}

// Sum returns the sum of the decomposition's terms, which equals
// ExpectedLoss up to rounding: Bias2 + Variance + Noise for squared loss,
// Bias + NetVariance for 0-1 loss.
func (r *BiasVarianceResult) Sum() float64 {
	if r.Loss == "zero_one" {
		return r.Bias + r.NetVariance
	}
	return r.Bias2 + r.Variance + r.Noise
}

// BiasVariance decomposes the test loss of learner l by bootstrap: each of
// o.Rounds rounds fits l on a resample (with replacement, of the same
// size) of train and predicts test; see BiasVarianceResult for the
// decomposition. It works for any model family. Fits run o.Workers at a
// time; the first failure cancels the rest and is returned.
func BiasVariance(ctx context.Context, l model.Learner, train, test *model.Dataset, o BiasVarianceOptions) (*BiasVarianceResult, error) {
	if o.Rounds < 2 {
		return nil, fmt.Errorf("eval: bias-variance: %d rounds: need at least 2", o.Rounds)
	}
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("eval: bias-variance: training set: %w", err)
	}
	if err := test.Validate(); err != nil {
		return nil, fmt.Errorf("eval: bias-variance: test set: %w", err)
	}
	if train.X.Cols != test.X.Cols {
		return nil, fmt.Errorf("eval: bias-variance: %w: training set has %d columns, test set %d", ErrLength, train.X.Cols, test.X.Cols)
	}
	preds, outputs, err := bootstrapPredictions(ctx, l, train, test, o)
	if err != nil {
		return nil, err
	}
	res := &BiasVarianceResult{Rounds: o.Rounds, TestRows: test.X.Rows, TrainRows: train.X.Rows}
	if train.Task.IsClassification() {
		k := max(train.NumClasses, test.NumClasses)
		labels := make([][]int, len(preds))
		for b, p := range preds {
			if labels[b], err = roundLabels(p, outputs, k); err != nil {
				return nil, fmt.Errorf("eval: bias-variance: round %d: %w", b, err)
			}
		}
		y, err := classIndices(test.Y, k)
		if err != nil {
			return nil, fmt.Errorf("eval: bias-variance: test set: %w", err)
		}
		zeroOne(res, y, labels, k)
		return res, nil
	}
	if outputs != 1 {
		return nil, fmt.Errorf("eval: bias-variance: regression model writes %d outputs per row, want 1", outputs)
	}
	squared(res, test, preds)
	return res, nil
}

// bootstrapPredictions fits one model per round and returns each round's
// predictions on test (NumOutputs values per row) and NumOutputs.
func bootstrapPredictions(ctx context.Context, l model.Learner, train, test *model.Dataset, o BiasVarianceOptions) ([][]float64, int, error) {
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	preds := make([][]float64, o.Rounds)
	outs := make([]int, o.Rounds)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for b := range o.Rounds {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return fmt.Errorf("eval: bias-variance: %w", err)
			}
			p, k, err := bootstrapRound(gctx, l, train, test, o.Seed, b)
			if err != nil {
				return fmt.Errorf("eval: bias-variance: round %d: %w", b, err)
			}
			preds[b], outs[b] = p, k
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	for b := range outs {
		if outs[b] != outs[0] {
			return nil, 0, fmt.Errorf("eval: bias-variance: round %d writes %d outputs per row, round 0 %d", b, outs[b], outs[0])
		}
	}
	return preds, outs[0], nil
}

// bootstrapRound fits l on resample b of train and predicts test.
func bootstrapRound(ctx context.Context, l model.Learner, train, test *model.Dataset, seed uint64, b int) (pred []float64, outputs int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, 0, context.Cause(ctx)
	}
	rng := rand.New(rand.NewPCG(seed, 0xb1a5<<32|uint64(b)))
	n := train.X.Rows
	rows := make([]int, n)
	for i := range rows {
		rows[i] = rng.IntN(n)
	}
	m, err := l.Fit(ctx, train.TakeRows(rows), model.FitOptions{Workers: 1})
	if err != nil {
		return nil, 0, err
	}
	k := m.NumOutputs()
	pred = make([]float64, test.X.Rows*k)
	if err := m.Predict(pred, test.X); err != nil {
		return nil, 0, fmt.Errorf("predict: %w", err)
	}
	if err := checkFinite("prediction", pred); err != nil {
		return nil, 0, err
	}
	return pred, k, nil
}

// roundLabels turns one round's outputs into class indices: a binary
// model writes the probability of class 1, a multiclass one k values.
func roundLabels(pred []float64, outputs, k int) ([]int, error) {
	switch {
	case outputs == 1:
		return PredictLabels(pred, 2)
	case outputs == k:
		return PredictLabels(pred, k)
	}
	return nil, fmt.Errorf("model writes %d outputs per row for %d classes", outputs, k)
}

// squared fills the squared-loss decomposition.
func squared(res *BiasVarianceResult, test *model.Dataset, preds [][]float64) {
	res.Loss = "squared"
	n, B := test.X.Rows, float64(len(preds))
	groups := inputGroups(test.X)
	var loss, bias2, variance, noise float64
	for _, g := range groups {
		var ybar float64
		for _, i := range g {
			ybar += test.Y[i]
		}
		ybar /= float64(len(g))
		if len(g) > 1 {
			res.NoiseRows += len(g)
		}
		for _, i := range g {
			var mean float64
			for _, p := range preds {
				mean += p[i]
			}
			mean /= B
			var l, v float64
			for _, p := range preds {
				d := test.Y[i] - p[i]
				l += d * d
				e := p[i] - mean
				v += e * e
			}
			loss += l / B
			variance += v / B
			if len(g) > 1 {
				d := ybar - mean
				bias2 += d * d
				e := test.Y[i] - ybar
				noise += e * e
			} else {
				d := test.Y[i] - mean
				bias2 += d * d
			}
		}
	}
	fn := float64(n)
	res.ExpectedLoss, res.Bias2, res.Variance = loss/fn, bias2/fn, variance/fn
	res.NoiseAvailable = res.NoiseRows > 0
	res.Noise = noise / fn
}

// inputGroups groups the rows of x with bit-identical values (NaN equal to
// NaN), in order of first appearance.
func inputGroups(x *model.Matrix) [][]int {
	index := map[string]int{}
	var groups [][]int
	key := make([]byte, 8*x.Cols)
	for i := range x.Rows {
		for j, v := range x.Row(i) {
			u := math.Float64bits(v)
			if math.IsNaN(v) {
				u = 0x7ff8000000000001
			}
			for k := range 8 {
				key[8*j+k] = byte(u >> (8 * k))
			}
		}
		g, ok := index[string(key)]
		if !ok {
			g = len(groups)
			index[string(key)] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// zeroOne fills Domingos' 0-1 loss decomposition.
func zeroOne(res *BiasVarianceResult, y []int, labels [][]int, k int) {
	res.Loss = "zero_one"
	n, B := len(y), float64(len(labels))
	counts := make([]int, k)
	var loss, bias, vu, vb, variance float64
	for i := range n {
		clear(counts)
		for _, l := range labels {
			counts[l[i]]++
		}
		main := 0
		for c := range counts {
			if counts[c] > counts[main] {
				main = c
			}
		}
		v := 1 - float64(counts[main])/B // P(f ≠ y_m)
		loss += 1 - float64(counts[y[i]])/B
		variance += v
		if main == y[i] {
			vu += v
			continue
		}
		bias++
		// q·v = P(f = y) for a biased row: every such vote is off the
		// main prediction.
		vb += float64(counts[y[i]]) / B
	}
	fn := float64(n)
	res.ExpectedLoss, res.Bias, res.Variance = loss/fn, bias/fn, variance/fn
	res.VarianceUnbiased, res.VarianceBiased = vu/fn, vb/fn
	res.NetVariance = res.VarianceUnbiased - res.VarianceBiased
}

// CurveOptions configure LearningCurve and ValidationCurve.
type CurveOptions struct {
	// Seed orders the training rows LearningCurve draws its subsets from.
	Seed uint64
	// Workers is passed to each fit; 0 means runtime.GOMAXPROCS(0).
	Workers int
}

// CurvePoint is one point of a learning or validation curve: the metrics
// of the model fitted at that point on its own training rows and on the
// validation set.
type CurvePoint struct {
	// Size is the number of training rows the model was fitted on.
	Size int `json:"size"`
	// Value is the parameter value (ValidationCurve) or the share of the
	// training set (LearningCurve).
	Value float64 `json:"value"`
	Train Metrics `json:"train"`
	Valid Metrics `json:"valid"`
}

// LearningCurve fits l on growing subsets of train, the first
// fractions[i]·n rows of one seeded permutation (so each subset contains
// the smaller ones), and scores each model on those rows and on valid.
// Fractions must lie in (0, 1]; a subset has at least 2 rows.
func LearningCurve(ctx context.Context, l model.Learner, train, valid *model.Dataset, fractions []float64, o CurveOptions) ([]CurvePoint, error) {
	if len(fractions) == 0 {
		return nil, errors.New("eval: learning curve: no training-set sizes")
	}
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("eval: learning curve: training set: %w", err)
	}
	n := train.X.Rows
	perm := rand.New(rand.NewPCG(o.Seed, 0x1ea4)).Perm(n)
	out := make([]CurvePoint, 0, len(fractions))
	for _, f := range fractions {
		if !(f > 0 && f <= 1) {
			return nil, fmt.Errorf("eval: learning curve: fraction %v is not in (0, 1]", f)
		}
		size := max(2, min(n, int(math.Round(f*float64(n)))))
		sub := train.TakeRows(perm[:size])
		p, err := curvePoint(ctx, l, sub, valid, o)
		if err != nil {
			return nil, fmt.Errorf("eval: learning curve: %d rows: %w", size, err)
		}
		p.Value = f
		out = append(out, p)
	}
	return out, nil
}

// ValidationCurve fits learner(v) on train for each parameter value v, in
// order, and scores each model on train and on valid. learner builds the
// learner for one value of the complexity parameter (tree depth, ridge
// lambda, ...).
func ValidationCurve(ctx context.Context, learner func(v float64) (model.Learner, error), values []float64, train, valid *model.Dataset, o CurveOptions) ([]CurvePoint, error) {
	if len(values) == 0 {
		return nil, errors.New("eval: validation curve: no parameter values")
	}
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("eval: validation curve: training set: %w", err)
	}
	out := make([]CurvePoint, 0, len(values))
	for _, v := range values {
		l, err := learner(v)
		if err != nil {
			return nil, fmt.Errorf("eval: validation curve: value %v: %w", v, err)
		}
		p, err := curvePoint(ctx, l, train, valid, o)
		if err != nil {
			return nil, fmt.Errorf("eval: validation curve: value %v: %w", v, err)
		}
		p.Value = v
		out = append(out, p)
	}
	return out, nil
}

// curvePoint fits l on train and scores it on train and valid.
func curvePoint(ctx context.Context, l model.Learner, train, valid *model.Dataset, o CurveOptions) (CurvePoint, error) {
	if err := ctx.Err(); err != nil {
		return CurvePoint{}, err
	}
	m, err := l.Fit(ctx, train, model.FitOptions{Workers: o.Workers})
	if err != nil {
		return CurvePoint{}, err
	}
	tr, err := ScoreModel(m, train)
	if err != nil {
		return CurvePoint{}, fmt.Errorf("training rows: %w", err)
	}
	va, err := ScoreModel(m, valid)
	if err != nil {
		return CurvePoint{}, fmt.Errorf("validation rows: %w", err)
	}
	return CurvePoint{Size: train.X.Rows, Train: tr, Valid: va}, nil
}

// ScoreModel predicts d with m and returns the task's metric set
// (Regression or Classification).
func ScoreModel(m model.Model, d *model.Dataset) (Metrics, error) {
	pred := make([]float64, d.X.Rows*m.NumOutputs())
	if err := m.Predict(pred, d.X); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	if d.Task.IsClassification() {
		return Classification(d.Y, pred, d.NumClasses)
	}
	return Regression(d.Y, pred)
}
