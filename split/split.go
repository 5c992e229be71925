// Package split turns a dataset's rows into train/test partitions: holdout
// splits (random, stratified, temporal, as-of a cutoff, or given explicitly)
// and cross-validation folds (k-fold, stratified, time-series, group).
//
// Every function works on row indices 0..n-1 and returns them sorted in
// ascending order, so the result can be applied to any column of the data
// (see Take). Randomised splits take a seed and are deterministic for it:
// the same seed and input always give the same split, on any machine, with
// any number of workers.
//
// Cross-validation inside the training part of a holdout works on positions:
// build the folds from the training rows' own values (for example
// StratifiedKFold(Take(labels, h.Train), k, seed)), whose indices are
// positions 0..len(h.Train)-1 into h.Train, then use Remap to turn them into
// row indices of the full dataset if needed.
//
// Bad input (NaN times, k out of range, a fraction outside (0, 1), a split
// that would leave one side empty) returns an error; nothing here panics on
// data.
package split

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Holdout is a single train/test partition of row indices. Both slices are
// sorted ascending, disjoint, and non-empty.
type Holdout struct {
	Train []int
	Test  []int
}

// Fold is one cross-validation fold: the rows to fit on and the rows to
// evaluate on. Both slices are sorted ascending and disjoint.
type Fold struct {
	Train []int
	Test  []int
}

// ErrEmptySide is wrapped by errors from splits that would leave the train
// or the test side without rows.
var ErrEmptySide = errors.New("split: empty train or test side")

// Stream identifiers keep the random streams of the different splitters
// apart, so that the same seed gives unrelated permutations in Random and
// KFold.
const (
	streamRandom uint64 = iota + 1
	streamStratified
	streamKFold
	streamStratifiedKFold
)

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

func checkFraction(f float64) error {
	if !(f > 0 && f < 1) { // also rejects NaN
		return fmt.Errorf("split: test fraction %v outside (0, 1)", f)
	}
	return nil
}

// testCount is the number of test rows for n rows and fraction f, rounded up
// as in scikit-learn's train_test_split (ceil(f*n)).
func testCount(n int, f float64) int {
	return int(math.Ceil(f * float64(n)))
}

// Random splits rows 0..n-1 at random: ceil(testFraction*n) rows go to Test,
// as in scikit-learn's train_test_split, and the rest to Train. It returns
// an error if n < 2, testFraction is outside (0, 1), or either side would be
// empty.
func Random(n int, testFraction float64, seed uint64) (Holdout, error) {
	if err := checkFraction(testFraction); err != nil {
		return Holdout{}, err
	}
	if n < 2 {
		return Holdout{}, fmt.Errorf("split: random split of %d rows: need at least 2", n)
	}
	nTest := testCount(n, testFraction)
	if nTest >= n {
		return Holdout{}, fmt.Errorf("split: random split of %d rows with test fraction %v: %w", n, testFraction, ErrEmptySide)
	}
	perm := newRand(seed, streamRandom).Perm(n)
	h := Holdout{Test: perm[:nTest:nTest], Train: perm[nTest:]}
	slices.Sort(h.Test)
	slices.Sort(h.Train)
	return h, nil
}

// classRows groups row indices by label; classes are in ascending label
// order and rows within a class ascending.
func classRows(labels []int) (classes []int, rows [][]int) {
	byLabel := make(map[int][]int)
	for i, l := range labels {
		byLabel[l] = append(byLabel[l], i)
	}
	classes = make([]int, 0, len(byLabel))
	for l := range byLabel {
		classes = append(classes, l)
	}
	slices.Sort(classes)
	rows = make([][]int, len(classes))
	for c, l := range classes {
		rows[c] = byLabel[l]
	}
	return classes, rows
}

// StratifiedRandom splits rows at random so that every class keeps its
// share of rows on both sides as closely as integers allow. The total test
// size is ceil(testFraction*n), as in Random; it is divided among the classes
// in proportion to their sizes by the largest-remainder method (ties go to
// the larger class, then the smaller label), and each class's test rows are
// drawn at random. A class with a single row therefore lands on one side
// only. It returns an error under the same conditions as Random.
func StratifiedRandom(labels []int, testFraction float64, seed uint64) (Holdout, error) {
	n := len(labels)
	if err := checkFraction(testFraction); err != nil {
		return Holdout{}, err
	}
	if n < 2 {
		return Holdout{}, fmt.Errorf("split: stratified split of %d rows: need at least 2", n)
	}
	nTest := testCount(n, testFraction)
	if nTest >= n {
		return Holdout{}, fmt.Errorf("split: stratified split of %d rows with test fraction %v: %w", n, testFraction, ErrEmptySide)
	}
	_, rows := classRows(labels)
	quota := largestRemainder(nTest, rows)
	rng := newRand(seed, streamStratified)
	h := Holdout{Train: make([]int, 0, n-nTest), Test: make([]int, 0, nTest)}
	for c, r := range rows {
		r = slices.Clone(r)
		rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		h.Test = append(h.Test, r[:quota[c]]...)
		h.Train = append(h.Train, r[quota[c]:]...)
	}
	slices.Sort(h.Test)
	slices.Sort(h.Train)
	return h, nil
}

// largestRemainder divides total among groups in proportion to their sizes.
func largestRemainder(total int, groups [][]int) []int {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	quota := make([]int, len(groups))
	rem := make([]float64, len(groups))
	given := 0
	for c, g := range groups {
		exact := float64(total) * float64(len(g)) / float64(n)
		quota[c] = int(math.Floor(exact))
		rem[c] = exact - float64(quota[c])
		given += quota[c]
	}
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(rem[b], rem[a]); c != 0 {
			return c
		}
		return cmp.Compare(len(groups[b]), len(groups[a]))
	})
	for _, c := range order {
		if given == total {
			break
		}
		if quota[c] < len(groups[c]) {
			quota[c]++
			given++
		}
	}
	return quota
}

func checkTimes(times []float64) error {
	for i, t := range times {
		if math.IsNaN(t) {
			return fmt.Errorf("split: time of row %d is NaN", i)
		}
	}
	return nil
}

// timeOrder returns the row indices sorted by time, ties in row order.
func timeOrder(times []float64) []int {
	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
	return order
}

// TemporalFraction is tabforge's default temporal holdout: Latest with
// n-floor((1-testFraction)*n) test rows, the count of the baseline protocol
// (shared/anchors/baselines.md), so that without tied times it holds out
// the same rows as the peers. It returns an error if testFraction is
// outside (0, 1), as well as under Latest's conditions.
func TemporalFraction(times []float64, testFraction float64) (Holdout, float64, error) {
	if err := checkFraction(testFraction); err != nil {
		return Holdout{}, math.NaN(), err
	}
	n := len(times)
	h, cutoff, err := Latest(times, n-int(math.Floor((1-testFraction)*float64(n))))
	if err != nil {
		return Holdout{}, cutoff, fmt.Errorf("split: temporal split with test fraction %v: %w", testFraction, err)
	}
	return h, cutoff, nil
}

// Latest holds out about the newest nTest rows by time: rows are sorted
// by time (stable), and the cut goes to the time boundary (a position in
// that order between two different times) nearest to n-nTest rows from
// the start. Rows sharing a time are never split between the sides, so
// Test may hold more or fewer than nTest rows, but never more than half a
// run of tied times away from it, unless the run holds the oldest or the
// newest row: its only boundary is then on the other side, taken however
// far (both sides keep rows). Moving the cut back to the start of the
// tied time, the baseline protocol's rule, held out 39% of a table of
// yearly data at a requested 20% where the next year's start gave 18.8%.
// When two boundaries are equally near, the earlier one wins (more rows
// tested, as the baseline protocol would). Test holds the rows with time
// >= the returned cutoff and Train the others. Times may be any totally
// ordered encoding (Unix seconds, year*100+month, ...). It returns an
// error wrapping ErrEmptySide if every row has the same time, and an error
// if a time is NaN, n < 2 or nTest is outside [1, n).
func Latest(times []float64, nTest int) (Holdout, float64, error) {
	n := len(times)
	if n < 2 {
		return Holdout{}, math.NaN(), fmt.Errorf("split: temporal split of %d rows: need at least 2", n)
	}
	if nTest < 1 || nTest >= n {
		return Holdout{}, math.NaN(), fmt.Errorf("split: temporal split of %d rows with %d test rows: %w", n, nTest, ErrEmptySide)
	}
	if err := checkTimes(times); err != nil {
		return Holdout{}, math.NaN(), err
	}
	order := timeOrder(times)
	cut, ok := NearestBoundary(n-nTest, n, func(a, b int) bool { return times[order[a]] == times[order[b]] })
	if !ok {
		return Holdout{}, math.NaN(), fmt.Errorf("split: temporal split of %d rows all at time %v: %w", n, times[0], ErrEmptySide)
	}
	cutoff := times[order[cut]]
	h, err := AsOf(times, cutoff)
	return h, cutoff, err
}

// NearestBoundary returns the position in 1..n-1 nearest to pos at which
// the sorted sequence of n items changes value: same(i, j) reports
// whether the items at sorted positions i and j are equal, and is only
// asked of neighbours. Of two equally near positions it returns the
// earlier. It reports false when all n items are equal or n < 2. Callers that hold
// out the newest rows (split.Latest, retrain's holdout) use it so that a
// run of tied times lands whole on the side where most of it lies.
func NearestBoundary(pos, n int, same func(i, j int) bool) (int, bool) {
	if n < 2 {
		return 0, false
	}
	pos = min(max(pos, 1), n-1)
	back := pos
	for back > 0 && same(back-1, back) {
		back--
	}
	fwd := pos
	for fwd < n && same(fwd-1, fwd) {
		fwd++
	}
	switch {
	case back == 0 && fwd == n:
		return 0, false
	case back == 0:
		return fwd, true
	case fwd == n || pos-back <= fwd-pos:
		return back, true
	}
	return fwd, true
}

// AsOf splits rows at a cutoff time: Train holds the rows with time <
// cutoff and Test the rows with time >= cutoff. It returns an error if a
// time or the cutoff is NaN, or if either side is empty.
func AsOf(times []float64, cutoff float64) (Holdout, error) {
	if math.IsNaN(cutoff) {
		return Holdout{}, errors.New("split: as-of cutoff is NaN")
	}
	if err := checkTimes(times); err != nil {
		return Holdout{}, err
	}
	var h Holdout
	for i, t := range times {
		if t < cutoff {
			h.Train = append(h.Train, i)
		} else {
			h.Test = append(h.Test, i)
		}
	}
	if len(h.Train) == 0 || len(h.Test) == 0 {
		return Holdout{}, fmt.Errorf("split: as of %v: %d train and %d test rows: %w", cutoff, len(h.Train), len(h.Test), ErrEmptySide)
	}
	return h, nil
}

// FromTestRows builds the holdout of n rows whose test rows are given (in
// any order); every other row is a training row. It returns an error if a
// row is outside [0, n), appears twice, or either side is empty.
func FromTestRows(n int, testRows []int) (Holdout, error) {
	if n < 0 {
		return Holdout{}, fmt.Errorf("split: negative row count %d", n)
	}
	isTest := make([]bool, n)
	for i, r := range testRows {
		if r < 0 || r >= n {
			return Holdout{}, fmt.Errorf("split: test row %d (entry %d) outside [0, %d)", r, i, n)
		}
		if isTest[r] {
			return Holdout{}, fmt.Errorf("split: test row %d listed twice (entry %d)", r, i)
		}
		isTest[r] = true
	}
	h := Holdout{Train: make([]int, 0, n-len(testRows)), Test: make([]int, 0, len(testRows))}
	for i, t := range isTest {
		if t {
			h.Test = append(h.Test, i)
		} else {
			h.Train = append(h.Train, i)
		}
	}
	if len(h.Train) == 0 || len(h.Test) == 0 {
		return Holdout{}, fmt.Errorf("split: %d test rows of %d: %w", len(h.Test), n, ErrEmptySide)
	}
	return h, nil
}

// Take returns the elements of values at the given indices, in that order:
// Take(y, h.Train) is the training target. It returns nil if an index is
// out of range; use Remap or FromTestRows to validate untrusted indices.
func Take[T any](values []T, idx []int) []T {
	out := make([]T, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(values) {
			return nil
		}
		out[k] = values[i]
	}
	return out
}

// Remap translates folds built on positions 0..len(rows)-1 of a subset of
// rows (typically a holdout's Train) into the row indices of the full data:
// position p becomes rows[p]. Results are sorted ascending. It returns an
// error if a position is outside [0, len(rows)).
func Remap(folds []Fold, rows []int) ([]Fold, error) {
	out := make([]Fold, len(folds))
	for f, fold := range folds {
		var err error
		if out[f].Train, err = remap(fold.Train, rows); err != nil {
			return nil, fmt.Errorf("split: remap fold %d train: %w", f, err)
		}
		if out[f].Test, err = remap(fold.Test, rows); err != nil {
			return nil, fmt.Errorf("split: remap fold %d test: %w", f, err)
		}
	}
	return out, nil
}

func remap(pos, rows []int) ([]int, error) {
	out := make([]int, len(pos))
	for k, p := range pos {
		if p < 0 || p >= len(rows) {
			return nil, fmt.Errorf("position %d outside [0, %d)", p, len(rows))
		}
		out[k] = rows[p]
	}
	slices.Sort(out)
	return out, nil
}
