package features

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// KindMarket is the DecodeFitted kind of a *FittedMarket.
const KindMarket = "market"

// RareLevel is the group that pools the segments with fewer than
// Market.MinCount training rows. A real label equal to it joins the pool.
const RareLevel = "__rare__"

// Market adds per-segment aggregates and target encodings. For each
// segment column S (a missing label is the segment MissingLevel) it
// appends:
//
//   - S_count: the number of training rows of the row's segment (0 for a
//     segment unseen in training);
//   - for each column C of Columns: S_C_mean, S_C_median and S_C_std
//     (sample; NaN below two values) of C over the segment's training
//     rows (NaN skipped), and S_C_ratio, the row's C divided by the
//     segment median (NaN when the median is within 1e-12 of 0);
//   - if Target is set, S_<Target>_te: the smoothed target mean
//     (sum + m·prior) / (count + m) of the segment, m = Smoothing and
//     prior the training target mean.
//
// Segments with fewer than MinCount training rows are pooled into one
// RareLevel group whose statistics they share (S_count stays their own).
// A segment unseen in training gets the pool's statistics, or, without a
// pool, those of all training rows and the prior as its encoding.
//
// Fitted.Transform encodes with statistics of the whole training part.
// FitTransform gives the training rows out-of-fold encodings instead: the
// rows are split into Folds seeded random folds and a row's S_<Target>_te
// uses the other folds only (their counts, sums and mean as the prior), so
// no training row's feature depends on its own target. The aggregates of
// Columns never read the target and use all training rows.
type Market struct {
	// Segments names the segment columns: categorical (or numeric,
	// read as labels).
	Segments []string `json:"segments"`
	// Target names the target, numeric or a two-level categorical (the
	// lexicographically larger training label counts as 1); "" means no
	// target encoding. It is read on training rows only.
	Target string `json:"target,omitempty"`
	// Columns names numeric columns to aggregate per segment.
	Columns []string `json:"columns,omitempty"`
	// Folds is the number of out-of-fold folds of FitTransform; 0 means 5;
	// otherwise at least 2.
	Folds int `json:"folds,omitempty"`
	// Smoothing is the prior weight m of the target encoding; 0 means 10;
	// a negative value means none (m = 0).
	Smoothing float64 `json:"smoothing,omitempty"`
	// MinCount is the fewest training rows a segment needs to keep its own
	// statistics; 0 means 10; 1 means no pooling.
	MinCount int `json:"min_count,omitempty"`
	// Seed seeds the fold assignment.
	Seed uint64 `json:"seed,omitempty"`
}

var (
	_ Transformer      = Market{}
	_ TrainTransformer = Market{}
	_ Encodable        = (*FittedMarket)(nil)
)

func (m Market) folds() int {
	if m.Folds == 0 {
		return 5
	}
	return m.Folds
}

func (m Market) smoothing() float64 {
	switch {
	case m.Smoothing == 0:
		return 10
	case m.Smoothing < 0:
		return 0
	}
	return m.Smoothing
}

func (m Market) minCount() int {
	if m.MinCount == 0 {
		return 10
	}
	return m.MinCount
}

func (m Market) validate() error {
	if len(m.Segments) == 0 {
		return fmt.Errorf("features: market: no segment columns")
	}
	if m.folds() < 2 {
		return fmt.Errorf("features: market: folds %d: want 0 or >= 2", m.Folds)
	}
	if math.IsNaN(m.Smoothing) || math.IsInf(m.Smoothing, 0) {
		return fmt.Errorf("features: market: smoothing %v: want a finite value", m.Smoothing)
	}
	if m.MinCount < 0 {
		return fmt.Errorf("features: market: min count %d: want >= 0", m.MinCount)
	}
	for i, s := range m.Segments {
		if s == "" || slices.Contains(m.Segments[:i], s) || s == m.Target || slices.Contains(m.Columns, s) {
			return fmt.Errorf("features: market: segment column %q is empty, repeated, the target or aggregated", s)
		}
	}
	for i, c := range m.Columns {
		if c == "" || slices.Contains(m.Columns[:i], c) || c == m.Target {
			return fmt.Errorf("features: market: column %q is empty, repeated or the target", c)
		}
	}
	return nil
}

// FittedMarket is a fitted Market: per segment column, the statistics of
// each training segment. It is immutable, safe for concurrent use and
// Encodable.
type FittedMarket struct {
	settings Market
	prior    float64 // training target mean; NaN without a target
	segments []marketSegment
}

// marketSegment is the fitted state of one segment column.
type marketSegment struct {
	Column string `json:"column"`
	// Labels are the training labels, sorted, with their row counts and
	// the index of their group in Groups.
	Labels []string `json:"labels"`
	Counts []int    `json:"counts"`
	Group  []int    `json:"group"`
	// Groups hold the statistics: one per kept label, then the rare pool
	// if any, and last the fallback for unseen labels (the pool's copy,
	// or all training rows).
	Groups []marketGroup `json:"groups"`

	index map[string]int // label → index in Labels
}

// marketGroup holds one group's statistics.
type marketGroup struct {
	Label string `json:"label"`
	// TE is the smoothed target mean; NaN without a target.
	TE     nanFloats `json:"te"` // one value
	Mean   nanFloats `json:"mean"`
	Median nanFloats `json:"median"`
	Std    nanFloats `json:"std"`
}

// Fit learns the segment statistics from train.
func (m Market) Fit(ctx context.Context, train *frame.Frame) (Fitted, error) {
	f, _, err := m.fit(ctx, train)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// FitTransform fits m on train and returns train with the new columns,
// the target encodings computed out of fold.
func (m Market) FitTransform(ctx context.Context, train *frame.Frame) (Fitted, *frame.Frame, error) {
	f, oof, err := m.fit(ctx, train)
	if err != nil {
		return nil, nil, err
	}
	cols, err := f.columns(train)
	if err != nil {
		return nil, nil, err
	}
	if oof != nil {
		per := f.perSegment()
		for s := range f.segments {
			cols[(s+1)*per-1].Num = oof[s]
		}
	}
	out, err := appendColumns(train, cols)
	if err != nil {
		return nil, nil, fmt.Errorf("features: market: %w", err)
	}
	return f, out, nil
}

// fit returns the fitted state and, with a target, the out-of-fold
// encodings of the training rows, one slice per segment column.
func (m Market) fit(ctx context.Context, train *frame.Frame) (*FittedMarket, [][]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("features: market: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, nil, err
	}
	n := train.NumRows()
	if n == 0 {
		return nil, nil, fmt.Errorf("features: market: %w", ErrEmpty)
	}
	fm := &FittedMarket{settings: m.clone(), prior: math.NaN()}
	var y []float64
	if m.Target != "" {
		var err error
		if y, err = trainingTarget(train, m.Target); err != nil {
			return nil, nil, fmt.Errorf("features: market: %w", err)
		}
		fm.prior = nanMean(y)
	}
	values := make([][]float64, len(m.Columns))
	for k, c := range m.Columns {
		var err error
		if values[k], err = numericColumn(train, c); err != nil {
			return nil, nil, fmt.Errorf("features: market: %w", err)
		}
	}
	var fold []int
	if y != nil {
		fold = assignFolds(n, m.folds(), m.Seed)
	}
	var oof [][]float64
	for _, name := range m.Segments {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("features: market: %w", err)
		}
		labels, err := marketLabels(train, name)
		if err != nil {
			return nil, nil, fmt.Errorf("features: market: %w", err)
		}
		seg := fm.fitSegment(name, labels, y, values)
		fm.segments = append(fm.segments, seg)
		if y != nil {
			oof = append(oof, fm.outOfFold(&seg, labels, y, fold))
		}
	}
	if err := fm.checkNames(train); err != nil {
		return nil, nil, fmt.Errorf("features: market: %w", err)
	}
	return fm, oof, nil
}

func (m Market) clone() Market {
	c := m
	c.Folds, c.Smoothing, c.MinCount = m.folds(), m.smoothing(), m.minCount()
	if c.Smoothing == 0 {
		c.Smoothing = -1 // keep "none" through a round trip
	}
	c.Segments = slices.Clone(m.Segments)
	c.Columns = slices.Clone(m.Columns)
	return c
}

// trainingTarget reads the target as numbers: a numeric column as is, a
// two-level categorical as 0/1 (1 for the larger label). Missing is NaN.
func trainingTarget(x *frame.Frame, name string) ([]float64, error) {
	c, ok := x.Lookup(name)
	if !ok {
		return nil, &MissingColumnError{Column: name}
	}
	switch c.Kind {
	case frame.Numeric:
		y := make([]float64, len(c.Num))
		for i, v := range c.Num {
			y[i] = v
			if math.IsInf(v, 0) {
				y[i] = math.NaN()
			}
		}
		return y, nil
	case frame.Categorical:
		used := map[string]bool{}
		for i := range c.Codes {
			if c.Codes[i] >= 0 {
				used[c.Label(i)] = true
			}
		}
		if len(used) > 2 {
			return nil, &ColumnError{Column: name, Err: fmt.Errorf("target has %d labels; want numeric or two labels", len(used))}
		}
		positive := ""
		for l := range used {
			positive = max(positive, l)
		}
		y := make([]float64, len(c.Codes))
		for i := range c.Codes {
			switch {
			case c.Codes[i] < 0:
				y[i] = math.NaN()
			case c.Label(i) == positive:
				y[i] = 1
			}
		}
		return y, nil
	}
	return nil, &ColumnError{Column: name, Err: fmt.Errorf("%w: %s, want numeric or categorical", ErrWrongKind, c.Kind)}
}

// marketLabels returns the segment label of every row, MissingLevel for
// a missing one.
func marketLabels(x *frame.Frame, name string) ([]string, error) {
	labels, err := segmentLabels(x, name)
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l == "" {
			labels[i] = MissingLevel
		}
	}
	return labels, nil
}

// perSegment returns the number of columns appended per segment column.
func (fm *FittedMarket) perSegment() int {
	n := 1 + 4*len(fm.settings.Columns)
	if fm.settings.Target != "" {
		n++
	}
	return n
}

// Names returns the names of the columns Transform appends, in order.
func (fm *FittedMarket) Names() []string {
	var out []string
	s := fm.settings
	for _, seg := range fm.segments {
		out = append(out, seg.Column+"_count")
		for _, c := range s.Columns {
			p := seg.Column + "_" + c + "_"
			out = append(out, p+"mean", p+"median", p+"std", p+"ratio")
		}
		if s.Target != "" {
			out = append(out, seg.Column+"_"+s.Target+"_te")
		}
	}
	return out
}

func (fm *FittedMarket) checkNames(x *frame.Frame) error {
	names := fm.Names()
	for i, n := range names {
		if _, ok := x.Lookup(n); ok || slices.Contains(names[:i], n) {
			return fmt.Errorf("new column %q is already in the frame or repeated", n)
		}
	}
	return nil
}

// Transform appends the segment features of x, from the statistics of the
// whole training part. It reads the segment columns and Columns of x,
// never its target.
func (fm *FittedMarket) Transform(x *frame.Frame) (*frame.Frame, error) {
	cols, err := fm.columns(x)
	if err != nil {
		return nil, err
	}
	out, err := appendColumns(x, cols)
	if err != nil {
		return nil, fmt.Errorf("features: market: %w", err)
	}
	return out, nil
}

// columns computes the new columns for x.
func (fm *FittedMarket) columns(x *frame.Frame) ([]*frame.Column, error) {
	s := fm.settings
	values := make([][]float64, len(s.Columns))
	for k, c := range s.Columns {
		var err error
		if values[k], err = numericColumn(x, c); err != nil {
			return nil, fmt.Errorf("features: market: %w", err)
		}
	}
	names := fm.Names()
	n := x.NumRows()
	out := make([][]float64, len(names))
	for j := range out {
		out[j] = make([]float64, n)
	}
	per := fm.perSegment()
	for si := range fm.segments {
		seg := &fm.segments[si]
		labels, err := marketLabels(x, seg.Column)
		if err != nil {
			return nil, fmt.Errorf("features: market: %w", err)
		}
		d := out[si*per : (si+1)*per]
		unseen := &seg.Groups[len(seg.Groups)-1]
		for i, l := range labels {
			g, count := unseen, 0.0
			if li, ok := seg.index[l]; ok {
				g, count = &seg.Groups[seg.Group[li]], float64(seg.Counts[li])
			}
			d[0][i] = count
			for k := range s.Columns {
				med := g.Median[k]
				ratio := math.NaN()
				if v := values[k][i]; finite(v) && math.Abs(med) > 1e-12 {
					ratio = v / med
				}
				d[1+4*k][i], d[2+4*k][i], d[3+4*k][i], d[4+4*k][i] = g.Mean[k], med, g.Std[k], ratio
			}
			if s.Target != "" {
				d[per-1][i] = g.TE[0]
			}
		}
	}
	cols := make([]*frame.Column, len(names))
	for j, name := range names {
		cols[j] = frame.NewNumeric(name, out[j])
	}
	return cols, nil
}

// Kind returns KindMarket.
func (fm *FittedMarket) Kind() string { return KindMarket }

// marketVersion is the version of FittedMarket's JSON encoding.
const marketVersion = 1

// marketJSON is FittedMarket's JSON encoding.
type marketJSON struct {
	Version  int             `json:"version"`
	Settings Market          `json:"settings"`
	Prior    nanFloats       `json:"prior"` // one value
	Segments []marketSegment `json:"segments"`
}

// MarshalJSON implements json.Marshaler.
func (fm *FittedMarket) MarshalJSON() ([]byte, error) {
	return json.Marshal(marketJSON{Version: marketVersion, Settings: fm.settings, Prior: nanFloats{fm.prior}, Segments: fm.segments})
}

// UnmarshalJSON implements json.Unmarshaler and validates the state.
func (fm *FittedMarket) UnmarshalJSON(data []byte) error {
	if err := checkVersion(data, "market aggregates", marketVersion, marketVersion); err != nil {
		return err
	}
	var in marketJSON
	if err := decodeStrict(data, &in); err != nil {
		return err
	}
	if err := in.Settings.validate(); err != nil {
		return err
	}
	if len(in.Prior) != 1 || len(in.Segments) != len(in.Settings.Segments) {
		return fmt.Errorf("malformed market state")
	}
	nc := len(in.Settings.Columns)
	for si := range in.Segments {
		seg := &in.Segments[si]
		if seg.Column != in.Settings.Segments[si] {
			return fmt.Errorf("segment column %q, want %q", seg.Column, in.Settings.Segments[si])
		}
		if len(seg.Counts) != len(seg.Labels) || len(seg.Group) != len(seg.Labels) || len(seg.Groups) == 0 {
			return fmt.Errorf("segment column %q: malformed labels", seg.Column)
		}
		if !slices.IsSorted(seg.Labels) || len(slices.Compact(slices.Clone(seg.Labels))) != len(seg.Labels) {
			return fmt.Errorf("segment column %q: labels not sorted or repeated", seg.Column)
		}
		for _, g := range seg.Group {
			if g < 0 || g >= len(seg.Groups)-1 {
				return fmt.Errorf("segment column %q: group %d out of range", seg.Column, g)
			}
		}
		for _, g := range seg.Groups {
			if len(g.TE) != 1 || len(g.Mean) != nc || len(g.Median) != nc || len(g.Std) != nc {
				return fmt.Errorf("segment column %q: group %q: malformed statistics", seg.Column, g.Label)
			}
		}
		seg.buildIndex()
	}
	*fm = FittedMarket{settings: in.Settings, prior: in.Prior[0], segments: in.Segments}
	return nil
}
