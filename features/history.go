package features

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/frame"
)

// segmentHistory is one segment's known values, per history variable.
type segmentHistory struct {
	Label  string         `json:"label"`
	Series []periodSeries `json:"series"`
}

// periodSeries holds the periods (ascending) at which a variable is known,
// and its values (finite) there.
type periodSeries struct {
	Periods []int64   `json:"periods"`
	Values  nanFloats `json:"values"`
}

// segmentLabels returns each row's segment label ("" when it is missing)
// or nil without a segment column, in which case every row is in segment
// "".
func segmentLabels(x *frame.Frame, name string) ([]string, error) {
	if name == "" {
		return nil, nil
	}
	c, ok := x.Lookup(name)
	if !ok {
		return nil, &MissingColumnError{Column: name}
	}
	out := make([]string, c.Len())
	switch c.Kind {
	case frame.Categorical:
		for i, code := range c.Codes {
			if code >= 0 && int(code) < len(c.Levels) {
				out[i] = c.Levels[code]
			}
		}
	case frame.Numeric:
		for i, v := range c.Num {
			if !math.IsNaN(v) {
				out[i] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
	default:
		return nil, &ColumnError{Column: name, Err: fmt.Errorf("%w: %s, want categorical or numeric", ErrWrongKind, c.Kind)}
	}
	return out, nil
}

// numericColumn returns the values of the numeric column name of x.
func numericColumn(x *frame.Frame, name string) ([]float64, error) {
	c, ok := x.Lookup(name)
	if !ok {
		return nil, &MissingColumnError{Column: name}
	}
	if c.Kind != frame.Numeric {
		return nil, &ColumnError{Column: name, Err: fmt.Errorf("%w: %s, want numeric", ErrWrongKind, c.Kind)}
	}
	return c.Num, nil
}

// fitHistory stores, per segment, period and history variable, the mean of
// the variable over the training rows of that segment and period.
func (ft *FittedTemporal) fitHistory(train *frame.Frame, ord []float64) error {
	labels, err := segmentLabels(train, ft.settings.SegmentColumn)
	if err != nil {
		return err
	}
	values := make([][]float64, len(ft.vars))
	for k, v := range ft.vars {
		if values[k], err = numericColumn(train, v); err != nil {
			return err
		}
	}
	type key = panelCell
	type acc struct{ sum, n []float64 }
	cells := map[key]*acc{}
	for i, o := range ord {
		p, ok := ft.period(o)
		if !ok || (labels != nil && labels[i] == "") {
			continue
		}
		k := key{period: p}
		if labels != nil {
			k.seg = labels[i]
		}
		a := cells[k]
		if a == nil {
			a = &acc{sum: make([]float64, len(ft.vars)), n: make([]float64, len(ft.vars))}
			cells[k] = a
		}
		for j := range ft.vars {
			if v := values[j][i]; finite(v) {
				a.sum[j] += v
				a.n[j]++
			}
		}
	}
	keys := make([]key, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	if c := ft.settings.MinPanelCoverage; c > 0 && labels != nil && panelCoverage(keys) < c {
		ft.vars = nil
		return nil
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.seg, b.seg); c != 0 {
			return c
		}
		return int(sign(a.period - b.period))
	})
	for _, k := range keys {
		if len(ft.segments) == 0 || ft.segments[len(ft.segments)-1].Label != k.seg {
			ft.segments = append(ft.segments, segmentHistory{Label: k.seg, Series: make([]periodSeries, len(ft.vars))})
		}
		s := &ft.segments[len(ft.segments)-1]
		a := cells[k]
		for j := range ft.vars {
			if a.n[j] > 0 {
				s.Series[j].Periods = append(s.Series[j].Periods, k.period)
				s.Series[j].Values = append(s.Series[j].Values, a.sum[j]/a.n[j])
			}
		}
	}
	ft.buildIndex()
	return nil
}

// panelCell is one (segment, period) cell of a panel.
type panelCell struct {
	seg    string
	period int64
}

// panelCoverage is the share of (segment, period) cells holding rows
// between each segment's first and last period; cells lists each filled
// cell once.
func panelCoverage(cells []panelCell) float64 {
	type span struct{ lo, hi, n int64 }
	spans := map[string]*span{}
	for _, c := range cells {
		s := spans[c.seg]
		if s == nil {
			spans[c.seg] = &span{lo: c.period, hi: c.period, n: 1}
			continue
		}
		s.lo, s.hi, s.n = min(s.lo, c.period), max(s.hi, c.period), s.n+1
	}
	var filled, total int64
	for _, s := range spans {
		filled += s.n
		total += s.hi - s.lo + 1
	}
	if total == 0 {
		return 0
	}
	return float64(filled) / float64(total)
}

func sign(v int64) int64 {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// history fills the history features of every row into dst, one slice per
// feature in Names order.
func (ft *FittedTemporal) history(dst [][]float64, x *frame.Frame, ord []float64, ahead []int64) error {
	labels, err := segmentLabels(x, ft.settings.SegmentColumn)
	if err != nil {
		return err
	}
	perVar := len(ft.settings.Lags) + len(ft.settings.Windows)*len(rollStats) + 1
	for i, o := range ord {
		seg := -1
		if p, ok := ft.period(o); ok {
			label := ""
			if labels != nil {
				label = labels[i]
			}
			if s, found := ft.index[label]; found && (labels == nil || label != "") {
				seg = s
			}
			if seg >= 0 {
				h := int64(1)
				if ahead != nil {
					h = ahead[i]
				}
				ft.rowHistory(dst, i, p, h, &ft.segments[seg], perVar)
				continue
			}
		}
		for j := range dst {
			dst[j][i] = math.NaN()
		}
	}
	return nil
}

// rowHistory writes the history features of row i, at period p of segment
// s, known up to period p-h.
func (ft *FittedTemporal) rowHistory(dst [][]float64, i int, p, h int64, s *segmentHistory, perVar int) {
	lags, windows := ft.settings.Lags, ft.settings.Windows
	since := math.NaN()
	for v := range ft.vars {
		ser := &s.Series[v]
		d := dst[v*perVar:]
		before, _ := slices.BinarySearch(ser.Periods, p-h+1) // periods <= p-h
		c := 0
		for _, k := range lags {
			d[c][i] = math.NaN()
			if j, ok := slices.BinarySearch(ser.Periods[:before], p-int64(k)); ok {
				d[c][i] = ser.Values[j]
			}
			c++
		}
		for _, w := range windows {
			mean, std, lo, hi := summarize(ser.Values[max(0, before-w):before])
			d[c][i], d[c+1][i], d[c+2][i], d[c+3][i] = mean, std, lo, hi
			c += 4
		}
		d[c][i] = math.NaN()
		if before > 0 {
			d[c][i] = ser.Values[before-1]
			if v == 0 {
				since = float64(p - ser.Periods[before-1])
			}
		}
	}
	dst[len(dst)-1][i] = since
}

// summarize returns the mean, sample standard deviation (NaN below two
// values), minimum and maximum of v, all NaN if v is empty.
func summarize(v []float64) (mean, std, lo, hi float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	var s float64
	for _, x := range v {
		s += x
		lo, hi = min(lo, x), max(hi, x)
	}
	mean = s / float64(len(v))
	std = math.NaN()
	if len(v) > 1 {
		var ss float64
		for _, x := range v {
			ss += (x - mean) * (x - mean)
		}
		std = math.Sqrt(ss / float64(len(v)-1))
	}
	return mean, std, lo, hi
}
