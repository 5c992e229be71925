package gbdt

import (
	"container/heap"
	"math"
	"slices"

	"github.com/tabforge/tabforge/internal/par"
)

// entry is a node that may still be split: its rows are idx[begin:end].
type entry struct {
	nid        int
	depth      int
	begin, end int
	sum        gpair
	hist       []histBin // nil when the node will not be split
	best       splitInfo
	unsorted   bool // rows not partitioned: a leafSeg of its parent covers it
}

// leafSeg records where the rows idx[begin:end] end up: all in leaf nid,
// or, when right >= 0, in leaf nid or right by the split of their parent
// (the last level of a depth-limited tree is not partitioned: routing each
// row once is cheaper than moving it).
type leafSeg struct {
	nid, begin, end int
	right           int
	feature         int
	tbl             *[256]uint8 // 1 for the codes of feature that go to nid
}

// grower turns gradients into one tree (XGBoost's tree updater, LightGBM's
// TreeLearner). Its buffers are reused from tree to tree; it is used by
// one goroutine at a time and runs its own parallel steps.
type grower struct {
	c       *config
	bm      *binMatrix
	workers int

	idx, tmp []int32   // rows of the sample; a node owns a segment
	ghs      []rowGrad // gradients gathered for the nodes being built, aligned with idx
	pool     [][]histBin
	// res holds evaluate's per-(node, feature group) results, reused:
	// allocated per call it was 18% of a 200-class fit's allocations.
	res []splitInfo

	// per tree
	grad   []rowGrad
	feats  []int
	groups [][]int // feats in groups of up to 4, the histogram work unit
	tb     *treeBuilder
	leaves []leafSeg

	// Sparse features' histograms (sparse.go): the tree's features with
	// off-default row lists, and each row's node mark.
	sparseFeats []int
	mark        []int32
	stampNext   int32
}

func newGrower(c *config, bm *binMatrix, workers int) *grower {
	n := bm.rows
	return &grower{
		c: c, bm: bm, workers: workers,
		idx: make([]int32, n), tmp: make([]int32, n), ghs: make([]rowGrad, n),
		stampNext: 1,
	}
}

func (g *grower) allocHist() []histBin {
	if k := len(g.pool); k > 0 {
		h := g.pool[k-1]
		g.pool = g.pool[:k-1]
		return h
	}
	return make([]histBin, g.bm.cols*histStride)
}

func (g *grower) freeHist(h []histBin) {
	if h != nil {
		g.pool = append(g.pool, h)
	}
}

// sumBlock is the row block for parallel sums; partial sums are combined
// in block order so the total does not depend on the worker count.
const sumBlock = 1 << 14

// grow builds one tree from grad over the sampled rows (increasing order)
// using the features feats (increasing order). The returned leaves hold
// positions into g.idx, valid until the next call.
func (g *grower) grow(grad []rowGrad, rows []int32, feats []int) (*treeBuilder, []leafSeg) {
	c := g.c
	g.grad = grad
	g.feats = feats
	g.groups = g.groups[:0]
	for i := 0; i < len(feats); i += 4 {
		g.groups = append(g.groups, feats[i:min(i+4, len(feats))])
	}
	g.tb = g.tb.reset()
	g.leaves = g.leaves[:0]
	g.sparseFeats = g.sparseFeats[:0]
	for _, f := range feats {
		if g.bm.nz != nil && g.bm.nz[f] != nil {
			g.sparseFeats = append(g.sparseFeats, f)
		}
	}
	if len(g.sparseFeats) > 0 && g.mark == nil {
		g.mark = make([]int32, g.bm.rows)
	}

	n := len(rows)
	copy(g.idx, rows)
	nb := blocks(n, sumBlock)
	partial := make([]gpair, nb)
	active := make([]int, nb) // rows with a nonzero gradient pair, for sparseHist
	par.Tasks(g.workers, nb, func(t int) {
		lo, hi := t*sumBlock, min((t+1)*sumBlock, n)
		var s gpair
		k := 0
		for i, r := range rows[lo:hi] {
			p := grad[r]
			g.ghs[lo+i] = p
			s.g += float64(p.g)
			s.h += float64(p.h)
			if p != (rowGrad{}) {
				k++
			}
		}
		partial[t], active[t] = s, k
	})
	var sum gpair
	nActive := 0
	for t, s := range partial {
		sum.g += s.g
		sum.h += s.h
		nActive += active[t]
	}
	root := &entry{nid: g.tb.add(sum.h, g.leafValue(sum)), end: n, sum: sum}
	root.hist = g.allocHist()
	groups, sparse := g.histPlan(n)
	var stamp int32
	if len(sparse) > 0 {
		stamp = g.nextStamp(1)
		g.markSpans(blockSpans(0, n, 0, nil), stamp)
	}
	par.Tasks(g.workers, len(groups)+len(sparse), func(t int) {
		if t < len(groups) {
			buildHist(root.hist, g.bm, groups[t], g.idx[:n], g.ghs[:n])
			return
		}
		sparseHist([][]histBin{root.hist}, []gpair{sum}, []int{nActive}, g.bm, sparse[t-len(groups)], g.mark, stamp, grad)
	})
	g.evaluate([]*entry{root})
	if c.policy == Lossguide {
		g.growLossguide(root)
	} else {
		g.growDepthwise(root)
	}
	return g.tb, g.leaves
}

// leafValue is a node's shrunken weight, rounded to float32 as stored.
func (g *grower) leafValue(s gpair) float32 {
	return float32(g.c.leafWeight(s) * g.c.eta)
}

// canSplit reports whether e should be split, given the leaves so far.
func (g *grower) canSplit(e *entry, leaves int) bool {
	c := g.c
	return e.hist != nil && e.best.ok && e.best.gain > c.splitGain() && e.best.gain >= c.gamma &&
		(c.maxDepth == 0 || e.depth < c.maxDepth) && (c.maxLeaves == 0 || leaves < c.maxLeaves)
}

func (g *grower) finishLeaf(e *entry) {
	g.freeHist(e.hist)
	e.hist = nil
	if !e.unsorted {
		g.leaves = append(g.leaves, leafSeg{nid: e.nid, begin: e.begin, end: e.end, right: -1})
	}
}

// growDepthwise splits level by level (XGBoost's depthwise driver).
func (g *grower) growDepthwise(root *entry) {
	frontier := []*entry{root}
	leaves := 1
	for len(frontier) > 0 {
		var splitting []*entry
		for _, e := range frontier {
			if g.canSplit(e, leaves) {
				splitting = append(splitting, e)
				leaves++
			} else {
				g.finishLeaf(e)
			}
		}
		if len(splitting) == 0 {
			return
		}
		frontier = g.split(splitting)
	}
}

// growLossguide splits the best leaf first (LightGBM's leaf-wise growth).
func (g *grower) growLossguide(root *entry) {
	q := &entryHeap{root}
	leaves := 1
	for q.Len() > 0 {
		e := heap.Pop(q).(*entry)
		if !g.canSplit(e, leaves) {
			g.finishLeaf(e)
			continue
		}
		leaves++
		for _, ch := range g.split([]*entry{e}) {
			heap.Push(q, ch)
		}
	}
}

// entryHeap orders entries by gain, highest first; ties go to the lower
// node id, so the order is deterministic.
type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	ga, gb := math.Inf(-1), math.Inf(-1)
	if a.best.ok {
		ga = a.best.gain
	}
	if b.best.ok {
		gb = b.best.gain
	}
	if ga != gb {
		return ga > gb
	}
	return a.nid < b.nid
}
func (h entryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)   { *h = append(*h, x.(*entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// evaluate finds the best split of every entry: one task per (entry,
// feature group), reduced in group order.
func (g *grower) evaluate(batch []*entry) {
	ng := len(g.groups)
	g.res = slices.Grow(g.res[:0], len(batch)*ng)[:len(batch)*ng]
	res := g.res
	clear(res) // a skipped task leaves its result not ok
	floor := g.c.splitFloor()
	par.Tasks(g.workers, len(res), func(t int) {
		e, grp := batch[t/ng], g.groups[t%ng]
		if e.sum.h < floor {
			return // no split: res[t] stays not ok
		}
		ps := g.c.nodeScore(e.sum)
		var best splitInfo
		for _, f := range grp {
			if g.bm.cat[f] {
				g.c.bestSplitCat(&best, featHist(e.hist, f), f, len(g.bm.cuts[f])+1, e.sum, ps)
			} else {
				g.c.bestSplit(&best, featHist(e.hist, f), f, len(g.bm.cuts[f])+1, e.sum, ps)
			}
		}
		res[t] = best
	})
	for i, e := range batch {
		e.best = splitInfo{}
		for k := range ng {
			if r := &res[i*ng+k]; r.better(&e.best) {
				e.best = *r
			}
		}
	}
}

// split applies the best split of every entry in batch: it adds the
// children to the tree, partitions the rows, builds the smaller child's
// histogram and derives the larger one's by subtraction, and evaluates the
// children. It returns the children, left before right, in batch order.
func (g *grower) split(batch []*entry) []*entry {
	c := g.c
	children := make([]*entry, 0, 2*len(batch))
	for _, e := range batch {
		l, r := g.writeSplit(e)
		children = append(children,
			&entry{nid: l, depth: e.depth + 1, sum: e.best.left},
			&entry{nid: r, depth: e.depth + 1, sum: e.best.right})
	}
	// Children at the depth limit are leaves: no histograms, and unless
	// leaves are refreshed from their rows, no partition either.
	if c.maxDepth > 0 && batch[0].depth+1 >= c.maxDepth {
		for k, e := range batch {
			g.freeHist(e.hist)
			e.hist = nil
			if c.objective != AbsoluteError {
				children[2*k].unsorted, children[2*k+1].unsorted = true, true
				g.leaves = append(g.leaves, leafSeg{nid: children[2*k].nid, right: children[2*k+1].nid,
					begin: e.begin, end: e.end, feature: e.best.feature, tbl: g.tb.goLeft[e.nid]})
			}
		}
		if c.objective != AbsoluteError {
			return children
		}
	}
	nLeft := g.partition(batch)
	for k, e := range batch {
		l, r := children[2*k], children[2*k+1]
		l.begin, l.end = e.begin, e.begin+nLeft[k]
		r.begin, r.end = l.end, e.end
	}
	if c.maxDepth > 0 && batch[0].depth+1 >= c.maxDepth {
		return children
	}
	g.childHistograms(batch, children)
	g.evaluate(children)
	return children
}

// writeSplit adds e's children to the tree as leaves and makes e the split
// node of its best split, returning the children's node ids.
func (g *grower) writeSplit(e *entry) (l, r int) {
	bm, tb, s := g.bm, g.tb, &e.best
	l = tb.add(s.left.h, g.leafValue(s.left))
	r = tb.add(s.right.h, g.leafValue(s.right))
	i := e.nid
	tb.left[i], tb.right[i] = int32(l), int32(r)
	tb.feature[i] = int32(s.feature)
	tb.goLeft[i] = s.leftTable(bm.missing(s.feature))
	tb.defaultLeft[i] = s.defaultLeft
	tb.gain[i] = s.gain
	switch cuts := bm.cuts[s.feature]; {
	case s.cat:
		tb.threshold[i] = 0
		set := new([4]uint64)
		for b := range len(cuts) + 1 {
			if s.catBins[b>>6]>>(b&63)&1 == 1 {
				code := bm.binCode(s.feature, b)
				set[code>>6] |= 1 << (code & 63)
			}
		}
		tb.setCats(i, set)
	case s.bin < len(cuts):
		tb.threshold[i] = cuts[s.bin]
	default:
		tb.threshold[i] = math.MaxFloat32
	}
	return l, r
}

// childHistograms gives the children of batch (partitioned, left before
// right) their histograms: the smaller child's built from its rows, the
// larger child's the parent's minus it, in place. Dense feature groups
// build per child; sparse features go through sparseHist for all the
// children at once.
func (g *grower) childHistograms(batch, children []*entry) {
	bm := g.bm
	type job struct{ small, big *entry }
	jobs := make([]job, len(batch))
	for k, e := range batch {
		l, r := children[2*k], children[2*k+1]
		small, big := l, r
		if r.end-r.begin < l.end-l.begin {
			small, big = r, l
		}
		small.hist = g.allocHist()
		big.hist = e.hist // the parent's histogram becomes the larger child's
		e.hist = nil
		jobs[k] = job{small, big}
	}
	// Gather the smaller children's gradients, in blocks, counting the
	// rows with a nonzero gradient pair for sparseHist.
	type span struct{ lo, hi, job int }
	var spans []span
	for k, j := range jobs {
		for lo := j.small.begin; lo < j.small.end; lo += partBlock {
			spans = append(spans, span{lo, min(lo+partBlock, j.small.end), k})
		}
	}
	active := make([]int, len(spans))
	par.Tasks(g.workers, len(spans), func(t int) {
		sp := spans[t]
		k := 0
		for i, r := range g.idx[sp.lo:sp.hi] {
			p := g.grad[r]
			g.ghs[sp.lo+i] = p
			if p != (rowGrad{}) {
				k++
			}
		}
		active[t] = k
	})
	total := 0
	for _, j := range jobs {
		total += j.small.end - j.small.begin
	}
	groups, sparse := g.histPlan(total)
	var (
		stamp int32
		hists [][]histBin
		sums  []gpair
		sizes []int
		marks []markSpan
	)
	if len(sparse) > 0 {
		stamp = g.nextStamp(len(jobs))
		sizes = make([]int, len(jobs))
		for t, sp := range spans {
			sizes[sp.job] += active[t]
		}
		for k, j := range jobs {
			marks = blockSpans(j.small.begin, j.small.end, k, marks)
			hists, sums = append(hists, j.small.hist), append(sums, j.small.sum)
		}
		g.markSpans(marks, stamp)
	}
	ng := len(groups)
	nd := len(jobs) * ng
	par.Tasks(g.workers, nd+len(sparse), func(t int) {
		if t < nd {
			j, grp := jobs[t/ng], groups[t%ng]
			s := j.small
			buildHist(s.hist, bm, grp, g.idx[s.begin:s.end], g.ghs[s.begin:s.end])
			subtractHist(j.big.hist, s.hist, bm, grp)
			return
		}
		feats := sparse[t-nd]
		sparseHist(hists, sums, sizes, bm, feats, g.mark, stamp, g.grad)
		for _, j := range jobs {
			subtractHist(j.big.hist, j.small.hist, bm, feats)
		}
	})
}
