package gbdt

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/model"
	rowsplit "github.com/tabforge/tabforge/split" // gbdt has its own split: a tree node
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
// when d.Time orders them (see latest), else, or when every row has the
// same time, a seeded random draw. Row order is kept within each part.
func holdout(d *model.Dataset, frac float64, seed uint64) (train, valid *model.Dataset) {
	n := d.X.Rows
	nv := max(1, int(math.Round(frac*float64(n))))
	if nv >= n {
		nv = n - 1
	}
	var vr, tr []int
	ok := false
	if d.Time != nil {
		vr, tr, ok = latest(d.Time, nv)
	}
	if !ok {
		perm := stream(seed, stageHoldout, 0).Perm(n)
		vr, tr = perm[:nv], perm[nv:]
	}
	vr, tr = keepClasses(d, vr, tr)
	slices.Sort(vr)
	slices.Sort(tr)
	return d.TakeRows(tr), d.TakeRows(vr)
}

// keepClasses moves back to the training rows tr one validation row of
// each class of a classification task that only validation rows vr hold,
// while vr keeps a row: a rare class (a positive or two among hundreds of
// rows) drawn whole into the holdout left none to fit on, and the fit
// failed with "every training label is class 0" where Train alone would
// have fitted. Data where every class has training rows is split as it
// always was.
func keepClasses(d *model.Dataset, vr, tr []int) ([]int, []int) {
	if !d.Task.IsClassification() {
		return vr, tr
	}
	// Labels are checked by Train, after the split: one that is no
	// class index is left where it fell.
	class := func(i int) int {
		if y := d.Y[i]; y >= 0 && y < float64(d.NumClasses) {
			return int(y)
		}
		return -1
	}
	inTrain := make([]bool, d.NumClasses)
	for _, i := range tr {
		if c := class(i); c >= 0 {
			inTrain[c] = true
		}
	}
	for k := 0; k < len(vr) && len(vr) > 1; {
		c := class(vr[k])
		if c < 0 || inTrain[c] {
			k++
			continue
		}
		inTrain[c] = true
		tr = append(tr, vr[k])
		vr = slices.Delete(vr, k, k+1)
	}
	return vr, tr
}

// latest splits rows into about the nv latest by time (valid) and the
// rest, cutting at the time boundary nearest to nv rows from the end
// (split.NearestBoundary, the rule of the train/test split): rows sharing
// a time stay on one side, and both sides keep at least one row. Moving
// the cut back to the start of the time it fell in held out up to twice
// the asked rows on yearly data. It reports false when every row has the
// same time, so that no time boundary exists, and when the nearest
// boundary holds out more than half the rows and twice the asked (the
// latest time holds most of them): early stopping would then fit on the
// few earlier rows, and the refit scale its rounds up by as much (10 rows
// before a time of 990 were fitted alone and their rounds multiplied by
// 100).
func latest(times []float64, nv int) (valid, train []int, ok bool) {
	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
	n := len(order)
	cut, ok := rowsplit.NearestBoundary(n-nv, n, func(a, b int) bool { return times[order[a]] == times[order[b]] })
	if !ok || n-cut > max(2*nv, n/2) {
		return nil, nil, false
	}
	return order[cut:], order[:cut], true
}
