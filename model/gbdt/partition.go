package gbdt

import "github.com/tabforge/tabforge/internal/par"

// partBlock is the row block of parallel partitioning and gathering.
const partBlock = 1 << 15

// partition reorders each entry's segment of idx so that the
// rows going left come first, keeping row order within each side, and
// returns the number of left rows per entry. Each block of rows is first
// split inside its own range of the scratch buffers, branch-free (lefts
// from the front, rights from the back), then the blocks are copied to
// their places from a prefix sum of the left counts.
func (g *grower) partition(batch []*entry) []int {
	type task struct {
		e      int
		lo, hi int
		nLeft  int // rows going left in [lo, hi)
		before int // left rows of the entry before lo
	}
	var tasks []task
	for k, e := range batch {
		for lo := e.begin; lo < e.end; lo += partBlock {
			tasks = append(tasks, task{e: k, lo: lo, hi: min(lo+partBlock, e.end)})
		}
	}
	goLeft := make([]*[256]uint8, len(batch))
	for k, e := range batch {
		goLeft[k] = g.tb.goLeft[e.nid]
	}
	par.Tasks(g.workers, len(tasks), func(t int) {
		tk := &tasks[t]
		col, tbl := g.bm.codes[batch[tk.e].best.feature], goLeft[tk.e]
		idx, tmp := g.idx[tk.lo:tk.hi], g.tmp[tk.lo:tk.hi]
		nl, nr := 0, len(tmp)-1
		for _, r := range idx {
			x := int(tbl[col[r]])
			// Both writes land inside this block: nl <= nr until the end.
			tmp[nl] = r
			tmp[nr] = r
			nl += x
			nr -= 1 - x
		}
		tk.nLeft = nl
	})
	nLeft := make([]int, len(batch))
	for t := range tasks {
		tk := &tasks[t]
		tk.before = nLeft[tk.e]
		nLeft[tk.e] += tk.nLeft
	}
	par.Tasks(g.workers, len(tasks), func(t int) {
		tk := &tasks[t]
		e := batch[tk.e]
		nl := tk.nLeft
		li := e.begin + tk.before
		copy(g.idx[li:li+nl], g.tmp[tk.lo:tk.lo+nl])
		ri := e.begin + nLeft[tk.e] + (tk.lo - e.begin - tk.before)
		for j := tk.hi - 1; j >= tk.lo+nl; j-- { // rights were stored back to front
			g.idx[ri] = g.tmp[j]
			ri++
		}
	})
	return nLeft
}
