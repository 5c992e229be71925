package split

import (
	"cmp"
	"fmt"
	"slices"
)

func checkK(n, k int) error {
	if k < 2 {
		return fmt.Errorf("split: k = %d folds: need at least 2", k)
	}
	if k > n {
		return fmt.Errorf("split: k = %d folds exceeds the %d rows", k, n)
	}
	return nil
}

// foldsFromAssignment builds k folds from a fold number per row: fold f
// tests the rows assigned to f and trains on all others.
func foldsFromAssignment(assign []int, k int) []Fold {
	folds := make([]Fold, k)
	for i, a := range assign {
		for f := range folds {
			if f == a {
				folds[f].Test = append(folds[f].Test, i)
			} else {
				folds[f].Train = append(folds[f].Train, i)
			}
		}
	}
	return folds
}

// KFold splits rows 0..n-1 into k folds of sizes differing by at most one
// (the first n%k folds have one row more), as scikit-learn's KFold does.
// Without shuffle, fold f tests a contiguous block of rows and seed is
// ignored; with shuffle, the rows are permuted first with a PCG stream
// seeded from seed. It returns an error if k < 2 or k > n.
func KFold(n, k int, shuffle bool, seed uint64) ([]Fold, error) {
	if err := checkK(n, k); err != nil {
		return nil, err
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if shuffle {
		order = newRand(seed, streamKFold).Perm(n)
	}
	assign := make([]int, n)
	start := 0
	for f := range k {
		size := n / k
		if f < n%k {
			size++
		}
		for _, r := range order[start : start+size] {
			assign[r] = f
		}
		start += size
	}
	return foldsFromAssignment(assign, k), nil
}

// StratifiedKFold splits rows into k folds that preserve the class shares,
// with scikit-learn's allocation (StratifiedKFold, shuffle=True): the
// labels are sorted and dealt round-robin to the folds, which fixes how
// many rows of each class every fold gets and keeps fold sizes within one
// of each other; within each class, the fold numbers are then shuffled over
// its rows with a PCG stream seeded from seed. A class with fewer than k
// rows is missing from some test folds. It returns an error if k < 2 or
// k > len(labels).
func StratifiedKFold(labels []int, k int, seed uint64) ([]Fold, error) {
	n := len(labels)
	if err := checkK(n, k); err != nil {
		return nil, err
	}
	_, rows := classRows(labels)
	// alloc[c][f] = rows of class c in fold f: deal the sorted labels
	// round-robin, row j of the sorted order going to fold j%k.
	alloc := make([][]int, len(rows))
	j := 0
	for c, r := range rows {
		alloc[c] = make([]int, k)
		for range r {
			alloc[c][j%k]++
			j++
		}
	}
	rng := newRand(seed, streamStratifiedKFold)
	assign := make([]int, n)
	for c, r := range rows {
		fold := make([]int, 0, len(r))
		for f, cnt := range alloc[c] {
			for range cnt {
				fold = append(fold, f)
			}
		}
		rng.Shuffle(len(fold), func(a, b int) { fold[a], fold[b] = fold[b], fold[a] })
		for i, row := range r {
			assign[row] = fold[i]
		}
	}
	return foldsFromAssignment(assign, k), nil
}

// TimeSeries builds k expanding-window folds over time: the rows, ordered
// by time, are cut into k+1 consecutive blocks, and fold f trains on blocks
// 0..f and tests on block f+1. Block boundaries follow scikit-learn's
// TimeSeriesSplit (k test blocks of n/(k+1) rows, the remainder going to
// the first training block), each moved to the nearest change of time so
// that rows sharing a time are always in the same block. Every training row
// is therefore strictly earlier than every test row of its fold. It returns
// an error if a time is NaN, k < 2, k >= n, or there are too few distinct
// times for k+1 blocks.
func TimeSeries(times []float64, k int) ([]Fold, error) {
	return TimeSeriesGap(times, k, 0)
}

// TimeSeriesGap is TimeSeries with a gap: each fold's training rows end
// gap distinct times before its test block, so that a model is validated
// on a horizon gap steps ahead of its last training row, as it is used
// when the newest data arrives late (scikit-learn's gap counts rows; this
// counts times, so rows sharing a time are never split). It returns an
// error if the gap leaves a fold no training rows.
func TimeSeriesGap(times []float64, k, gap int) ([]Fold, error) {
	n := len(times)
	if gap < 0 {
		return nil, fmt.Errorf("split: time-series gap %d: want >= 0", gap)
	}
	if k < 2 {
		return nil, fmt.Errorf("split: k = %d folds: need at least 2", k)
	}
	if k+1 > n {
		return nil, fmt.Errorf("split: time-series split of %d rows into %d folds needs at least k+1 = %d rows", n, k, k+1)
	}
	if err := checkTimes(times); err != nil {
		return nil, err
	}
	order := timeOrder(times)
	// starts lists the positions in order where a new distinct time begins
	// (position 0 excluded): the only legal block boundaries.
	var starts []int
	for p := 1; p < n; p++ {
		if times[order[p]] != times[order[p-1]] {
			starts = append(starts, p)
		}
	}
	if len(starts) < k {
		return nil, fmt.Errorf("split: time-series split into %d folds needs at least %d distinct times, have %d", k, k+1, len(starts)+1)
	}
	testSize := n / (k + 1)
	bounds := make([]int, k+1) // bounds[f] = first position of test block f; bounds[k] = n
	bounds[k] = n
	for f := range k {
		bounds[f] = nearest(starts, n-(k-f)*testSize)
	}
	for f := 1; f <= k; f++ {
		if bounds[f] <= bounds[f-1] {
			return nil, fmt.Errorf("split: time-series split into %d folds: times too concentrated (blocks of %d rows collapse at ties); use fewer folds", k, testSize)
		}
	}
	firsts := append([]int{0}, starts...) // first position of each distinct time
	folds := make([]Fold, k)
	for f := range k {
		j, _ := slices.BinarySearch(firsts, bounds[f])
		if j-gap <= 0 {
			return nil, fmt.Errorf("split: time-series fold %d: a gap of %d times leaves no training rows; use a smaller gap or fewer folds", f+1, gap)
		}
		train := slices.Clone(order[:firsts[j-gap]])
		test := slices.Clone(order[bounds[f]:bounds[f+1]])
		slices.Sort(train)
		slices.Sort(test)
		folds[f] = Fold{Train: train, Test: test}
	}
	return folds, nil
}

// nearest returns the element of the sorted, non-empty xs closest to p;
// on a tie, the smaller one.
func nearest(xs []int, p int) int {
	i, _ := slices.BinarySearch(xs, p)
	switch {
	case i == 0:
		return xs[0]
	case i == len(xs):
		return xs[len(xs)-1]
	case p-xs[i-1] <= xs[i]-p:
		return xs[i-1]
	default:
		return xs[i]
	}
}

// GroupKFold splits rows into k folds such that all rows of a group are in
// the same fold, with scikit-learn's GroupKFold greedy: groups, largest
// first (ties by smaller group id), each go to the fold with the fewest rows
// so far (ties to the lower fold). It is deterministic and takes no seed.
// It returns an error if k < 2 or there are fewer than k distinct groups.
func GroupKFold(groups []int, k int) ([]Fold, error) {
	if k < 2 {
		return nil, fmt.Errorf("split: k = %d folds: need at least 2", k)
	}
	ids, rows := classRows(groups)
	if len(ids) < k {
		return nil, fmt.Errorf("split: group k-fold into %d folds: only %d distinct groups", k, len(ids))
	}
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(rows[b]), len(rows[a])) })
	load := make([]int, k)
	assign := make([]int, len(groups))
	for _, g := range order {
		f := 0
		for i := 1; i < k; i++ {
			if load[i] < load[f] {
				f = i
			}
		}
		load[f] += len(rows[g])
		for _, r := range rows[g] {
			assign[r] = f
		}
	}
	return foldsFromAssignment(assign, k), nil
}
