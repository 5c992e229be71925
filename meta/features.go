package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// Features are a table's meta-features.
type Features struct {
	Task model.Task `json:"task"`
	// Values holds the meta-features that could be computed, by name
	// (see Catalogue); one that does not apply (class entropy of a
	// regression target) or came out NaN is absent.
	Values map[string]float64 `json:"values"`
	// Seconds is, per meta-feature, the time of the pass that computed
	// it: meta-features computed together share their pass's time.
	Seconds map[string]float64 `json:"seconds"`
	// Total is Compute's wall time in seconds, sampling included.
	Total float64 `json:"total_seconds"`
}

// Options tune Compute; the zero value is the documented default.
type Options struct {
	// Seed seeds the row samples.
	Seed uint64
	// StatRows caps the rows the statistical and information-theoretic
	// meta-features read; 0 means 20000, fewer for a table wider than
	// 100 columns (at most 2M cells, never under 1000 rows).
	StatRows int
	// LandmarkRows caps the rows the landmarkers fit; 0 means 2000, fewer
	// for a design wider than 100 encoded features (at most 200k cells,
	// never under 300 rows), so a wide table costs about what a narrow
	// one does.
	LandmarkRows int
	// Folds is the landmarkers' number of CV folds; 0 means 3.
	Folds int
}

func (o Options) statRows(cols int) int {
	return cmpOr(o.StatRows, min(20000, max(1000, 2_000_000/cols)))
}

func (o Options) landmarkRows(cols int) int {
	return cmpOr(o.LandmarkRows, min(2000, max(minLandmarkRows, landmarkCells/cols)))
}
func (o Options) folds() int { return max(2, cmpOr(o.Folds, 3)) }

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Sampling streams, so the samples do not depend on each other.
const (
	streamStat uint64 = iota + 1
	streamLandmark
	streamFolds
)

// ErrNoFeatures reports a table without feature columns or rows.
var ErrNoFeatures = errors.New("meta: the table has no feature columns or no rows")

// Compute returns t's meta-features. It reads every row once for the
// simple ones and seeded samples for the rest, so its time grows little
// beyond o.StatRows rows: well under a second on 100k rows
// (BenchmarkMetaFeatures100k). The result depends only on t and o.
func Compute(ctx context.Context, t *pipeline.TrainingTable, o Options) (*Features, error) {
	t0 := time.Now()
	if t == nil || t.X == nil || t.X.NumCols() == 0 || t.X.NumRows() == 0 {
		return nil, ErrNoFeatures
	}
	if len(t.Y) != t.X.NumRows() {
		return nil, fmt.Errorf("meta: %d targets for %d rows", len(t.Y), t.X.NumRows())
	}
	f := &Features{Task: t.Task, Values: map[string]float64{}, Seconds: map[string]float64{}}
	f.pass(func() { simpleFeatures(f.Values, t) })
	stat := sampleTable(t, o.statRows(t.X.NumCols()), rand.New(rand.NewPCG(o.Seed, streamStat)))
	f.pass(func() { statFeatures(f.Values, stat) })
	f.pass(func() { infoFeatures(f.Values, stat) })
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	lm := sampleTable(t, o.landmarkRows(t.X.NumCols()), rand.New(rand.NewPCG(o.Seed, streamLandmark)))
	if err := landmarkers(ctx, f, lm, o); err != nil {
		return nil, err
	}
	for k, v := range f.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(f.Values, k)
			delete(f.Seconds, k)
		}
	}
	f.Total = time.Since(t0).Seconds()
	return f, nil
}

// pass runs fn, which adds meta-features to f.Values, and gives each new
// one fn's time.
func (f *Features) pass(fn func()) {
	before := len(f.Values)
	t0 := time.Now()
	fn()
	d := time.Since(t0).Seconds()
	if len(f.Values) == before {
		return
	}
	for k := range f.Values {
		if _, ok := f.Seconds[k]; !ok {
			f.Seconds[k] = d
		}
	}
}

// sampleTable returns at most n rows of t drawn without replacement, in
// their original order; t itself when it is small enough.
func sampleTable(t *pipeline.TrainingTable, n int, rng *rand.Rand) *pipeline.TrainingTable {
	rows := t.X.NumRows()
	if rows <= n {
		return t
	}
	// Floyd's algorithm: n distinct draws in O(n) memory.
	picked := make(map[int]struct{}, n)
	for j := rows - n; j < rows; j++ {
		r := rng.IntN(j + 1)
		if _, dup := picked[r]; dup {
			r = j
		}
		picked[r] = struct{}{}
	}
	idx := make([]int, 0, n)
	for r := range picked {
		idx = append(idx, r)
	}
	slices.Sort(idx)
	y := make([]float64, n)
	for i, r := range idx {
		y[i] = t.Y[r]
	}
	return &pipeline.TrainingTable{X: t.X.Take(idx), Y: y, Task: t.Task, Classes: t.Classes}
}

// simpleFeatures are the counts and shares, over every row.
func simpleFeatures(v map[string]float64, t *pipeline.TrainingTable) {
	rows, cols := t.X.NumRows(), t.X.NumCols()
	v[Rows], v[Columns] = float64(rows), float64(cols)
	v[Dimensionality] = float64(cols) / float64(rows)
	var kinds [3]int
	missing, levels, cats := 0, 0, 0
	rowMissing := make([]bool, rows)
	for _, c := range t.X.Columns() {
		switch c.Kind {
		case frame.Categorical:
			kinds[1]++
			cats++
			levels += len(c.Levels)
		case frame.Datetime:
			kinds[2]++
		default:
			kinds[0]++
		}
		for i := range rows {
			if c.IsMissing(i) {
				missing++
				rowMissing[i] = true
			}
		}
	}
	v[NumericShare] = float64(kinds[0]) / float64(cols)
	v[CategoricalShare] = float64(kinds[1]) / float64(cols)
	v[DatetimeShare] = float64(kinds[2]) / float64(cols)
	v[MissingShare] = float64(missing) / float64(rows*cols)
	v[RowsWithMissingShare] = float64(count(rowMissing)) / float64(rows)
	if cats > 0 {
		v[MeanLevels] = float64(levels) / float64(cats)
	}
	if !t.Task.IsClassification() {
		m := moments(t.Y)
		v[TargetSkew], v[TargetKurtosis] = m.skew, m.kurt
		return
	}
	counts := classCounts(t.Y, len(t.Classes))
	lo, hi := slices.Min(counts), slices.Max(counts)
	v[Classes] = float64(len(counts))
	v[MinorityShare] = float64(lo) / float64(rows)
	v[Imbalance] = float64(hi) / float64(max(lo, 1))
}

func count(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

// classCounts counts the rows of each class index 0..k-1 (k at least the
// largest index seen plus one).
func classCounts(y []float64, k int) []int {
	for _, v := range y {
		k = max(k, int(v)+1)
	}
	out := make([]int, k)
	for _, v := range y {
		out[int(v)]++
	}
	return out
}

// summary holds the mean, skewness and excess kurtosis of some values.
type summary struct {
	n                    int
	mean, sd, skew, kurt float64
}

// moments summarises the non-NaN values of x: skewness g1 = m3/m2^1.5 and
// excess kurtosis g2 = m4/m2² − 3 with population central moments m_k
// (scipy.stats.skew and kurtosis with their defaults). A constant column
// has NaN skew and kurtosis.
func moments(x []float64) summary {
	var s summary
	sum := 0.0
	for _, v := range x {
		if !math.IsNaN(v) {
			s.n++
			sum += v
		}
	}
	if s.n == 0 {
		return summary{mean: math.NaN(), sd: math.NaN(), skew: math.NaN(), kurt: math.NaN()}
	}
	s.mean = sum / float64(s.n)
	var m2, m3, m4 float64
	for _, v := range x {
		if math.IsNaN(v) {
			continue
		}
		d := v - s.mean
		d2 := d * d
		m2 += d2
		m3 += d2 * d
		m4 += d2 * d2
	}
	n := float64(s.n)
	m2, m3, m4 = m2/n, m3/n, m4/n
	s.sd = math.Sqrt(m2)
	if m2 <= 1e-24*math.Max(1, s.mean*s.mean) {
		s.skew, s.kurt = math.NaN(), math.NaN()
		return s
	}
	s.skew = m3 / math.Pow(m2, 1.5)
	s.kurt = m4/(m2*m2) - 3
	return s
}
