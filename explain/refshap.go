package explain

// Single-reference SHAP values: the exact Shapley values of the game
// v(S) = m(x_S, r_S̄) for one row x and one reference row r, for a
// refModel's margin m (see the comment atop interventional.go).

// Sides of a feature on the current path of a pair walk.
const (
	sideNone int8 = iota
	sideX
	sideR
)

// refWorker holds one goroutine's buffers for pair walks.
type refWorker struct {
	side []int8  // per feature
	a, b []int32 // x-side and r-side features of the current path
	x, r []float64
	phi  []float64 // outputs×features of the current pair
	w    []float64 // w[a*stride+b] = (a−1)!·b!/(a+b)!, a ≥ 1
	f    int
	wide int // stride of w
	// visits and leafValues count the work of the pairs walked since
	// the worker was made (InterventionalCost): nodes passed, and leaf
	// values added to a path feature's value.
	visits, leafValues int
}

// newRefWorker returns buffers for rm, whose paths are at most depth
// splits long.
func newRefWorker(rm *refModel) *refWorker {
	depth := 0
	if rm.trees != nil {
		depth = rm.trees.maxDepth
	}
	n := min(depth, rm.features) + 1
	w := &refWorker{side: make([]int8, rm.features), phi: make([]float64, rm.outputs*rm.features),
		w: make([]float64, n*n), f: rm.features, wide: n}
	// (a−1)!b!/(a+b)! = 1/a for b = 0, and gains b/(a+b) with each b.
	for a := 1; a < n; a++ {
		w.w[a*n] = 1 / float64(a)
		for b := 1; a+b < n; b++ {
			w.w[a*n+b] = w.w[a*n+b-1] * float64(b) / float64(a+b)
		}
	}
	return w
}

// pair sets w.phi to the single-reference values of rm's margin for
// rows x and r: they sum to m(x) − m(r) per output.
func (w *refWorker) pair(rm *refModel, x, r []float64) {
	clear(w.phi)
	w.x, w.r = x, r
	if rm.trees != nil {
		for ti := range rm.trees.trees {
			t := &rm.trees.trees[ti]
			if t.left[0] >= 0 {
				w.walk(t, 0)
			}
		}
	} else {
		p := rm.features
		for k := range rm.outputs {
			phi := w.phi[k*p : (k+1)*p]
			for j, c := range rm.coef[k*p : (k+1)*p] {
				phi[j] = c * (x[j] - r[j])
			}
		}
	}
	for _, l := range rm.terms {
		w.phi[l.feature] += l.phi(x) - l.phi(r)
	}
}

// walk follows the pair down t from node i: one way where x and r (or
// the side the node's feature is on) agree, both ways where they part.
func (w *refWorker) walk(t *shapTree, i int32) {
	for t.left[i] >= 0 {
		w.visits++
		f := t.feature[i]
		switch w.side[f] {
		case sideX:
			i = t.hot(i, w.x)
			continue
		case sideR:
			i = t.hot(i, w.r)
			continue
		}
		cx, cr := t.hot(i, w.x), t.hot(i, w.r)
		if cx == cr {
			i = cx
			continue
		}
		w.side[f] = sideX
		w.a = append(w.a, f)
		w.walk(t, cx)
		w.a = w.a[:len(w.a)-1]
		w.side[f] = sideR
		w.b = append(w.b, f)
		w.walk(t, cr)
		w.b = w.b[:len(w.b)-1]
		w.side[f] = sideNone
		return
	}
	w.leaf(t, i)
}

// leaf adds leaf i's values: each x-side feature gains
// v·(|A|−1)!|B|!/(|A|+|B|)!, each r-side one loses v·|A|!(|B|−1)!/(|A|+|B|)!.
func (w *refWorker) leaf(t *shapTree, i int32) {
	na, nb := len(w.a), len(w.b)
	vals, outs := t.leafValues(i)
	w.leafValues += len(vals) * (na + nb)
	if na+nb == 0 {
		return // x and r both reach it: it is in neither's difference
	}
	var ca, cb float64
	if na > 0 {
		ca = w.w[na*w.wide+nb]
	}
	if nb > 0 {
		cb = -w.w[nb*w.wide+na]
	}
	for k, v := range vals {
		if outs != nil {
			k = int(outs[k])
		}
		phi := w.phi[(t.group+k)*w.f : (t.group+k+1)*w.f]
		for _, j := range w.a {
			phi[j] += v * ca
		}
		for _, j := range w.b {
			phi[j] += v * cb
		}
	}
}
