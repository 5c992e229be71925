package tree

// Split search: each drawn feature's thresholds scored on the node's rows
// (over their sorted keys, through per-code sums when the codes span few
// values, or at one random threshold as scikit-learn's RandomSplitter
// does), keeping the split that lowers impurity most.

import (
	"math"
	"sort"
)

// findSplit draws features in random order, as scikit-learn's splitters
// do, until it has visited maxFeatures of them and at least one was not
// constant on the node, and returns the best split found.
func (g *grower) findSplit(start, end int, wNode, sum float64) (split, bool) {
	best := split{feature: -1, proxy: math.Inf(-1)}
	p := len(g.feats)
	visited, constant := 0, 0
	for i := 0; i < p && (visited < g.c.maxFeatures || visited == constant); i++ {
		j := i + g.rng.IntN(p-i)
		g.feats[i], g.feats[j] = g.feats[j], g.feats[i]
		visited++
		if !g.evalFeature(g.feats[i], start, end, wNode, sum, &best) {
			constant++
			if g.presort {
				g.cur[g.feats[i]/64] |= 1 << (g.feats[i] % 64)
			}
		}
	}
	return best, best.feature >= 0
}

// evalFeature updates best with feature f's best split of the node and
// reports whether f varies on the node.
func (g *grower) evalFeature(f, start, end int, wNode, sum float64, best *split) bool {
	if g.presort {
		keys := g.lists[f*g.ns+start : f*g.ns+end]
		if keys[0]>>16 == keys[len(keys)-1]>>16 {
			return false
		}
		if g.k == 0 {
			g.scanPresortedReg(f, keys, wNode, sum, best)
		} else {
			g.scanPresortedCls(f, keys, wNode, best)
		}
		return true
	}
	codes := g.pr.codes[f]
	s := g.samples[start:end]
	keys := g.keys[:len(s)]
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for i, r := range s {
		c := codes[r]
		keys[i] = uint64(c)<<32 | uint64(r)
		lo = min(lo, c)
		hi = max(hi, c)
	}
	if lo == hi {
		return false
	}
	if g.c.random {
		g.evalRandom(f, keys, lo, hi, wNode, sum, best)
		return true
	}
	if span := int(hi-lo) + 1; span <= len(s)/2 {
		g.evalBuckets(f, keys, lo, span, wNode, sum, best)
		return true
	}
	keys = sortKeys(keys, g.keys2[:len(keys)], lo, hi-lo)
	if g.k == 0 {
		g.scanSortedReg(f, keys, wNode, sum, best)
	} else {
		g.scanSortedCls(f, keys, wNode, best)
	}
	return true
}

// record makes (f, cut between codes cl < cr) the best split if proxy
// beats it; the threshold is filled in after growing (setThresholds).
func record(best *split, f int, cl, cr uint32, proxy float64) {
	if proxy > best.proxy {
		*best = split{feature: f, cut: cl, next: cr, proxy: proxy}
	}
}

// midpoint returns the threshold between the adjacent codes cl < cr of
// feature f: the midpoint of their values, or the lower value when the
// midpoint rounds up to the upper one, as in scikit-learn.
func (g *grower) midpoint(f int, cl, cr uint32) float64 {
	vals := g.pr.vals[f]
	a, b := vals[cl], vals[cr]
	t := a/2 + b/2
	if t == b || math.IsInf(t, 0) || math.IsNaN(t) {
		t = a
	}
	return t
}

func (g *grower) scanSortedReg(f int, keys []uint64, wNode, sum float64, best *split) {
	rows := g.reg
	n, minLeaf := len(keys), g.c.minLeaf
	var wl, sl float64
	for i := 0; i < n-1; i++ {
		e := &rows[uint32(keys[i])]
		wl += e.w
		sl += e.wy
		c, next := uint32(keys[i]>>32), uint32(keys[i+1]>>32)
		if c == next || i+1 < minLeaf {
			continue
		}
		if n-i-1 < minLeaf {
			break
		}
		wr := wNode - wl
		if wr <= 0 {
			continue
		}
		sr := sum - sl
		if proxy := sl*sl/wl + sr*sr/wr; proxy > best.proxy {
			record(best, f, c, next, proxy)
		}
	}
}

func (g *grower) scanSortedCls(f int, keys []uint64, wNode float64, best *split) {
	rows, cl := g.cls, g.cntL
	clear(cl)
	n, minLeaf := len(keys), g.c.minLeaf
	var wl float64
	for i := 0; i < n-1; i++ {
		e := &rows[uint32(keys[i])]
		wl += e.w
		cl[e.label] += e.w
		c, next := uint32(keys[i]>>32), uint32(keys[i+1]>>32)
		if c == next || i+1 < minLeaf {
			continue
		}
		if n-i-1 < minLeaf {
			break
		}
		if proxy := g.clsProxy(wl, wNode); proxy > best.proxy {
			record(best, f, c, next, proxy)
		}
	}
}

// clsProxy scores the split whose left class weights are g.cntL (total
// wl) for a node with class weights g.cnt (total wNode): minus the
// children's summed weighted impurity, up to a constant of the node.
func (g *grower) clsProxy(wl, wNode float64) float64 {
	wr := wNode - wl
	if wr <= 0 || wl <= 0 {
		return math.Inf(-1)
	}
	var s float64
	if g.c.criterion == Entropy {
		for k, a := range g.cntL {
			if a > 0 {
				s += a * math.Log(a/wl)
			}
			if b := g.cnt[k] - a; b > 0 {
				s += b * math.Log(b/wr)
			}
		}
		return s
	}
	var sl, sr float64
	for k, a := range g.cntL {
		b := g.cnt[k] - a
		sl += a * a
		sr += b * b
	}
	return sl/wl + sr/wr
}

// evalBuckets scans a feature whose codes on the node span few values by
// accumulating per-code sums, O(n + span), instead of sorting.
func (g *grower) evalBuckets(f int, keys []uint64, lo uint32, span int, wNode, sum float64, best *split) {
	width := 1
	if g.k > 0 {
		width = g.k
	}
	if cap(g.bn) < span {
		g.bn = make([]int32, span, max(span, len(g.samples)/2+1))
		g.bw = make([]float64, span*width, cap(g.bn)*width)
		g.bs = make([]float64, span, cap(g.bn))
	}
	bn, bw, bs := g.bn[:span], g.bw[:span*width], g.bs[:span]
	clear(bn)
	clear(bw)
	if g.k == 0 {
		clear(bs)
		for _, key := range keys {
			b, e := uint32(key>>32)-lo, &g.reg[uint32(key)]
			bn[b]++
			bw[b] += e.w
			bs[b] += e.wy
		}
	} else {
		for _, key := range keys {
			b, e := uint32(key>>32)-lo, &g.cls[uint32(key)]
			bn[b]++
			bw[int(b)*width+int(e.label)] += e.w
		}
	}
	n, minLeaf := len(keys), g.c.minLeaf
	nl := 0
	var wl, sl float64
	clear(g.cntL)
	prev := -1
	for b := range span {
		if bn[b] == 0 {
			continue
		}
		if prev >= 0 && nl >= minLeaf && n-nl >= minLeaf {
			var proxy float64
			if g.k == 0 {
				wr, sr := wNode-wl, sum-sl
				if wr <= 0 {
					proxy = math.Inf(-1)
				} else {
					proxy = sl*sl/wl + sr*sr/wr
				}
			} else {
				proxy = g.clsProxy(wl, wNode)
			}
			if proxy > best.proxy {
				record(best, f, lo+uint32(prev), lo+uint32(b), proxy)
			}
		}
		if n-nl-int(bn[b]) < minLeaf {
			break
		}
		nl += int(bn[b])
		if g.k == 0 {
			wl += bw[b]
			sl += bs[b]
		} else {
			for k := range width {
				v := bw[b*width+k]
				g.cntL[k] += v
				wl += v
			}
		}
		prev = b
	}
}

// evalRandom scores one uniformly drawn threshold of feature f, as
// scikit-learn's RandomSplitter does.
func (g *grower) evalRandom(f int, keys []uint64, lo, hi uint32, wNode, sum float64, best *split) {
	vals := g.pr.vals[f]
	vmin, vmax := vals[lo], vals[hi]
	t := (vmax-vmin)*g.rng.Float64() + vmin
	if math.IsInf(t, 0) {
		t = vmin/2 + vmax/2
	}
	if t >= vmax {
		t = vmin
	}
	// cut = the largest code whose value is <= t
	cut := lo + uint32(sort.SearchFloat64s(vals[lo:hi+1], math.Nextafter(t, math.Inf(1)))) - 1
	nl := 0
	var wl, sl float64
	if g.k == 0 {
		for _, key := range keys {
			if uint32(key>>32) <= cut {
				e := &g.reg[uint32(key)]
				nl++
				wl += e.w
				sl += e.wy
			}
		}
	} else {
		clear(g.cntL)
		for _, key := range keys {
			if uint32(key>>32) <= cut {
				e := &g.cls[uint32(key)]
				nl++
				wl += e.w
				g.cntL[e.label] += e.w
			}
		}
	}
	if nl < g.c.minLeaf || len(keys)-nl < g.c.minLeaf {
		return
	}
	var proxy float64
	if g.k == 0 {
		wr, sr := wNode-wl, sum-sl
		if wr <= 0 {
			return
		}
		proxy = sl*sl/wl + sr*sr/wr
	} else {
		proxy = g.clsProxy(wl, wNode)
	}
	if proxy > best.proxy {
		*best = split{feature: f, cut: cut, threshold: t, proxy: proxy}
	}
}
