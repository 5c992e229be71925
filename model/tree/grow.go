package tree

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// pureEpsilon is the impurity at or below which a node is not split, and
// the slack of the min_impurity_decrease test: scikit-learn's EPSILON
// (np.finfo(np.double).eps, sklearn/tree/_tree.pyx).
const pureEpsilon = 2.220446049250313e-16

// pureLevel returns the impurity at or below which a node is not split:
// pureEpsilon, as in scikit-learn, but for regression scaled down by the
// weighted mean of y² over the rows in play when that is below 1. The
// absolute threshold ignores the target's units: scikit-learn's trees
// (and ours, before) stop at the root for a target in 1e-9 units, whose
// variances are all below 2.2e-16. Scaling only down keeps every tree of
// targets of size 1 or more as scikit-learn grows it, and makes small
// targets grow the tree their rescaled copy grows. A pure node's impurity
// is rounding noise of order (ε·y)², far below either level.
func pureLevel(y, w []float64, samples []int32, wTotal float64) float64 {
	if y == nil { // classification: impurities are proportions in [0, 1]
		return pureEpsilon
	}
	m2 := 0.0
	for _, r := range samples {
		m2 += w[r] * y[r] * y[r]
	}
	return pureEpsilon * math.Min(1, m2/wTotal)
}

// ctxEvery is how many nodes the grower builds between context checks.
const ctxEvery = 256

// Grow grows one tree on pr with parameters p and random stream rng.
//
// w, if not nil, replaces the dataset's sample weights (length Rows(),
// finite, >= 0): package forest passes bootstrap counts times the weights.
// Rows whose weight is zero take no part in the tree (and do not count
// towards MinSamplesLeaf), as in scikit-learn. rng must not be used by
// another goroutine during the call; Grow is otherwise safe to call
// concurrently on one Prepared. The context is checked every few hundred
// nodes.
//
// The best splitter searches presorted feature lists (presort.go) when at
// most 65,536 rows have a positive weight and a split considers at least
// a fifth of the features, and otherwise sorts each candidate feature's
// codes at every node; both grow the same tree.
func (pr *Prepared) Grow(ctx context.Context, p Params, w []float64, rng *rand.Rand) (*Tree, error) {
	return pr.grow(ctx, p, w, rng, searchAuto)
}

// search picks the split search of grow.
type search uint8

const (
	searchAuto    search = iota // presorted where it pays (presortPays) and fits
	searchPresort               // presorted wherever it fits
	searchSort                  // per-node sorting
)

// grow is Grow with the split search s.
func (pr *Prepared) grow(ctx context.Context, p Params, w []float64, rng *rand.Rand, s search) (*Tree, error) {
	c, err := p.resolve(pr.task, pr.cols)
	if err != nil {
		return nil, err
	}
	if w == nil {
		w = pr.weights
	} else if len(w) != pr.rows {
		return nil, fmt.Errorf("tree: %d weights for %d rows", len(w), pr.rows)
	}
	g := &grower{pr: pr, c: c, rng: rng, w: w}
	if w == nil {
		g.w = make([]float64, pr.rows)
		for i := range g.w {
			g.w[i] = 1
		}
	}
	g.samples = make([]int32, 0, pr.rows)
	for i, v := range g.w {
		if v > 0 {
			g.samples = append(g.samples, int32(i))
			g.wTotal += v
		} else if !(v == 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("tree: weight %v in row %d must be finite and >= 0", v, i)
		}
	}
	if len(g.samples) == 0 {
		return nil, fmt.Errorf("tree: no row has a positive weight")
	}
	g.y, g.label = pr.y, pr.label
	g.pure = pureLevel(pr.y, g.w, g.samples, g.wTotal)
	pays := s == searchPresort || (s == searchAuto && presortPays(c.maxFeatures, pr.cols))
	if pays && !c.random && len(g.samples) <= presortMaxRows && pr.cols*len(g.samples) <= presortMaxKeys {
		g.initPresort() // switches to local row indices
		defer g.releasePresort()
	} else {
		g.keys = make([]uint64, len(g.samples))
		g.keys2 = make([]uint64, len(g.samples))
	}
	if g.label == nil {
		g.reg = make([]regRow, len(g.w))
		for i, v := range g.w {
			g.reg[i] = regRow{v, v * g.y[i]}
		}
	} else {
		g.cls = make([]clsRow, len(g.w))
		for i, v := range g.w {
			g.cls[i] = clsRow{v, g.label[i]}
		}
	}
	g.feats = make([]int, pr.cols)
	for i := range g.feats {
		g.feats[i] = i
	}
	g.k = pr.numClasses
	g.cnt = make([]float64, g.k)
	g.cntL = make([]float64, g.k)
	g.val = make([]float64, pr.numOutputs())
	g.t = &Tree{NumFeatures: pr.cols, NumOutputs: pr.numOutputs()}
	g.t.reserve(min(2*len(g.samples), 2*len(g.samples)/c.minLeaf+1))
	if err := g.grow(ctx); err != nil {
		return nil, err
	}
	g.t.shrink()
	return g.t, nil
}

// regRow and clsRow pack what a split scan reads per row, so a row costs
// one cache line miss.
type regRow struct{ w, wy float64 }

type clsRow struct {
	w     float64
	label int32
}

type grower struct {
	pr      *Prepared
	c       config
	rng     *rand.Rand
	w       []float64 // per row weight (per local row when presorted)
	y       []float64 // per row target (per local row when presorted)
	label   []int32   // per row class (per local row when presorted)
	wTotal  float64
	pure    float64  // impurity at or below which a node is a leaf; see pureLevel
	samples []int32  // rows in play; node i owns a contiguous range
	keys    []uint64 // (code<<32 | row) sort buffer (not presorted)
	keys2   []uint64 // radix sort and partition scratch (not presorted)
	// presorted mode (see presort.go): the rows in play are renumbered
	// 0..ns-1 (local rows; samples, w, y, label, reg and cls then use
	// them) and lists[f*ns:(f+1)*ns] holds feature f's keys
	// (local code<<16 | local row), each node's range sorted.
	presort bool
	ns      int
	lists   []uint32
	tmp32   []uint32 // partition scratch
	local   []uint32 // per global row, its local row plus one (0: not in play)
	todo    []int    // features to partition
	rowsL   []int32  // global row of each local row
	goLeft  []uint64 // bit set of local rows that go left at the split being applied
	consts  []uint64 // per pushed frame, a bit set of features constant on it
	cur     []uint64 // the current node's constant features
	reg     []regRow // per-row weight and weighted target (regression)
	cls     []clsRow // per-row weight and label (classification)
	feats   []int    // feature permutation, persistent across nodes
	k       int      // classes, 0 for regression
	cnt     []float64
	cntL    []float64
	val     []float64
	// bucket buffers for low-cardinality nodes, grown on demand
	bw, bs []float64
	bn     []int32
	cuts   []cutPoint // splits awaiting thresholds (best splitter)
	t      *Tree
}

// split is a candidate split of a node.
type split struct {
	feature   int
	cut       uint32  // rows whose code is <= cut go left
	next      uint32  // the next code present on the node (best splitter)
	rowL      int32   // presorted: a local row with code cut
	rowR      int32   // presorted: a local row with code next
	threshold float64 // set by the random splitter only
	proxy     float64 // larger is better; comparable within one node
}

type frame struct {
	start, end, depth int
	parent            int32
	left              bool
}

// cutPoint is a split whose threshold is yet to be computed: node id splits
// feature f between the adjacent codes cl < cr (when presorted, between
// the codes of global rows cl and cr).
type cutPoint struct {
	id     int32
	f      int32
	cl, cr uint32
}

func (g *grower) grow(ctx context.Context) error {
	c := g.c
	stack := []frame{{start: 0, end: len(g.samples), parent: -1}}
	for len(stack) > 0 {
		top := len(stack) - 1
		fr := stack[top]
		stack = stack[:top]
		if g.presort {
			copy(g.cur, g.consts[top*len(g.cur):])
		}
		if g.t.NumNodes()%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("tree: grow: %w", err)
			}
		}
		s := g.samples[fr.start:fr.end]
		wNode, imp, sum := g.nodeStats(s)
		id := g.t.addNode(g.val, wNode, len(s), imp, fr.depth)
		if fr.parent >= 0 {
			if fr.left {
				g.t.Left[fr.parent] = id
			} else {
				g.t.Right[fr.parent] = id
			}
		}
		n := len(s)
		if (c.maxDepth > 0 && fr.depth >= c.maxDepth) || n < c.minSplit || n < 2*c.minLeaf || imp <= g.pure {
			continue
		}
		sp, ok := g.findSplit(fr.start, fr.end, wNode, sum)
		if !ok {
			continue
		}
		var mid int
		if g.presort {
			mid = g.splitSamples(sp.feature, sp.cut, fr.start, fr.end)
		} else {
			mid = g.partition(sp.feature, sp.cut, fr.start, fr.end)
		}
		if c.minDecrease > 0 {
			wl, il, _ := g.nodeStats(g.samples[fr.start:mid])
			wr, ir, _ := g.nodeStats(g.samples[mid:fr.end])
			dec := wNode / g.wTotal * (imp - wr/wNode*ir - wl/wNode*il)
			if dec+pureEpsilon < c.minDecrease {
				continue
			}
		}
		if g.presort {
			if g.splittable(mid-fr.start, fr.depth+1) || g.splittable(fr.end-mid, fr.depth+1) {
				g.splitLists(sp.feature, fr.start, fr.end)
			}
			w := len(g.cur)
			if need := (top + 2) * w; len(g.consts) < need {
				g.consts = append(g.consts, make([]uint64, need-len(g.consts))...)
			}
			copy(g.consts[top*w:], g.cur)
			copy(g.consts[(top+1)*w:], g.cur)
		}
		g.t.Feature[id] = int32(sp.feature)
		g.t.dropValues(id)
		if c.random {
			g.t.Threshold[id] = sp.threshold
		} else {
			cl, cr := sp.cut, sp.next
			if g.presort {
				cl, cr = uint32(g.rowsL[sp.rowL]), uint32(g.rowsL[sp.rowR])
			}
			g.cuts = append(g.cuts, cutPoint{id, int32(sp.feature), cl, cr})
		}
		stack = append(stack,
			frame{start: mid, end: fr.end, depth: fr.depth + 1, parent: id},
			frame{start: fr.start, end: mid, depth: fr.depth + 1, parent: id, left: true})
	}
	g.setThresholds()
	return nil
}

// setThresholds fills in the thresholds of g.cuts, feature by feature, so
// the lookups of each feature's distinct values stay within one array
// rather than missing the cache once per node.
func (g *grower) setThresholds() {
	start := make([]int, g.pr.cols+1)
	for _, c := range g.cuts {
		start[c.f+1]++
	}
	for f := range g.pr.cols {
		start[f+1] += start[f]
	}
	byFeature := make([]cutPoint, len(g.cuts))
	for _, c := range g.cuts {
		byFeature[start[c.f]] = c
		start[c.f]++
	}
	for _, c := range byFeature {
		if g.presort { // cl and cr are rows: look their codes up
			codes := g.pr.codes[c.f]
			c.cl, c.cr = codes[c.cl], codes[c.cr]
		}
		g.t.Threshold[c.id] = g.midpoint(int(c.f), c.cl, c.cr)
	}
}

// nodeStats computes the weight, impurity and value (into g.val) of the
// rows s, leaves the class weights in g.cnt, and returns the weighted
// target sum for regression. Variance uses two passes, so a pure node has
// impurity exactly 0.
func (g *grower) nodeStats(s []int32) (wsum, imp, sum float64) {
	w := g.w
	if g.k == 0 {
		y := g.y
		for _, r := range s {
			wsum += w[r]
			sum += w[r] * y[r]
		}
		mean := sum / wsum
		for _, r := range s {
			d := y[r] - mean
			imp += w[r] * d * d
		}
		g.val[0] = mean
		return wsum, imp / wsum, sum
	}
	clear(g.cnt)
	lab := g.label
	for _, r := range s {
		g.cnt[lab[r]] += w[r]
	}
	for _, v := range g.cnt {
		wsum += v
	}
	switch g.c.criterion {
	case Entropy:
		for _, v := range g.cnt {
			if v > 0 {
				p := v / wsum
				imp -= p * math.Log2(p)
			}
		}
	default:
		imp = 1
		for _, v := range g.cnt {
			p := v / wsum
			imp -= p * p
		}
	}
	if len(g.val) == 1 {
		g.val[0] = g.cnt[1] / wsum
	} else {
		for i, v := range g.cnt {
			g.val[i] = v / wsum
		}
	}
	return wsum, max(imp, 0), 0
}

// partition stably reorders samples[start:end] so rows with code <= cut
// on feature f come first, and returns the index of the first other row.
// Keeping each node's rows in ascending order makes the column gathers of
// evalFeature walk memory forwards.
func (g *grower) partition(f int, cut uint32, start, end int) int {
	codes, s := g.pr.codes[f], g.samples
	tmp := g.keys2[:0]
	i := start
	for _, r := range s[start:end] {
		if codes[r] <= cut {
			s[i] = r
			i++
		} else {
			tmp = append(tmp, uint64(r))
		}
	}
	for j, r := range tmp {
		s[i+j] = int32(r)
	}
	return i
}
