package gbdt

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/model"
)

// stage tags a random stream with the kind of work it drives, so streams
// for different purposes never coincide.
type stage uint64

// Random stream stages.
const (
	stageBinning stage = iota + 1
	stageRows
	stageCols
	stageHoldout
)

// stream returns the random stream for unit i of stage s. Every random
// choice in training comes from such a stream, never from shared state, so
// results do not depend on scheduling.
func stream(seed uint64, s stage, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(s)<<40^uint64(i)))
}

// sampleRows appends to dst[:0] the rows of [0, n) kept by independent
// Bernoulli(frac) draws, in increasing order; with frac >= 1 it keeps all.
// At least one row is kept.
func sampleRows(dst []int32, n int, frac float64, rng *rand.Rand) []int32 {
	dst = dst[:0]
	if frac >= 1 {
		for r := range n {
			dst = append(dst, int32(r))
		}
		return dst
	}
	for r := range n {
		if rng.Float64() < frac {
			dst = append(dst, int32(r))
		}
	}
	if len(dst) == 0 {
		dst = append(dst, int32(rng.IntN(n)))
	}
	return dst
}

// sampleCols returns max(1, round(frac·p)) distinct features of [0, p) in
// increasing order; with frac >= 1 all of them.
func sampleCols(p int, frac float64, rng *rand.Rand) []int {
	all := make([]int, p)
	for i := range all {
		all[i] = i
	}
	if frac >= 1 {
		return all
	}
	k := max(1, int(math.Round(frac*float64(p))))
	for i := range k { // partial Fisher–Yates
		j := i + rng.IntN(p-i)
		all[i], all[j] = all[j], all[i]
	}
	out := all[:k]
	slices.Sort(out)
	return out
}

// holdout splits d into a training part and a validation part holding
// frac of its rows (at least one row each when possible): the latest rows
// when d.Time orders them, else a seeded random draw.
// Row order is kept within each part.
func holdout(d *model.Dataset, frac float64, seed uint64) (train, valid *model.Dataset) {
	n := d.X.Rows
	nv := max(1, int(math.Round(frac*float64(n))))
	if nv >= n {
		nv = n - 1
	}
	var vr, tr []int
	if d.Time != nil {
		vr, tr = latest(d.Time, nv)
	} else {
		perm := stream(seed, stageHoldout, 0).Perm(n)
		vr, tr = perm[:nv], perm[nv:]
	}
	slices.Sort(vr)
	slices.Sort(tr)
	return d.TakeRows(tr), d.TakeRows(vr)
}

// latest splits rows into the about nv latest by time (valid) and the
// rest, keeping rows that share a time on one side: the cut moves back to
// the start of the time it falls in, or forward past it when that would
// leave no training row.
func latest(times []float64, nv int) (valid, train []int) {
	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
	cut := len(order) - nv
	for cut > 0 && times[order[cut-1]] == times[order[cut]] {
		cut--
	}
	if cut == 0 { // the latest time holds nearly everything: hold out less
		cut = len(order) - nv
		for cut < len(order)-1 && times[order[cut]] == times[order[cut-1]] {
			cut++
		}
	}
	return order[cut:], order[:cut]
}
