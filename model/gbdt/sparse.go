package gbdt

import "github.com/tabforge/tabforge/internal/par"

// sparseChunk is how many sparse features one histogram task takes.
const sparseChunk = 8

// sparseHist fills the bins of the sparse features feats in the
// histograms of a level's nodes: node k's histogram hists[k] from the rows
// marked stamp+k (mark is indexed by row), whose gradients grad holds by
// row. Only a feature's rows off its default code are read; the default
// bin is the node's sum minus the other bins, or exactly empty when every
// row of the node with a nonzero gradient pair is off the default code:
// a dense histogram holds exact zeros then (rows of weight 0 add nothing),
// which split finding reads as no missing values. sums are the nodes'
// gradient sums, sizes their counts of rows with a nonzero gradient pair.
func sparseHist(hists [][]histBin, sums []gpair, sizes []int, bm *binMatrix, feats []int, mark []int32, stamp int32, grad []rowGrad) {
	nodes := uint32(len(hists))
	count := make([]int, len(hists))
	for _, f := range feats {
		w := bm.width(f)
		for _, h := range hists {
			clear(featHist(h, f)[:w])
		}
		clear(count)
		codes := bm.codes[f]
		for _, r := range bm.nz[f] {
			k := uint32(mark[r] - stamp)
			if k >= nodes {
				continue
			}
			p := grad[r]
			if p == (rowGrad{}) {
				continue // adds nothing, and sizes leave it out
			}
			b := &featHist(hists[k], f)[codes[r]]
			b.g += float64(p.g)
			b.h += float64(p.h)
			count[k]++
		}
		d := bm.dflt[f]
		for k, h := range hists {
			fh := featHist(h, f)
			if count[k] == sizes[k] {
				continue // no row on the default code: its bin stays empty
			}
			rest := sums[k]
			for b := range w {
				if b != int(d) {
					rest.g -= fh[b].g
					rest.h -= fh[b].h
				}
			}
			fh[d] = histBin(rest)
		}
	}
}

// histPlan splits the tree's features for the histograms of nodes holding
// rows rows in all: sparse features with fewer off-default rows than that
// are read through their lists (sparseHist, chunked), the others in
// groups of 4 over the nodes' rows (buildHist).
func (g *grower) histPlan(rows int) (groups, sparse [][]int) {
	if len(g.sparseFeats) == 0 {
		return g.groups, nil
	}
	var dense, cur []int
	for _, f := range g.feats {
		if g.bm.nz[f] != nil && len(g.bm.nz[f]) < rows {
			cur = append(cur, f)
			if len(cur) == sparseChunk {
				sparse, cur = append(sparse, cur), nil
			}
			continue
		}
		dense = append(dense, f)
	}
	if len(cur) > 0 {
		sparse = append(sparse, cur)
	}
	for i := 0; i < len(dense); i += 4 {
		groups = append(groups, dense[i:min(i+4, len(dense))])
	}
	return groups, sparse
}

// nextStamp reserves marks for the nodes of one histogram step; marks
// left from earlier steps are below it, so they match no node.
func (g *grower) nextStamp(nodes int) int32 {
	if g.stampNext > 1<<30 {
		clear(g.mark)
		g.stampNext = 1
	}
	s := g.stampNext
	g.stampNext += int32(nodes)
	return s
}

// markSpans marks the rows of every span as belonging to its node
// (stamp+node), in parallel.
func (g *grower) markSpans(spans []markSpan, stamp int32) {
	par.Tasks(g.workers, len(spans), func(t int) {
		sp := spans[t]
		m := stamp + int32(sp.node)
		for _, r := range g.idx[sp.lo:sp.hi] {
			g.mark[r] = m
		}
	})
}

// markSpan is a block of a node's rows in g.idx.
type markSpan struct{ lo, hi, node int }

// blockSpans appends the blocks of positions lo..hi of g.idx, all of
// node node, to spans.
func blockSpans(lo, hi, node int, spans []markSpan) []markSpan {
	for ; lo < hi; lo += partBlock {
		spans = append(spans, markSpan{lo, min(lo+partBlock, hi), node})
	}
	return spans
}
