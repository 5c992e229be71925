package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
)

// Func is a batch prediction function: it writes the outputs of every row
// of x into dst (x.Rows × outputs values, row-major). model.Model.Predict
// is one. It must be safe for concurrent use, and its outputs for a row
// must depend on that row alone, not on the others in x: KernelSHAP
// predicts each distinct synthetic row once, in batches of its choosing.
type Func func(dst []float64, x *model.Matrix) error

// Background is the reference distribution KernelSHAP integrates missing
// features over: rows and their weights (nil means equal weights).
type Background struct {
	X       *model.Matrix
	Weights []float64
}

// weight returns row i's weight.
func (b *Background) weight(i int) float64 {
	if b.Weights == nil {
		return 1
	}
	return b.Weights[i]
}

// KernelOptions tune KernelSHAP; the zero value works.
type KernelOptions struct {
	// Samples is the number of coalitions evaluated per row; 0 means
	// 2·M + 2048 for M varying features (the shap package's default).
	// When 2^M − 2 coalitions fit in it, all are enumerated and the values
	// are exact.
	Samples int
	// Seed seeds the coalition sampling; row r draws from its own stream.
	Seed uint64
	// Workers bounds the rows explained at once; 0 means GOMAXPROCS.
	Workers int
	// Progress receives a progress.ExplainRow event (Name "kernel") as
	// each row is explained, Step counting them in order up to the rows
	// of x, after one with Step 0 at the start; nil means no events.
	Progress progress.Func
}

// kernelTol is KernelSHAP's stated local-accuracy tolerance: the sum
// constraint is solved exactly, so only rounding remains.
const kernelTol = 1e-9

// KernelSHAP estimates SHAP values of f (outputs values per row) for the
// rows of x with the interventional value function v(S) = E_b[f(x_S,
// b_S̄)] over the background bg (Lundberg and Lee, 2017): coalitions S
// are enumerated by size while the budget allows and sampled, paired with
// their complements, with the Shapley kernel weights otherwise; φ solves
// the kernel-weighted least squares problem under the constraint Σφ =
// f(x) − E[f], so local accuracy holds to rounding (Tolerance 1e-9
// relative). Features equal to x in every background row get φ = 0 and
// are not players. Each row costs Samples × len(bg.X.Rows) evaluations
// of f, so keep the background small (KMeansBackground, SampleBackground).
func KernelSHAP(ctx context.Context, f Func, outputs int, x *model.Matrix, bg *Background, o KernelOptions, names []string) (*Values, error) {
	if x == nil || len(x.Data) != x.Rows*x.Cols {
		return nil, fmt.Errorf("explain: kernel: bad matrix")
	}
	if bg == nil || bg.X == nil || bg.X.Rows == 0 {
		return nil, fmt.Errorf("explain: kernel: empty background set")
	}
	if bg.X.Cols != x.Cols {
		return nil, fmt.Errorf("explain: kernel: background has %d columns, data %d", bg.X.Cols, x.Cols)
	}
	if bg.Weights != nil && len(bg.Weights) != bg.X.Rows {
		return nil, fmt.Errorf("explain: kernel: %d background weights for %d rows", len(bg.Weights), bg.X.Rows)
	}
	p, nb := x.Cols, bg.X.Rows
	var wsum float64
	for i := range nb {
		wsum += bg.weight(i)
	}
	if !(wsum > 0) {
		return nil, fmt.Errorf("explain: kernel: background weights sum to %v", wsum)
	}
	fb := make([]float64, nb*outputs)
	if err := f(fb, bg.X); err != nil {
		return nil, fmt.Errorf("explain: kernel: predict background: %w", err)
	}
	v := newValues(MethodKernel, OutputPrediction, x.Rows, outputs, p, names)
	v.Tolerance = kernelTol
	for i := range nb {
		for k := range outputs {
			v.BaseValue[k] += bg.weight(i) * fb[i*outputs+k] / wsum
		}
	}
	fx := make([]float64, x.Rows*outputs)
	if err := f(fx, x); err != nil {
		return nil, fmt.Errorf("explain: kernel: predict: %w", err)
	}
	exact := make([]bool, x.Rows)
	var firstErr error
	errs := make([]error, x.Rows)
	done := newRowsDone(o.Progress, MethodKernel, x.Rows)
	err := parallelRows(ctx, x.Rows, o.Workers, 1, func() func(r int) {
		return func(r int) {
			ks := kernelRow{f: f, outputs: outputs, bg: bg, wsum: wsum, base: v.BaseValue, x: x.Row(r),
				fx: fx[r*outputs : (r+1)*outputs], rng: rand.New(rand.NewPCG(o.Seed, uint64(r)))}
			exact[r], errs[r] = ks.explain(ctx, v.Values[r*outputs*p:(r+1)*outputs*p], o.Samples)
			if errs[r] == nil {
				done.add()
			}
		}
	})
	for _, e := range errs {
		if e != nil && firstErr == nil {
			firstErr = e
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err != nil {
		return nil, err
	}
	v.Exact = !slices.Contains(exact, false)
	return v, nil
}

// kernelRow explains one row.
type kernelRow struct {
	f       Func
	outputs int
	bg      *Background
	wsum    float64
	base    []float64
	x       []float64
	fx      []float64
	rng     *rand.Rand
}

// same reports whether a and b are equal, NaN equal to NaN.
func same(a, b float64) bool { return a == b || (a != a && b != b) }

// coalition is a subset of the varying features with its kernel weight.
type coalition struct {
	mask []bool
	w    float64
}

// explain writes outputs×p values into phi and reports whether every
// coalition was enumerated.
func (k *kernelRow) explain(ctx context.Context, phi []float64, budget int) (bool, error) {
	p := len(k.x)
	var vary []int
	for j := range p {
		for i := range k.bg.X.Rows {
			if !same(k.bg.X.At(i, j), k.x[j]) {
				vary = append(vary, j)
				break
			}
		}
	}
	m := len(vary)
	delta := make([]float64, k.outputs)
	for o := range k.outputs {
		delta[o] = k.fx[o] - k.base[o]
	}
	switch m {
	case 0:
		return true, nil
	case 1:
		for o := range k.outputs {
			phi[o*p+vary[0]] = delta[o]
		}
		return true, nil
	}
	if budget <= 0 {
		budget = 2*m + 2048
	}
	coals, exact := k.coalitions(m, budget)
	vals, err := k.evaluate(ctx, vary, coals)
	if err != nil {
		return false, err
	}
	// Constrained weighted least squares: substitute φ_m = Δ − Σ_{j<m} φ_j
	// and solve the normal equations of the remaining m−1 unknowns.
	n := m - 1
	a := make([]float64, n*n)
	b := make([]float64, n*k.outputs)
	z := make([]float64, n)
	for c, co := range coals {
		zl := 0.0
		if co.mask[m-1] {
			zl = 1
		}
		for j := range n {
			z[j] = -zl
			if co.mask[j] {
				z[j]++
			}
		}
		for i := range n {
			if z[i] == 0 {
				continue
			}
			wi := co.w * z[i]
			for j := range n {
				a[i*n+j] += wi * z[j]
			}
			for o := range k.outputs {
				b[o*n+i] += wi * (vals[c*k.outputs+o] - k.base[o] - zl*delta[o])
			}
		}
	}
	sol, err := solveSPD(a, b, n, k.outputs)
	if err != nil {
		return false, fmt.Errorf("explain: kernel: %w", err)
	}
	for o := range k.outputs {
		rest := delta[o]
		for j := range n {
			phi[o*p+vary[j]] = sol[o*n+j]
			rest -= sol[o*n+j]
		}
		phi[o*p+vary[m-1]] = rest
	}
	return exact, nil
}

// coalitions returns the coalitions of m players to evaluate with their
// weights, and whether they are all of them. Following the shap package,
// subset sizes s and m−s are enumerated completely, from the most
// weighted (smallest) sizes inwards, while the expected number of
// samples at that size covers all its subsets; the rest of the budget is
// sampled from the remaining sizes in complementary pairs and given the
// leftover kernel weight in proportion to how often each was drawn.
func (k *kernelRow) coalitions(m, budget int) ([]coalition, bool) {
	wv, paired := sizeWeights(m)
	sizes := len(wv)
	out, done, left, remWeight := enumerateSizes(m, budget, wv, paired)
	if done == sizes || left <= 0 {
		return out, done == sizes
	}
	return k.appendSampled(out, m, done, paired, left, wv[done:], remWeight), false
}

// sizeWeights returns the kernel weight of each size pair (s, m−s), for
// s = 1..ceil((m−1)/2), normalised to sum to 1, and how many of those
// sizes are true pairs: the middle size of an even m is its own
// complement, so its weight counts once.
func sizeWeights(m int) (wv []float64, paired int) {
	sizes := (m - 1 + 1) / 2 // ceil((m−1)/2) distinct size pairs
	paired = (m - 1) / 2
	wv = make([]float64, sizes)
	var tot float64
	for s := 1; s <= sizes; s++ {
		wv[s-1] = float64(m-1) / float64(s*(m-s))
		if s <= paired {
			wv[s-1] *= 2
		}
		tot += wv[s-1]
	}
	for i := range wv {
		wv[i] /= tot
	}
	return wv, paired
}

// enumerateSizes lists every coalition of the sizes s and m−s, from the
// most weighted (smallest) sizes inwards, while the budget's expected
// share of samples at a size covers all its subsets, since then listing
// them is exact and costs no more than sampling. It returns those
// coalitions with their weights, the last size listed (0 for none), the
// budget left and the kernel weight not yet given out.
func enumerateSizes(m, budget int, wv []float64, paired int) (out []coalition, done, left int, remWeight float64) {
	sizes := len(wv)
	left = budget
	remWeight = 1.0
	for s := 1; s <= sizes; s++ {
		nsub := binom(m, s)
		if s <= paired {
			nsub *= 2
		}
		if !(wv[s-1]/remWeight*float64(left) >= nsub-1e-8) {
			break
		}
		done = s
		left -= int(nsub)
		w := wv[s-1] / binom(m, s)
		if s <= paired {
			w /= 2
		}
		forCombinations(m, s, func(mask []bool) {
			out = append(out, coalition{slices.Clone(mask), w})
			if s <= paired {
				inv := make([]bool, m)
				for i, b := range mask {
					inv[i] = !b
				}
				out = append(out, coalition{inv, w})
			}
		})
		remWeight -= wv[s-1]
	}
	return out, done, left, remWeight
}

// appendSampled appends to dst coalitions drawn from the sizes after
// done, of weights rest, in complementary pairs, up to left evaluations.
// Each distinct coalition gets a share of remWeight, the kernel weight the
// listed sizes left over, in proportion to how often it was drawn.
func (k *kernelRow) appendSampled(dst []coalition, m, done, paired, left int, rest []float64, remWeight float64) []coalition {
	cum := make([]float64, len(rest))
	acc := 0.0
	for i, w := range rest {
		acc += w
		cum[i] = acc
	}
	counts := map[string]int{}
	var order []string
	masks := map[string][]bool{}
	perm := make([]int, m)
	for i := range perm {
		perm[i] = i
	}
	for draws := 0; draws < left && len(order) < left; draws++ {
		u := k.rng.Float64() * acc
		i, _ := slices.BinarySearch(cum, u)
		s := done + 1 + min(i, len(rest)-1)
		k.rng.Shuffle(m, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		mask := make([]bool, m)
		for _, j := range perm[:s] {
			mask[j] = true
		}
		add := func(mask []bool) {
			key := maskKey(mask)
			if counts[key] == 0 {
				order = append(order, key)
				masks[key] = mask
			}
			counts[key]++
		}
		add(mask)
		if s <= paired { // the middle size of an even m is its own complement class
			inv := make([]bool, m)
			for j, b := range mask {
				inv[j] = !b
			}
			add(inv)
			draws++
		}
	}
	var total float64
	for _, key := range order {
		total += float64(counts[key])
	}
	for _, key := range order {
		dst = append(dst, coalition{masks[key], remWeight * float64(counts[key]) / total})
	}
	return dst
}

func maskKey(mask []bool) string {
	b := make([]byte, len(mask))
	for i, v := range mask {
		if v {
			b[i] = 1
		}
	}
	return string(b)
}

// binom returns C(n, k) as a float64.
func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return math.Round(r)
}

// forCombinations calls fn with every subset of size s of n items, as a
// mask it must not keep.
func forCombinations(n, s int, fn func(mask []bool)) {
	idx := make([]int, s)
	for i := range idx {
		idx[i] = i
	}
	mask := make([]bool, n)
	for {
		clear(mask)
		for _, i := range idx {
			mask[i] = true
		}
		fn(mask)
		i := s - 1
		for i >= 0 && idx[i] == n-s+i {
			i--
		}
		if i < 0 {
			return
		}
		idx[i]++
		for j := i + 1; j < s; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

// solveSPD solves A X = B for a symmetric positive semi-definite n×n A
// and nrhs right-hand sides stored as rows of B (B[r*n:(r+1)*n]),
// returning X in the same layout. A tiny ridge is added when A is
// singular (players never separated by any coalition), which splits
// their credit evenly instead of failing.
func solveSPD(a, b []float64, n, nrhs int) ([]float64, error) {
	scale := 0.0
	for i := range n {
		scale = max(scale, a[i*n+i])
	}
	if scale == 0 {
		scale = 1
	}
	for _, ridge := range []float64{0, 1e-12, 1e-9, 1e-6} {
		l := slices.Clone(a)
		for i := range n {
			l[i*n+i] += ridge * scale
		}
		if cholesky(l, n) {
			x := slices.Clone(b)
			for r := range nrhs {
				cholSolve(l, n, x[r*n:(r+1)*n])
			}
			return x, nil
		}
	}
	return nil, fmt.Errorf("singular system of %d unknowns", n)
}

// cholesky factors a (n×n, row-major) in place into its lower triangle L
// with A = L Lᵀ and reports whether A was positive definite.
func cholesky(a []float64, n int) bool {
	for j := range n {
		d := a[j*n+j]
		for k := range j {
			d -= a[j*n+k] * a[j*n+k]
		}
		if !(d > 1e-13*math.Abs(a[j*n+j])) || d <= 0 {
			return false
		}
		d = math.Sqrt(d)
		a[j*n+j] = d
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := range j {
				s -= a[i*n+k] * a[j*n+k]
			}
			a[i*n+j] = s / d
		}
	}
	return true
}

// cholSolve solves L Lᵀ x = b in place.
func cholSolve(l []float64, n int, b []float64) {
	for i := range n {
		s := b[i]
		for k := range i {
			s -= l[i*n+k] * b[k]
		}
		b[i] = s / l[i*n+i]
	}
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * b[k]
		}
		b[i] = s / l[i*n+i]
	}
}
