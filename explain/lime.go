package explain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
)

// LIMEOptions tune LIME; the zero value follows the lime package's
// tabular defaults (without discretisation).
type LIMEOptions struct {
	// Samples is the number of perturbed rows per explained row; 0 means
	// 5000.
	Samples int
	// KernelWidth is the width of the exponential kernel on the
	// standardised distance; 0 means 0.75·√p.
	KernelWidth float64
	// TopK keeps the K features with the largest standardised
	// coefficients and refits on them; 0 keeps all.
	TopK int
	// Alpha is the ridge penalty of the surrogate on standardised
	// features; 0 means 1 (scikit-learn Ridge's default, as lime uses);
	// negative means none.
	Alpha float64
	// Output is the index of the explained output (class) of f.
	Output int
	// Seed seeds the perturbations; row r draws from its own stream.
	Seed uint64
	// Workers bounds the rows explained at once; 0 means GOMAXPROCS.
	Workers int
	// Progress receives a progress.ExplainRow event (Name "lime") as each
	// row is explained, as KernelOptions.Progress does; nil means none.
	Progress progress.Func
	// Categorical marks columns sampled from their training frequencies
	// and represented in the surrogate as "equals the row's value";
	// columns with at most two distinct training values are treated so
	// too (one-hot indicators).
	Categorical []bool
}

// LIMEResult is the local surrogate of one row.
type LIMEResult struct {
	// Row is the index of the row in the explained matrix.
	Row int `json:"row"`
	// Coef holds one coefficient per feature (0 for features not kept):
	// for numeric features the change of the surrogate per unit of the
	// feature in its original scale, for categorical ones the effect of
	// taking the row's value.
	Coef []float64 `json:"coef"`
	// Intercept is the surrogate's intercept in the same coding.
	Intercept float64 `json:"intercept"`
	// Selected lists the kept features by decreasing |standardised
	// coefficient|.
	Selected []int `json:"selected"`
	// Score is the surrogate's kernel-weighted R² on the perturbations.
	Score float64 `json:"score"`
	// Local is the surrogate's prediction at the row; Prediction is f's.
	Local      float64 `json:"local"`
	Prediction float64 `json:"prediction"`
}

// LIMEExplanation holds the surrogates of several rows.
type LIMEExplanation struct {
	FeatureNames []string     `json:"feature_names"`
	Results      []LIMEResult `json:"results"`
}

// limeStats are the training statistics perturbations are drawn from.
type limeStats struct {
	mean, sd []float64
	cat      []bool
	// miss is each column's share of missing (NaN) training values:
	// perturbations are missing as often, so that a model's missing-value
	// branches are sampled as the training data reach them.
	miss   []float64
	values [][]float64 // categorical: distinct values
	cum    [][]float64 // categorical: cumulative frequencies
}

func newLimeStats(train *model.Matrix, categorical []bool) (*limeStats, error) {
	if train == nil || train.Rows == 0 {
		return nil, fmt.Errorf("explain: lime: no training rows")
	}
	p := train.Cols
	s := &limeStats{mean: make([]float64, p), sd: make([]float64, p), cat: make([]bool, p),
		miss: make([]float64, p), values: make([][]float64, p), cum: make([][]float64, p)}
	for j := range p {
		counts := map[float64]int{}
		var sum, sum2, n float64
		for i := range train.Rows {
			v := train.At(i, j)
			if math.IsNaN(v) {
				continue
			}
			counts[v]++
			sum += v
			sum2 += v * v
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("explain: lime: column %d has no values", j)
		}
		s.miss[j] = 1 - n/float64(train.Rows)
		s.mean[j] = sum / n
		s.sd[j] = math.Sqrt(math.Max(0, sum2/n-s.mean[j]*s.mean[j]))
		if !(s.sd[j] > 1e-12) {
			s.sd[j] = 1
		}
		s.cat[j] = len(counts) <= 2 || (j < len(categorical) && categorical[j])
		if s.cat[j] {
			vals := make([]float64, 0, len(counts))
			for v := range counts {
				vals = append(vals, v)
			}
			slices.Sort(vals)
			acc := 0.0
			for _, v := range vals {
				acc += float64(counts[v]) / n
				s.cum[j] = append(s.cum[j], acc)
			}
			s.values[j] = vals
		}
	}
	return s, nil
}

// LIME fits a local linear surrogate of output o.Output of f around each
// row of x (Ribeiro et al., 2016, tabular variant without
// discretisation): perturbations are drawn from the training statistics
// of train (a normal with each numeric column's mean and standard
// deviation; training frequencies for categorical columns), the first
// being the row itself; each is weighted by exp(−d²/w²) of its
// standardised distance to the row, and a weighted ridge regression on
// standardised features (indicators for categorical ones) is fitted to
// f's outputs. With TopK the features with the largest standardised
// coefficients are kept and the surrogate refitted on them. Missing
// values (NaN) are drawn at each column's training share of them; a
// feature missing in the explained row enters the surrogate as a
// "missing, as the row is" indicator, and elsewhere a missing number is
// coded as the column's mean.
func LIME(ctx context.Context, f Func, outputs int, x, train *model.Matrix, o LIMEOptions, names []string) (*LIMEExplanation, error) {
	if x == nil || train == nil || x.Cols != train.Cols {
		return nil, fmt.Errorf("explain: lime: data has %d columns, training statistics %d", colsOf(x), colsOf(train))
	}
	if o.Output < 0 || o.Output >= outputs {
		return nil, fmt.Errorf("explain: lime: output %d of %d", o.Output, outputs)
	}
	st, err := newLimeStats(train, o.Categorical)
	if err != nil {
		return nil, err
	}
	p := x.Cols
	ns := o.Samples
	if ns <= 0 {
		ns = 5000
	}
	width := o.KernelWidth
	if width <= 0 {
		width = 0.75 * math.Sqrt(float64(p))
	}
	alpha := o.Alpha
	if alpha == 0 {
		alpha = 1
	}
	alpha = max(alpha, 0)
	out := &LIMEExplanation{FeatureNames: featureNames(names, p), Results: make([]LIMEResult, x.Rows)}
	errs := make([]error, x.Rows)
	done := newRowsDone(o.Progress, MethodLIME, x.Rows)
	err = parallelRows(ctx, x.Rows, o.Workers, 1, func() func(r int) {
		return func(r int) {
			rng := rand.New(rand.NewPCG(o.Seed, uint64(r)))
			out.Results[r], errs[r] = limeRow(f, outputs, x.Row(r), st, ns, width, alpha, o, rng)
			out.Results[r].Row = r
			if errs[r] == nil {
				done.add()
			}
		}
	})
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func limeRow(f Func, outputs int, x []float64, st *limeStats, ns int, width, alpha float64, o LIMEOptions, rng *rand.Rand) (LIMEResult, error) {
	p := len(x)
	raw := st.perturb(x, ns, rng)
	z, w := st.surrogateDesign(raw, x, width)
	pred := make([]float64, ns*outputs)
	if err := f(pred, raw); err != nil {
		return LIMEResult{}, fmt.Errorf("explain: lime: predict: %w", err)
	}
	y := make([]float64, ns)
	for i := range ns {
		y[i] = pred[i*outputs+o.Output]
	}
	sel, beta, icpt, err := fitSurrogate(z, p, y, w, alpha, o.TopK)
	if err != nil {
		return LIMEResult{}, err
	}
	// Score and local prediction in the surrogate's coding.
	fit := func(i int) float64 {
		s := icpt
		for _, j := range sel {
			s += beta[j] * z[i*p+j]
		}
		return s
	}
	res := LIMEResult{Selected: sel, Local: fit(0), Prediction: y[0], Score: weightedR2(y, w, fit)}
	// Back to original units: z = (x − mean)/sd for numeric features.
	res.Coef = make([]float64, p)
	res.Intercept = icpt
	for _, j := range sel {
		if st.indicator(j, x) {
			res.Coef[j] = beta[j]
			continue
		}
		res.Coef[j] = beta[j] / st.sd[j]
		res.Intercept -= beta[j] * st.mean[j] / st.sd[j]
	}
	return res, nil
}

// indicator reports whether feature j enters the surrogate as "equals
// x's value": categorical features, and any feature x lacks (then the
// indicator is "missing, as x is").
func (st *limeStats) indicator(j int, x []float64) bool {
	return st.cat[j] || math.IsNaN(x[j])
}

// perturb returns ns rows: x itself, then samples drawn feature by
// feature from the training distribution (missing at the training share,
// else categories by frequency and numbers from a normal with the
// training mean and sd).
func (st *limeStats) perturb(x []float64, ns int, rng *rand.Rand) *model.Matrix {
	p := len(x)
	raw := model.NewMatrix(ns, p)
	copy(raw.Row(0), x)
	for i := 1; i < ns; i++ {
		row := raw.Row(i)
		for j := range p {
			// A column without missing training values draws no extra
			// number, so its stream is as it was before missing values
			// were sampled.
			if st.miss[j] > 0 && rng.Float64() < st.miss[j] {
				row[j] = math.NaN()
				continue
			}
			if st.cat[j] {
				u := rng.Float64()
				k, _ := slices.BinarySearch(st.cum[j], u)
				row[j] = st.values[j][min(k, len(st.values[j])-1)]
			} else {
				row[j] = st.mean[j] + st.sd[j]*rng.NormFloat64()
			}
		}
	}
	return raw
}

// surrogateDesign codes the samples for the surrogate (numbers
// standardised, categories and the features x lacks as "same as x"
// indicators) and weights each by an exponential kernel of its distance
// from x in that coding. A number missing from a sample (but not from x)
// is coded as the training mean, as imputation would: NaN would poison
// every weight and the fit.
func (st *limeStats) surrogateDesign(raw *model.Matrix, x []float64, width float64) (z, w []float64) {
	ns, p := raw.Rows, len(x)
	z, w = make([]float64, ns*p), make([]float64, ns)
	for i := range ns {
		row := raw.Row(i)
		var d2 float64
		for j := range p {
			var v, ref float64
			switch {
			case st.indicator(j, x):
				if same(row[j], x[j]) {
					v = 1
				}
				ref = 1
			case math.IsNaN(row[j]):
				ref = (x[j] - st.mean[j]) / st.sd[j]
			default:
				v, ref = (row[j]-st.mean[j])/st.sd[j], (x[j]-st.mean[j])/st.sd[j]
			}
			z[i*p+j] = v
			d2 += (v - ref) * (v - ref)
		}
		w[i] = math.Exp(-d2 / (width * width))
	}
	return z, w
}

// fitSurrogate fits the weighted ridge surrogate on every feature, and
// with topK > 0 refits it on the topK largest coefficients; sel lists the
// kept features by falling |coefficient|.
func fitSurrogate(z []float64, p int, y, w []float64, alpha float64, topK int) (sel []int, beta []float64, icpt float64, err error) {
	all := make([]int, p)
	for j := range all {
		all[j] = j
	}
	beta, icpt, err = weightedRidge(z, p, all, y, w, alpha)
	if err != nil {
		return nil, nil, 0, err
	}
	byWeight := func(a, b int) int { return cmp.Compare(math.Abs(beta[b]), math.Abs(beta[a])) }
	sel = slices.Clone(all)
	slices.SortStableFunc(sel, byWeight)
	if topK > 0 && topK < p {
		sel = sel[:topK]
		kept, ic, err := weightedRidge(z, p, sel, y, w, alpha)
		if err != nil {
			return nil, nil, 0, err
		}
		beta, icpt = make([]float64, p), ic
		for i, j := range sel {
			beta[j] = kept[i]
		}
		slices.SortStableFunc(sel, byWeight)
	}
	return sel, beta, icpt, nil
}

// weightedR2 is the surrogate's weighted R² on the samples (eval.R2,
// which keeps outputs near the float range from overflowing; 1 when
// they are constant and fitted), NaN when an output is not finite.
func weightedR2(y, w []float64, fit func(int) float64) float64 {
	pred := make([]float64, len(y))
	for i := range y {
		pred[i] = fit(i)
	}
	r2, err := eval.R2(y, pred, w)
	if err != nil {
		return math.NaN()
	}
	return r2
}

// weightedRidge fits y ≈ c + Σ_{j∈cols} β_j z_j with weights w and ridge
// penalty alpha on β (not c), centring by weighted means like
// scikit-learn's Ridge with sample_weight. z has stride p.
func weightedRidge(z []float64, p int, cols []int, y, w []float64, alpha float64) ([]float64, float64, error) {
	k, n := len(cols), len(y)
	var sw float64
	zm := make([]float64, k)
	var ym float64
	for i := range n {
		sw += w[i]
		ym += w[i] * y[i]
		for a, j := range cols {
			zm[a] += w[i] * z[i*p+j]
		}
	}
	if !(sw > 0) {
		return nil, 0, fmt.Errorf("explain: lime: kernel weights sum to %v", sw)
	}
	ym /= sw
	for a := range zm {
		zm[a] /= sw
	}
	g := make([]float64, k*k)
	b := make([]float64, k)
	zc := make([]float64, k)
	for i := range n {
		for a, j := range cols {
			zc[a] = z[i*p+j] - zm[a]
		}
		yc := y[i] - ym
		for a := range k {
			wa := w[i] * zc[a]
			if wa == 0 {
				continue
			}
			b[a] += wa * yc
			for c := a; c < k; c++ {
				g[a*k+c] += wa * zc[c]
			}
		}
	}
	for a := range k {
		for c := range a {
			g[a*k+c] = g[c*k+a]
		}
		g[a*k+a] += alpha
	}
	beta, err := solveSPD(g, b, k, 1)
	if err != nil {
		return nil, 0, fmt.Errorf("explain: lime: %w", err)
	}
	icpt := ym
	for a := range k {
		icpt -= beta[a] * zm[a]
	}
	return beta, icpt, nil
}
