package features

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// fewStrays reports whether off of total distinct training times are few
// enough to be stray records rather than the shape of the data: at most
// 1% of them, or a single one among at least 10. One record at 13:37 in a
// year of midnights is a stray; two odd years among a dozen even ones
// are a pattern.
func fewStrays(off, total int) bool {
	return off*100 <= total || off == 1 && total >= 10
}

// movedStrays is the most distinct times, in percent, that may be off a
// coarser grid as records moved off their period's usual time (see
// timeGrid): two or three holiday-shifted weeks a year are 4 to 6% of
// weekly data.
const movedStrays = 6

// timeGrid returns the origin and the period length (step) of the
// training ordinals. The step is the greatest common divisor of the gaps
// between distinct values if they are all whole numbers, else the
// smallest gap, and the origin is the first value; but when a coarser
// grid holds all values except a few strays (see fewStrays), or except
// up to movedStrays percent that are each alone in their period (records
// moved off their period's usual time, as weekly records a day late in
// holiday weeks), that grid is used, its origin the start of the period
// holding the first value, and the strays fall in the periods they are
// in. One record at 13:37 in daily data thus leaves the data daily, where
// it made the step 10 hours 23 minutes and left nearly every lag unknown.
// It costs O(n log n).
func timeGrid(ord []float64) (origin, step float64) {
	var distinct []float64
	for _, v := range ord {
		if !math.IsNaN(v) {
			distinct = append(distinct, v)
		}
	}
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	switch len(distinct) {
	case 0:
		return 0, 1
	case 1:
		return distinct[0], 1
	}
	gaps := make([]float64, len(distinct)-1)
	for i := range gaps {
		gaps[i] = distinct[i+1] - distinct[i]
	}
	step = exactStep(gaps)
	for _, c := range gridCandidates(gaps) {
		// Candidates within a rounding error of step are step itself.
		if !(c > step*(1+1e-6)) {
			break
		}
		first, onGrid := bulkPhase(distinct, c)
		off := len(distinct) - countTrue(onGrid)
		origin := first - math.Ceil((first-distinct[0])/c-1e-9)*c
		if fewStrays(off, len(distinct)) || off*100 <= movedStrays*len(distinct) && alone(distinct, onGrid, origin, c) {
			return origin, c
		}
	}
	return distinct[0], step
}

// exactStep returns the greatest common divisor of gaps if they are all
// whole numbers, else the smallest gap: a grid holding every value.
func exactStep(gaps []float64) float64 {
	var g int64
	minGap := math.Inf(1)
	whole := true
	for _, gap := range gaps {
		minGap = min(minGap, gap)
		if gap != math.Trunc(gap) || gap > 1<<52 {
			whole = false
			continue
		}
		g = gcd(g, int64(gap))
	}
	if whole {
		return float64(g)
	}
	return minGap
}

// gridCandidates returns, largest first, the steps a grid of most of the
// values may have: the three most frequent gaps (gaps equal within a
// relative 1e-9, as hourly gaps in days are, count as one) and the
// greatest common divisor of the whole-number gaps, which is the bulk's
// step when strays are off the whole numbers.
func gridCandidates(gaps []float64) []float64 {
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	type group struct {
		gap   float64
		count int
	}
	var groups []group
	var g int64
	for _, gap := range sorted {
		if n := len(groups); n > 0 && gap <= groups[n-1].gap*(1+1e-9) {
			groups[n-1].count++
		} else {
			groups = append(groups, group{gap, 1})
		}
		if gap == math.Trunc(gap) && gap <= 1<<52 {
			g = gcd(g, int64(gap))
		}
	}
	slices.SortStableFunc(groups, func(a, b group) int { return cmp.Compare(b.count, a.count) })
	var out []float64
	for _, gr := range groups[:min(3, len(groups))] {
		out = append(out, gr.gap)
	}
	if g > 0 {
		out = append(out, float64(g))
	}
	slices.Sort(out)
	slices.Reverse(out)
	return slices.Compact(out)
}

// alone reports whether each of the sorted distinct values off the grid
// of step s from origin (onGrid false) is the only value in its period,
// so that flooring it there takes no other time's place: a weekly record
// moved a day by a holiday, not a finer pattern such as a second record
// in some weeks.
func alone(distinct []float64, onGrid []bool, origin, s float64) bool {
	period := func(v float64) float64 { return math.Floor((v-origin)/s + 1e-9) }
	for i, v := range distinct {
		if onGrid[i] {
			continue
		}
		p := period(v)
		// Sorted, so the values sharing v's period are its neighbours.
		if i > 0 && period(distinct[i-1]) == p || i+1 < len(distinct) && period(distinct[i+1]) == p {
			return false
		}
	}
	return true
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// bulkPhase finds the grid of step s holding the most of the sorted
// distinct values: it returns the first value on it and which values are
// on it. A value within a millionth of a step of a grid point is on it,
// unless a smaller value already is (the step is then too coarse to tell
// them apart); a value more than 2^52 steps from the first is on none.
func bulkPhase(distinct []float64, s float64) (first float64, onGrid []bool) {
	type point struct{ phase, k int64 }
	on := make([]bool, len(distinct))
	taken := make(map[point]bool)
	counts := make(map[int64]int)
	phases := make([]int64, len(distinct))
	for i, v := range distinct {
		r := (v - distinct[0]) / s
		if !(math.Abs(r) < 1<<52) {
			continue
		}
		k := math.Round(r)
		p := int64(math.Round((r - k) * 1e6))
		if p == -500000 {
			p, k = 500000, k-1 // half a step either way is one phase
		}
		if pt := (point{p, int64(k)}); !taken[pt] {
			taken[pt], on[i], phases[i] = true, true, p
			counts[p]++
		}
	}
	best, bestPhase := 0, int64(0)
	first = distinct[0]
	for i, v := range distinct {
		// The first value of the most frequent phase, so ties go to the
		// earliest and the result is deterministic.
		if on[i] && counts[phases[i]] > best {
			best, bestPhase, first = counts[phases[i]], phases[i], v
		}
	}
	for i := range on {
		on[i] = on[i] && phases[i] == bestPhase
	}
	return first, on
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// period returns the period index of ordinal v and whether it is known.
func (ft *FittedTemporal) period(v float64) (int64, bool) {
	if math.IsNaN(v) {
		return 0, false
	}
	p := math.Floor((v-ft.origin)/ft.step + 1e-9)
	if !(math.Abs(p) < 1<<53) {
		return 0, false
	}
	return int64(p), true
}

// PeriodsAhead returns how many periods of the time grid Fit detects on
// the rows train of x the furthest of the rows test lies past the last
// training period: the forecast horizon of the test rows (Horizon). A
// test time off the grid, a stray, counts in the period it is in, as in
// Transform. It is 0 when no test row is past the last training period
// (the two interleave, as in a random split, or train has no time). It
// reads the time columns of x only and costs O(n log n).
func (t Temporal) PeriodsAhead(x *frame.Frame, train, test []int) (int, error) {
	names := t.timeColumns()
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := x.Lookup(n)
		if !ok {
			return 0, fmt.Errorf("features: temporal: %w", &MissingColumnError{Column: n})
		}
		cols[i] = c
	}
	times, err := frame.New(cols...)
	if err != nil {
		return 0, fmt.Errorf("features: temporal: %w", err)
	}
	tr := times.Take(train)
	ft := &FittedTemporal{settings: t}
	if ft.source, ft.unit, err = detectTimeSource(tr, names); err != nil {
		return 0, fmt.Errorf("features: temporal: %w", err)
	}
	last, err := ft.lastPeriod(tr, true)
	if err != nil {
		return 0, fmt.Errorf("features: temporal: %w", err)
	}
	furthest, err := ft.lastPeriod(times.Take(test), false)
	if err != nil {
		return 0, fmt.Errorf("features: temporal: %w", err)
	}
	if furthest == math.MinInt64 || last == math.MinInt64 || furthest <= last {
		return 0, nil
	}
	return int(min(furthest-last, math.MaxInt32)), nil
}

// lastPeriod returns the latest period of x's rows on ft's grid, fitting
// the grid on x first when fit is set; math.MinInt64 when no row has a
// known period.
func (ft *FittedTemporal) lastPeriod(x *frame.Frame, fit bool) (int64, error) {
	tv, err := ft.readTime(x)
	if err != nil {
		return 0, err
	}
	if fit {
		ft.origin, ft.step = timeGrid(tv.ord)
	}
	last := int64(math.MinInt64)
	for _, v := range tv.ord {
		if p, ok := ft.period(v); ok {
			last = max(last, p)
		}
	}
	return last, nil
}
