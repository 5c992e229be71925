package linear

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/tabforge/tabforge/model"
)

// Logistic fits L2-penalised logistic regression: a sigmoid model for
// binary tasks and a multinomial (softmax) model for multiclass tasks, like
// scikit-learn's LogisticRegression(solver="lbfgs"). It minimises
//
//	Σᵢ wᵢ·logloss(yᵢ, pᵢ) + ‖W‖²/(2C)
//
// where the intercepts are not penalised. The zero value fits an
// unpenalised model; scikit-learn's (and the "logistic" family's) default
// is C = 1.
type Logistic struct {
	// C is the inverse penalty strength; C <= 0 or +Inf means no penalty.
	C float64 `json:"c"`
	// MaxIter bounds the L-BFGS iterations; 0 means 1000. A fit that hits
	// the bound is returned as is, as scikit-learn does.
	MaxIter int `json:"max_iter,omitempty"`
	// Tol stops L-BFGS when the largest gradient component of the objective
	// (divided by the weight sum, in standardised coordinates) falls below
	// it; 0 means 1e-4, scikit-learn's default (see defaultTol).
	Tol float64 `json:"tol,omitempty"`
	// FitIntercept says whether to fit intercepts; nil means true.
	FitIntercept *bool `json:"fit_intercept,omitempty"`
}

var _ model.Learner = Logistic{}

// Default settings of Logistic.
const (
	defaultMaxIter = 1000
	// defaultTol was 1e-8 until measured: on the meta corpus's 37 binary
	// and 23 multiclass tables (logistic alone, up to 20,000 rows) 1e-4
	// tied on 59 and won 1, in 56 s instead of 95 (modeldata_grants 26.7 s
	// → 9.3 s, AUC 0.8264 → 0.8259).
	defaultTol = 1e-4
	// logitBlock is the number of rows scored by one matrix product.
	logitBlock = 512
	// logitChunk is the unit of parallel work in a gradient pass.
	logitChunk = 16 * logitBlock
)

// Fit implements model.Learner; see Train.
func (l Logistic) Fit(ctx context.Context, d *model.Dataset, o model.FitOptions) (model.Model, error) {
	return l.Train(ctx, d, o)
}

// penalised reports whether C asks for a penalty.
func (l Logistic) penalised() bool { return l.C > 0 && !math.IsInf(l.C, 1) }

// Train fits the model to d and returns it as a *Model. Each L-BFGS
// iteration makes one fused pass over the rows computing the loss and its
// gradient, split into fixed chunks over o.Workers goroutines and reduced
// in chunk order, so the result does not depend on the worker count.
// Internally the features are centred and scaled (an exact
// reparametrisation), which makes the problem well conditioned without
// changing its solution. Train checks ctx between iterations and chunks.
func (l Logistic) Train(ctx context.Context, d *model.Dataset, o model.FitOptions) (*Model, error) {
	sw, err := l.checkFit(d)
	if err != nil {
		return nil, err
	}
	nc := d.NumClasses
	maxIter := l.MaxIter
	if maxIter == 0 {
		maxIter = defaultMaxIter
	}
	tol := l.Tol
	if tol == 0 {
		tol = defaultTol
	}
	intercept := boolOr(l.FitIntercept, true)
	workers := o.NumWorkers()
	mean, scale, err := columnStats(ctx, d.X, d.Weights, d.FeatureNames, workers)
	if err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	p := d.X.Cols
	if !intercept {
		clear(mean) // centring is only a reparametrisation with a free intercept
	}
	k := 1
	if d.Task == model.Multiclass {
		k = nc
	}
	obj := &logitObjective{
		x: d.X, sp: sparseRows(d.X), y: d.Y, w: d.Weights, k: k, p: p, mean: mean, scale: scale,
		invS: 1 / sw, intercept: intercept, workers: workers,
	}
	if l.penalised() {
		obj.lambda = 1 / (l.C * sw)
	}
	obj.init(d.X.Rows)
	theta := make([]float64, k*(p+1))
	fg := func(theta, g []float64) float64 { return obj.evaluate(ctx, theta, g) }
	iters, err := lbfgs(ctx, fg, theta, tol, maxIter)
	if obj.err != nil {
		return nil, fmt.Errorf("linear: logistic fit: %w", obj.err)
	}
	if err != nil {
		return nil, fmt.Errorf("linear: logistic fit: %w", err)
	}
	if !finite(theta) {
		return nil, errors.New("linear: logistic fit diverged")
	}
	coef := make([]float64, k*p)
	b := make([]float64, k)
	obj.unpack(coef, b, theta)
	params := fitParams{MaxIter: maxIter, Tol: tol, FitIntercept: intercept}
	if l.penalised() {
		params.C = l.C
	}
	cmean, err := trainingMeans(ctx, d, mean, intercept, workers)
	if err != nil {
		return nil, err
	}
	return &Model{
		family:       FamilyLogistic,
		task:         d.Task,
		numClasses:   nc,
		p:            p,
		coef:         coef,
		intercept:    b,
		means:        cmean,
		featureNames: append([]string(nil), d.FeatureNames...),
		params:       params,
		solver:       "lbfgs",
		iterations:   iters,
	}, nil
}

// checkFit checks l's hyperparameters and d before any work, and
// returns d's total weight, which scales the penalty and the loss.
func (l Logistic) checkFit(d *model.Dataset) (float64, error) {
	if math.IsNaN(l.C) {
		return 0, errors.New("linear: c is NaN")
	}
	if l.MaxIter < 0 {
		return 0, fmt.Errorf("linear: max_iter = %d; want >= 0", l.MaxIter)
	}
	if !(l.Tol >= 0) || math.IsInf(l.Tol, 1) {
		return 0, fmt.Errorf("linear: tol = %v; want a finite value >= 0", l.Tol)
	}
	sw, err := checkDataset(d)
	if err != nil {
		return 0, err
	}
	if !d.Task.IsClassification() {
		return 0, fmt.Errorf("linear: logistic regression needs a binary or multiclass task, got %q", d.Task)
	}
	if d.Task == model.Binary && d.NumClasses != 2 {
		return 0, fmt.Errorf("linear: binary task with %d classes", d.NumClasses)
	}
	if err := checkLabels(d.Y, d.Weights, d.NumClasses); err != nil {
		return 0, err
	}
	return sw, nil
}

// trainingMeans returns the features' training means, which SHAP values
// are taken against. The fit's centring means are those means with an
// intercept; without one the fit does not centre (mean is zeroed), so
// they are computed again.
func trainingMeans(ctx context.Context, d *model.Dataset, mean []float64, intercept bool, workers int) ([]float64, error) {
	cmean := make([]float64, d.X.Cols)
	if intercept {
		copy(cmean, mean)
		return cmean, nil
	}
	m2, _, err := columnStats(ctx, d.X, d.Weights, d.FeatureNames, workers)
	if err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	copy(cmean, m2)
	return cmean, nil
}

// checkLabels checks that labels are class indices 0..nc-1 and that at
// least two classes have positive weight.
func checkLabels(y, w []float64, nc int) error {
	seen := make([]bool, nc)
	for i, v := range y {
		c := int(v)
		if float64(c) != v || c < 0 || c >= nc {
			return fmt.Errorf("linear: label of row %d is %v; want a class index in [0, %d)", i, v, nc)
		}
		if w == nil || w[i] > 0 {
			seen[c] = true
		}
	}
	present := 0
	for _, s := range seen {
		if s {
			present++
		}
	}
	if present < 2 {
		return fmt.Errorf("linear: training labels hold %d class(es); logistic regression needs at least 2", present)
	}
	return nil
}

// finite reports whether all values are finite.
func finite(v []float64) bool {
	for _, x := range v {
		if x-x != 0 {
			return false
		}
	}
	return true
}

// columnStats returns the weighted mean and standard deviation of each
// column (standard deviation 1 for constant columns), merging fixed chunks
// in order. Non-finite values are errors.
func columnStats(ctx context.Context, x *model.Matrix, w []float64, names []string, workers int) (mean, scale []float64, err error) {
	p, n := x.Cols, x.Rows
	type part struct{ sw, mean, m2 []float64 }
	parts := make([]part, numChunks(n, momentChunk))
	err = forChunks(ctx, n, momentChunk, workers, func(c, lo, hi int) error {
		pt := part{sw: make([]float64, 1), mean: make([]float64, p), m2: make([]float64, p)}
		for i := lo; i < hi; i++ {
			wi := 1.0
			if w != nil {
				wi = w[i]
			}
			row := x.Data[i*p : (i+1)*p]
			for j, v := range row {
				if v-v != 0 {
					return badValueError(names, j, v)
				}
			}
			if wi == 0 {
				continue
			}
			// Weighted Welford update (West, 1979).
			pt.sw[0] += wi
			r := wi / pt.sw[0]
			for j, v := range row {
				d := v - pt.mean[j]
				pt.mean[j] += r * d
				pt.m2[j] += wi * d * (v - pt.mean[j])
			}
		}
		parts[c] = pt
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	mean = make([]float64, p)
	m2 := make([]float64, p)
	sw := 0.0
	for _, pt := range parts {
		if pt.sw[0] == 0 {
			continue
		}
		s := sw + pt.sw[0]
		for j := range p {
			d := pt.mean[j] - mean[j]
			m2[j] += pt.m2[j] + d*d*sw*pt.sw[0]/s
			mean[j] += d * pt.sw[0] / s
		}
		sw = s
	}
	scale = make([]float64, p)
	for j := range p {
		sd := math.Sqrt(m2[j] / sw)
		if mean[j]-mean[j] != 0 || sd-sd != 0 { // overflowed: NaN or ±Inf
			mean[j], sd = scaledStats(x, w, j)
		}
		if !(sd > 1e-12*math.Abs(mean[j])) || sd == 0 {
			sd = 1
		}
		scale[j] = sd
	}
	return mean, scale, nil
}

// scaledStats returns the weighted mean and standard deviation of column
// j, computed on the values divided by their largest magnitude and scaled
// back. columnStats calls it for a column whose Welford update overflowed
// (a spread beyond about 1e154, whose squares exceed float64), which
// would otherwise get a NaN or infinite scale and make the fit's
// standardised problem meaningless. Neither result can overflow: both are
// at most that largest magnitude.
func scaledStats(x *model.Matrix, w []float64, j int) (mean, sd float64) {
	p := x.Cols
	top, sw, s := 0.0, 0.0, 0.0
	for i := range x.Rows {
		if weightOf(w, i) > 0 {
			top = math.Max(top, math.Abs(x.Data[i*p+j]))
		}
	}
	if top == 0 {
		return 0, 0
	}
	for i := range x.Rows {
		if wi := weightOf(w, i); wi > 0 {
			sw += wi
			s += wi * (x.Data[i*p+j] / top)
		}
	}
	m, m2 := s/sw, 0.0
	for i := range x.Rows {
		if wi := weightOf(w, i); wi > 0 {
			d := x.Data[i*p+j]/top - m
			m2 += wi * d * d
		}
	}
	return m * top, math.Sqrt(m2/sw) * top
}

// logitObjective evaluates the scaled logistic objective
//
//	f(θ) = (1/S)·Σᵢ wᵢ·ℓᵢ + (λ/2)·‖W‖²,  λ = 1/(C·S), S = Σ wᵢ,
//
// in standardised coordinates: θ holds, per coefficient row c, the values
// v_cj = W_cj·s_j followed by the intercept a_c, with scores
// z_ic = a_c + Σⱼ v_cj (x_ij − μⱼ)/s_j. Dividing by S leaves the minimiser
// unchanged and makes the gradient tolerance independent of the data size.
type logitObjective struct {
	x         *model.Matrix
	sp        *csr // x row-compressed when mostly zeros, else nil
	y, w      []float64
	k, p      int // coefficient rows (1 binary, K multiclass), features
	mean      []float64
	scale     []float64
	invS      float64
	lambda    float64
	intercept bool
	workers   int

	// Scratch, reused across evaluations.
	wEff, bEff []float64   // coefficients and intercepts in input units
	loss       []float64   // per chunk
	g          [][]float64 // per chunk: k×p Σ rᵢ xᵢ, then k sums Σ rᵢ
	zbuf       [][]float64 // per chunk: logitBlock×k scores / residuals
	err        error
}

func (o *logitObjective) init(n int) {
	nc := numChunks(n, logitChunk)
	o.wEff = make([]float64, o.k*o.p)
	o.bEff = make([]float64, o.k)
	o.loss = make([]float64, nc)
	o.g = make([][]float64, nc)
	o.zbuf = make([][]float64, nc)
	for c := range nc {
		o.g[c] = make([]float64, o.k*(o.p+1))
		o.zbuf[c] = make([]float64, logitBlock*o.k)
	}
}

// unpack converts θ to coefficients and intercepts in input units.
func (o *logitObjective) unpack(coef, b, theta []float64) {
	p := o.p
	for c := range o.k {
		t := theta[c*(p+1) : (c+1)*(p+1)]
		s := 0.0
		if o.intercept {
			s = t[p]
		}
		for j := range p {
			wj := t[j] / o.scale[j]
			coef[c*p+j] = wj
			s -= wj * o.mean[j]
		}
		b[c] = s
	}
}

// evaluate returns f(θ) and writes ∇f(θ) into g. Errors (a cancelled
// context) are kept in o.err and make f NaN, which stops the optimiser.
func (o *logitObjective) evaluate(ctx context.Context, theta, g []float64) float64 {
	if o.err != nil {
		return math.NaN()
	}
	o.unpack(o.wEff, o.bEff, theta)
	n := o.x.Rows
	err := forChunks(ctx, n, logitChunk, o.workers, func(c, lo, hi int) error {
		o.loss[c] = o.chunk(o.g[c], o.zbuf[c], lo, hi)
		return nil
	})
	if err != nil {
		o.err = err
		return math.NaN()
	}
	k, p := o.k, o.p
	clear(g)
	loss := 0.0
	for c := range o.loss {
		loss += o.loss[c]
		for i, v := range o.g[c] {
			g[i] += v
		}
	}
	// g now holds Σ rᵢ xᵢ (k×p) followed by Σ rᵢ (k); map to θ coordinates.
	gw := make([]float64, k*p)
	copy(gw, g[:k*p])
	rsum := make([]float64, k)
	copy(rsum, g[k*p:])
	pen := 0.0
	for c := range k {
		t := g[c*(p+1) : (c+1)*(p+1)]
		for j := range p {
			wj := o.wEff[c*p+j]
			pen += wj * wj
			t[j] = (o.invS*(gw[c*p+j]-o.mean[j]*rsum[c]) + o.lambda*wj) / o.scale[j]
		}
		if o.intercept {
			t[p] = o.invS * rsum[c]
		} else {
			t[p] = 0
		}
	}
	return o.invS*loss + 0.5*o.lambda*pen
}

// chunk accumulates the weighted loss of rows [lo, hi) and, into g, the
// sums Σ rᵢ xᵢ (k×p) and Σ rᵢ (k) of the residuals rᵢ = wᵢ(pᵢ − onehot(yᵢ)).
func (o *logitObjective) chunk(g, z []float64, lo, hi int) float64 {
	k, p := o.k, o.p
	clear(g)
	gm := blas64.General{Rows: k, Cols: p, Stride: p, Data: g[:k*p]}
	wm := blas64.General{Rows: k, Cols: p, Stride: p, Data: o.wEff}
	loss := 0.0
	for b0 := lo; b0 < hi; b0 += logitBlock {
		nb := min(b0+logitBlock, hi) - b0
		xb := blas64.General{Rows: nb, Cols: p, Stride: p, Data: o.x.Data[b0*p : (b0+nb)*p]}
		zb := blas64.General{Rows: nb, Cols: k, Stride: k, Data: z[:nb*k]}
		// Scores Z = X·Wᵀ.
		switch {
		case o.sp != nil:
			o.sp.scores(zb.Data, o.wEff, b0, nb, k, p)
		case k == 1:
			// Short rows: a plain unrolled dot beats a general matrix-vector
			// product here.
			for r := range nb {
				zb.Data[r] = dot4(xb.Data[r*p:(r+1)*p], o.wEff)
			}
		default:
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, xb, wm, 0, zb)
		}
		loss = o.residuals(zb.Data, b0, nb, loss)
		// G += Rᵀ·X and the residual sums.
		switch {
		case o.sp != nil:
			o.sp.addGradient(gm.Data, zb.Data, b0, nb, k, p)
		case k == 1:
			blas64.Gemv(blas.Trans, 1, xb, blas64.Vector{N: nb, Inc: 1, Data: zb.Data},
				1, blas64.Vector{N: p, Inc: 1, Data: gm.Data})
		default:
			blas64.Gemm(blas.Trans, blas.NoTrans, 1, zb, xb, 1, gm)
		}
		for r := range nb {
			for c := range k {
				g[k*p+c] += zb.Data[r*k+c]
			}
		}
	}
	return loss
}

// residuals turns the scores z of rows [b0, b0+nb) into the weighted
// residuals (probability minus indicator) in place and returns loss plus
// the rows' weighted loss, added row by row.
func (o *logitObjective) residuals(z []float64, b0, nb int, loss float64) float64 {
	k := o.k
	for r := range nb {
		i := b0 + r
		wi := 1.0
		if o.w != nil {
			wi = o.w[i]
		}
		yi := int(o.y[i])
		zr := z[r*k : (r+1)*k]
		if k == 1 {
			s := zr[0] + o.bEff[0]
			// log(1+e^s) − y·s and σ(s), sharing one exponential.
			e := math.Exp(-math.Abs(s))
			var prob float64
			if s >= 0 {
				prob = 1 / (1 + e)
			} else {
				prob = e / (1 + e)
			}
			l := math.Max(s, 0) + math.Log1p(e)
			if yi == 1 {
				l -= s
				prob -= 1
			}
			loss += wi * l
			zr[0] = wi * prob
			continue
		}
		m := math.Inf(-1)
		for c := range k {
			zr[c] += o.bEff[c]
			m = math.Max(m, zr[c])
		}
		sum := 0.0
		for c := range k {
			sum += math.Exp(zr[c] - m)
		}
		lse := m + math.Log(sum)
		loss += wi * (lse - zr[yi])
		for c := range k {
			zr[c] = wi * math.Exp(zr[c]-lse)
		}
		zr[yi] -= wi
	}
	return loss
}

// dot4 returns Σ a[i]·b[i] with four independent accumulators.
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
