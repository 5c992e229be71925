package features

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/frame"
)

// KindTemporal is the DecodeFitted kind of a *FittedTemporal.
const KindTemporal = "temporal"

// Default lags and rolling windows of Temporal, in periods.

// Temporal derives calendar features from a time column and, for panel
// data (a segment column plus a time column, like txhousing's city ×
// month), lags and rolling statistics of the target and of chosen numeric
// columns per segment, computed from strictly earlier periods only.
//
// Calendar features, named time_<part>: year, quarter, month, week (ISO
// 8601 week of year), dow (day of week, Monday = 0), doy (day of year),
// month_end and quarter_end (0/1 flags), the cyclical month_sin, month_cos,
// dow_sin and dow_cos, and time_elapsed, the time since the first training
// period in days (daily data), months (monthly data) or time-column units
// (a numeric time column). Monthly data (every training date the first,
// or every one the last, day of its month, or a year,month column pair)
// get only year, quarter, month and the month cycle; a numeric time
// column gets only time_elapsed. A part constant on the training rows is
// left out.
//
// History features exist when Target or LagColumns is set. A period is a
// step of the time grid detected on the training rows (the greatest
// common divisor of the gaps between distinct training times, in months,
// days or column units): monthly data have one period per month. The
// fitted state keeps, per segment and period, the mean of each history
// variable (Target first, then LagColumns) over the training rows of
// that segment and period. For a row of segment s at period p, and each
// variable v:
//
//   - v_lag<k> is the value of s at period p−k, NaN if unknown;
//   - v_roll<w>_mean, _std (sample; NaN below 2 values), _min and _max
//     summarise the last w known periods of s before p;
//   - v_last is the most recent known value of s before p;
//   - periods_since_last is p minus the period of the first variable's
//     v_last.
//
// Only periods strictly before p are read, and only training values, so a
// row never sees its own target or a same-period value. Rows far beyond
// the training range get NaN lags but still a v_last, its distance and
// rolling statistics of the last training periods. A row whose segment
// or time is missing, or whose segment has no training rows, gets NaN
// history features; a row before the first training period too.
// Without SegmentColumn the whole frame is one series.
//
// Transform gives training rows the same values as FitTransform: every
// feature is a function of the row's segment and period and of the
// training history before that period.
type Temporal struct {
	// TimeColumn names the time: a datetime column, a numeric column (such
	// as a year), or two numeric columns "year,month" (e.g.
	// "Year_Sold,Mo_Sold").
	TimeColumn string `json:"time_column"`
	// Target names the target column, read on training rows only; "" means
	// no target history features.
	Target string `json:"target,omitempty"`
	// SegmentColumn names the panel's segment column (categorical or
	// numeric); "" means one series.
	SegmentColumn string `json:"segment_column,omitempty"`
	// Lags are the lags in periods, each >= 1; nil means 1, 2, 3 and 12;
	// an empty non-nil slice means none.
	Lags []int `json:"lags"`
	// Windows are the rolling windows in known periods, each >= 1; nil
	// means 3 and 12; an empty non-nil slice means none.
	Windows []int `json:"windows"`
	// LagColumns names further numeric columns whose history is used like
	// the target's.
	LagColumns []string `json:"lag_columns,omitempty"`
	// MinPanelCoverage, when > 0 and SegmentColumn is set, is the least
	// share of periods, between each segment's first and last training
	// period, that must hold rows for history (lag and rolling) features
	// to be made. Sparse data such as house sales, where a neighbourhood
	// sells in some months only, is no panel: its lags are the noisy
	// means of a handful of other sales, so only calendar features are
	// made. 0 means no check.
	MinPanelCoverage float64 `json:"min_panel_coverage,omitempty"`
	// Horizon, when > 1, is how many periods past the end of training the
	// rows to be predicted may lie. Their history is that old: the last
	// known value is up to Horizon periods stale and short lags are
	// unknown. A model trained on fresh history only cannot read stale
	// history, so FitTransform gives each training row the history it
	// would have had at a forecast h periods ahead, h drawn per row in
	// [1, Horizon] from Seed: only periods up to its own minus h are
	// known. Transform, for rows to predict, is unchanged. 0 or 1 means
	// one-step history for training rows.
	Horizon int    `json:"horizon,omitempty"`
	Seed    uint64 `json:"seed,omitempty"`
}

var (
	_ Transformer      = Temporal{}
	_ TrainTransformer = Temporal{}
	_ Encodable        = (*FittedTemporal)(nil)
)

func (t Temporal) lags() []int {
	if t.Lags == nil {
		return []int{1, 2, 3, 12}
	}
	return t.Lags
}

func (t Temporal) windows() []int {
	if t.Windows == nil {
		return []int{3, 12}
	}
	return t.Windows
}

// timeColumns splits TimeColumn into one or two names.
func (t Temporal) timeColumns() []string {
	parts := strings.Split(t.TimeColumn, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// vars lists the history variables: the target first, then LagColumns.
func (t Temporal) vars() []string {
	var v []string
	if t.Target != "" {
		v = append(v, t.Target)
	}
	return append(v, t.LagColumns...)
}

func (t Temporal) validate() error {
	cols := t.timeColumns()
	if len(cols) > 2 || slices.Contains(cols, "") {
		return fmt.Errorf("features: temporal: time column %q: want one name or two names \"year,month\"", t.TimeColumn)
	}
	for _, k := range t.lags() {
		if k < 1 {
			return fmt.Errorf("features: temporal: lag %d: want >= 1", k)
		}
	}
	for _, w := range t.windows() {
		if w < 1 {
			return fmt.Errorf("features: temporal: window %d: want >= 1", w)
		}
	}
	if t.Horizon < 0 {
		return fmt.Errorf("features: temporal: horizon %d: want >= 0", t.Horizon)
	}
	vars := t.vars()
	for i, v := range vars {
		if v == "" || slices.Contains(vars[:i], v) {
			return fmt.Errorf("features: temporal: empty or repeated history column %q", v)
		}
		if slices.Contains(cols, v) || v == t.SegmentColumn {
			return fmt.Errorf("features: temporal: history column %q is also the time or segment column", v)
		}
	}
	return nil
}

// Time sources and units of a FittedTemporal.
const (
	sourceDatetime  = "datetime"   // one datetime column
	sourceNumeric   = "numeric"    // one numeric column
	sourceYearMonth = "year_month" // numeric year and month columns

	unitMonth = "month" // ordinal 12·year + month − 1
	unitDay   = "day"   // ordinal Unix seconds / 86400
	unitValue = "value" // ordinal = the numeric value
)

// Calendar parts, in output order.
var calendarParts = []string{
	"year", "quarter", "month", "week", "dow", "doy", "month_end", "quarter_end",
	"month_sin", "month_cos", "dow_sin", "dow_cos",
}

// monthlyParts are the calendar parts that vary in monthly data.
var monthlyParts = []string{"year", "quarter", "month", "month_sin", "month_cos"}

// FittedTemporal is a fitted Temporal: the time grid, the calendar parts
// and the per-segment history of the training rows. It is immutable, safe
// for concurrent use and Encodable.
type FittedTemporal struct {
	settings Temporal
	source   string
	unit     string
	origin   float64  // ordinal of the first training time
	step     float64  // period length in ordinal units, > 0
	parts    []string // calendar parts emitted
	vars     []string // history variables
	segments []segmentHistory
	index    map[string]int // segment label → index in segments
}

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

// Fit learns the time grid, calendar parts and history from train.
func (t Temporal) Fit(ctx context.Context, train *frame.Frame) (Fitted, error) {
	f, err := t.fit(ctx, train)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (t Temporal) fit(ctx context.Context, train *frame.Frame) (*FittedTemporal, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("features: temporal: %w", err)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	if train.NumRows() == 0 {
		return nil, fmt.Errorf("features: temporal: %w", ErrEmpty)
	}
	ft := &FittedTemporal{
		settings: t.clone(),
		vars:     t.vars(),
	}
	var err error
	if ft.source, ft.unit, err = detectTimeSource(train, t.timeColumns()); err != nil {
		return nil, fmt.Errorf("features: temporal: %w", err)
	}
	tv, err := ft.readTime(train)
	if err != nil {
		return nil, fmt.Errorf("features: temporal: %w", err)
	}
	ft.origin, ft.step = timeGrid(tv.ord)
	ft.parts = ft.chooseParts(tv)
	if len(ft.vars) > 0 {
		if err := ft.fitHistory(train, tv.ord); err != nil {
			return nil, fmt.Errorf("features: temporal: %w", err)
		}
	}
	if err := ft.checkNames(train); err != nil {
		return nil, fmt.Errorf("features: temporal: %w", err)
	}
	return ft, nil
}

func (t Temporal) clone() Temporal {
	c := t
	c.Lags = slices.Clone(t.lags())
	c.Windows = slices.Clone(t.windows())
	c.LagColumns = slices.Clone(t.LagColumns)
	return c
}

// detectTimeSource decides how the time columns are read and the unit of
// their ordinal, from the training rows.
func detectTimeSource(train *frame.Frame, names []string) (source, unit string, err error) {
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := train.Lookup(n)
		if !ok {
			return "", "", &MissingColumnError{Column: n}
		}
		cols[i] = c
	}
	if len(cols) == 2 {
		for _, c := range cols {
			if c.Kind != frame.Numeric {
				return "", "", &ColumnError{Column: c.Name, Err: fmt.Errorf("%w: %s, want numeric (year,month)", ErrWrongKind, c.Kind)}
			}
		}
		return sourceYearMonth, unitMonth, nil
	}
	c := cols[0]
	switch c.Kind {
	case frame.Numeric:
		return sourceNumeric, unitValue, nil
	case frame.Datetime:
		first, last := true, true
		for _, v := range c.Num {
			if math.IsNaN(v) {
				continue
			}
			y, m, d, _, ok := civil(v)
			if !ok {
				return "", "", &ColumnError{Column: c.Name, Err: fmt.Errorf("datetime %g out of range", v)}
			}
			midnight := math.Mod(v, 86400) == 0
			first = first && midnight && d == 1
			last = last && midnight && d == daysInMonth(y, m)
		}
		if first || last {
			return sourceDatetime, unitMonth, nil
		}
		return sourceDatetime, unitDay, nil
	}
	return "", "", &ColumnError{Column: c.Name, Err: fmt.Errorf("%w: %s, want datetime or numeric", ErrWrongKind, c.Kind)}
}

// timeValues are the time of each row: its ordinal (NaN if missing) and,
// for calendar sources, its civil date (day 0 when only year and month are
// known).
type timeValues struct {
	ord                    []float64
	year, month, day, wday []int64
}

// readTime reads the time of every row of x.
func (ft *FittedTemporal) readTime(x *frame.Frame) (*timeValues, error) {
	names := ft.settings.timeColumns()
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := x.Lookup(n)
		if !ok {
			return nil, &MissingColumnError{Column: n}
		}
		want := frame.Numeric
		if ft.source == sourceDatetime {
			want = frame.Datetime
		}
		if c.Kind != want {
			return nil, &ColumnError{Column: n, Err: fmt.Errorf("%w: %s, want %s", ErrWrongKind, c.Kind, want)}
		}
		cols[i] = c
	}
	n := x.NumRows()
	tv := &timeValues{ord: make([]float64, n)}
	if ft.source == sourceNumeric {
		copy(tv.ord, cols[0].Num)
		for i, v := range tv.ord {
			if math.IsInf(v, 0) {
				tv.ord[i] = math.NaN()
			}
		}
		return tv, nil
	}
	tv.year, tv.month, tv.day, tv.wday = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i := range n {
		tv.ord[i] = math.NaN()
		var y, m, d, wd int64
		var ok bool
		if ft.source == sourceDatetime {
			v := cols[0].Num[i]
			if y, m, d, wd, ok = civil(v); !ok {
				continue
			}
			if ft.unit == unitDay {
				tv.ord[i] = v / 86400
			}
		} else {
			yv, mv := cols[0].Num[i], cols[1].Num[i]
			if !(math.Abs(yv) < 1e6) || !(mv >= 1 && mv <= 12) || yv != math.Trunc(yv) || mv != math.Trunc(mv) {
				continue
			}
			y, m = int64(yv), int64(mv)
			ok = true
		}
		tv.year[i], tv.month[i], tv.day[i], tv.wday[i] = y, m, d, wd
		if ft.unit == unitMonth {
			tv.ord[i] = float64(12*y + m - 1)
		}
	}
	return tv, nil
}

// timeGrid returns the first ordinal and the period length of the
// training ordinals: the greatest common divisor of the gaps between
// distinct values if they are all whole numbers, else the smallest gap.
func timeGrid(ord []float64) (origin, step float64) {
	var distinct []float64
	for _, v := range ord {
		if !math.IsNaN(v) {
			distinct = append(distinct, v)
		}
	}
	if len(distinct) == 0 {
		return 0, 1
	}
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	origin, step = distinct[0], 0
	whole := true
	minGap := math.Inf(1)
	var g int64
	for i := 1; i < len(distinct); i++ {
		gap := distinct[i] - distinct[i-1]
		minGap = min(minGap, gap)
		if gap != math.Trunc(gap) || gap > 1<<52 {
			whole = false
			continue
		}
		g = gcd(g, int64(gap))
	}
	switch {
	case len(distinct) == 1:
		step = 1
	case whole:
		step = float64(g)
	default:
		step = minGap
	}
	return origin, step
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

// chooseParts returns the calendar parts for the source and unit that are
// not constant on the training rows.
func (ft *FittedTemporal) chooseParts(tv *timeValues) []string {
	var candidates []string
	switch ft.unit {
	case unitMonth:
		candidates = monthlyParts
	case unitDay:
		candidates = calendarParts
	}
	var out []string
	for _, p := range candidates {
		first, varies := math.NaN(), false
		for i, o := range tv.ord {
			if math.IsNaN(o) {
				continue
			}
			v := calendarValue(p, tv, i)
			if math.IsNaN(first) {
				first = v
			} else if v != first {
				varies = true
				break
			}
		}
		if varies {
			out = append(out, p)
		}
	}
	return out
}

// calendarValue returns part p of row i.
func calendarValue(p string, tv *timeValues, i int) float64 {
	y, m, d, wd := tv.year[i], tv.month[i], tv.day[i], tv.wday[i]
	switch p {
	case "year":
		return float64(y)
	case "quarter":
		return float64((m-1)/3 + 1)
	case "month":
		return float64(m)
	case "week":
		return float64(isoWeek(y, m, d, wd))
	case "dow":
		return float64(wd)
	case "doy":
		return float64(dayOfYear(y, m, d))
	case "month_end":
		return flag(d == daysInMonth(y, m))
	case "quarter_end":
		return flag(d == daysInMonth(y, m) && m%3 == 0)
	case "month_sin":
		return math.Sin(2 * math.Pi * float64(m-1) / 12)
	case "month_cos":
		return math.Cos(2 * math.Pi * float64(m-1) / 12)
	case "dow_sin":
		return math.Sin(2 * math.Pi * float64(wd) / 7)
	case "dow_cos":
		return math.Cos(2 * math.Pi * float64(wd) / 7)
	}
	panic("features: unknown calendar part " + p)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Hinnant's days-from-civil algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func daysInMonth(y, m int64) int64 {
	if m == 12 {
		return 31
	}
	return daysFromCivil(y, m+1, 1) - daysFromCivil(y, m, 1)
}

func dayOfYear(y, m, d int64) int64 { return daysFromCivil(y, m, d) - daysFromCivil(y, 1, 1) + 1 }

// isoWeek returns the ISO 8601 week number of a date whose weekday is wd
// (Monday = 0).
func isoWeek(y, m, d, wd int64) int64 {
	w := (dayOfYear(y, m, d) - (wd + 1) + 10) / 7
	switch {
	case w < 1:
		return isoWeeksIn(y - 1)
	case w > isoWeeksIn(y):
		return 1
	}
	return w
}

// isoWeeksIn returns 52 or 53, the number of ISO weeks of year y.
func isoWeeksIn(y int64) int64 {
	p := func(y int64) int64 { return ((y+floorDiv(y, 4)-floorDiv(y, 100)+floorDiv(y, 400))%7 + 7) % 7 }
	if p(y) == 4 || p(y-1) == 3 {
		return 53
	}
	return 52
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
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

func (ft *FittedTemporal) buildIndex() {
	ft.index = make(map[string]int, len(ft.segments))
	for i, s := range ft.segments {
		ft.index[s.Label] = i
	}
}

// Names returns the names of the columns Transform appends, in order.
func (ft *FittedTemporal) Names() []string {
	var out []string
	for _, p := range ft.parts {
		out = append(out, "time_"+p)
	}
	out = append(out, "time_elapsed")
	s := ft.settings
	for _, v := range ft.vars {
		for _, k := range s.Lags {
			out = append(out, v+"_lag"+strconv.Itoa(k))
		}
		for _, w := range s.Windows {
			for _, st := range rollStats {
				out = append(out, v+"_roll"+strconv.Itoa(w)+"_"+st)
			}
		}
		out = append(out, v+"_last")
	}
	if len(ft.vars) > 0 {
		out = append(out, "periods_since_last")
	}
	return out
}

var rollStats = []string{"mean", "std", "min", "max"}

func (ft *FittedTemporal) checkNames(x *frame.Frame) error {
	names := ft.Names()
	for i, n := range names {
		if _, ok := x.Lookup(n); ok || slices.Contains(names[:i], n) {
			return fmt.Errorf("new column %q is already in the frame or repeated", n)
		}
	}
	return nil
}

// Transform appends the calendar and history features to x. It reads the
// time and segment columns of x only, never its target or LagColumns.
// It costs O(rows × features × log periods).
func (ft *FittedTemporal) Transform(x *frame.Frame) (*frame.Frame, error) {
	return ft.transform(x, nil)
}

// FitTransform fits t on train and returns train with the new columns;
// with a Horizon its rows' history is that of forecasts made up to
// Horizon periods ahead (see Temporal.Horizon).
func (t Temporal) FitTransform(ctx context.Context, train *frame.Frame) (Fitted, *frame.Frame, error) {
	ft, err := t.fit(ctx, train)
	if err != nil {
		return nil, nil, err
	}
	var ahead []int64
	if t.Horizon > 1 && len(ft.vars) > 0 {
		rng := rand.New(rand.NewPCG(t.Seed, 0x7e3b0a1d))
		ahead = make([]int64, train.NumRows())
		for i := range ahead {
			ahead[i] = 1 + rng.Int64N(int64(t.Horizon))
		}
	}
	x, err := ft.transform(train, ahead)
	if err != nil {
		return nil, nil, err
	}
	return ft, x, nil
}

// transform appends the features; ahead, if not nil, is each row's
// forecast horizon in periods (1 = the period before is known).
func (ft *FittedTemporal) transform(x *frame.Frame, ahead []int64) (*frame.Frame, error) {
	tv, err := ft.readTime(x)
	if err != nil {
		return nil, fmt.Errorf("features: temporal: %w", err)
	}
	n := x.NumRows()
	names := ft.Names()
	out := make([][]float64, len(names))
	for j := range out {
		out[j] = make([]float64, n)
	}
	col := 0
	for _, p := range ft.parts {
		for i := range n {
			if math.IsNaN(tv.ord[i]) {
				out[col][i] = math.NaN()
			} else {
				out[col][i] = calendarValue(p, tv, i)
			}
		}
		col++
	}
	for i := range n {
		out[col][i] = tv.ord[i] - ft.origin // NaN stays NaN
	}
	col++
	if len(ft.vars) > 0 {
		if err := ft.history(out[col:], x, tv.ord, ahead); err != nil {
			return nil, fmt.Errorf("features: temporal: %w", err)
		}
	}
	cols := make([]*frame.Column, len(names))
	for j, name := range names {
		cols[j] = frame.NewNumeric(name, out[j])
	}
	res, err := appendColumns(x, cols)
	if err != nil {
		return nil, fmt.Errorf("features: temporal: %w", err)
	}
	return res, nil
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

// Kind returns KindTemporal.
func (ft *FittedTemporal) Kind() string { return KindTemporal }

// temporalVersion is the version of FittedTemporal's JSON encoding.
const temporalVersion = 1

// temporalJSON is FittedTemporal's JSON encoding.
type temporalJSON struct {
	Version  int              `json:"version"`
	Settings Temporal         `json:"settings"`
	Source   string           `json:"source"`
	Unit     string           `json:"unit"`
	Origin   float64          `json:"origin"`
	Step     float64          `json:"step"`
	Parts    []string         `json:"parts"`
	Vars     []string         `json:"vars"`
	Segments []segmentHistory `json:"segments"`
}

// MarshalJSON implements json.Marshaler.
func (ft *FittedTemporal) MarshalJSON() ([]byte, error) {
	return json.Marshal(temporalJSON{
		Version: temporalVersion, Settings: ft.settings, Source: ft.source, Unit: ft.unit,
		Origin: ft.origin, Step: ft.step, Parts: ft.parts, Vars: ft.vars, Segments: ft.segments,
	})
}

// UnmarshalJSON implements json.Unmarshaler and validates the state, so a
// decoded FittedTemporal transforms exactly like the fitted one.
func (ft *FittedTemporal) UnmarshalJSON(data []byte) error {
	var in temporalJSON
	if err := decodeStrict(data, &in); err != nil {
		return err
	}
	if in.Version != temporalVersion {
		return fmt.Errorf("version %d, want %d", in.Version, temporalVersion)
	}
	if in.Settings.Lags == nil || in.Settings.Windows == nil {
		return fmt.Errorf("settings without lags or windows")
	}
	if err := in.Settings.validate(); err != nil {
		return err
	}
	switch {
	case in.Source == sourceDatetime && (in.Unit == unitMonth || in.Unit == unitDay):
	case in.Source == sourceNumeric && in.Unit == unitValue:
	case in.Source == sourceYearMonth && in.Unit == unitMonth:
	default:
		return fmt.Errorf("invalid source %q with unit %q", in.Source, in.Unit)
	}
	if !finite(in.Origin) || !finite(in.Step) || !(in.Step > 0) {
		return fmt.Errorf("invalid time grid (origin %g, step %g)", in.Origin, in.Step)
	}
	for _, p := range in.Parts {
		if !slices.Contains(calendarParts, p) {
			return fmt.Errorf("unknown calendar part %q", p)
		}
	}
	if len(in.Vars) > 0 && !slices.Equal(in.Vars, in.Settings.vars()) {
		return fmt.Errorf("history variables %q do not match the settings", in.Vars)
	}
	for i, s := range in.Segments {
		if i > 0 && in.Segments[i-1].Label >= s.Label {
			return fmt.Errorf("segments not sorted or repeated at %q", s.Label)
		}
		if len(s.Series) != len(in.Vars) {
			return fmt.Errorf("segment %q: %d series, want %d", s.Label, len(s.Series), len(in.Vars))
		}
		for _, ser := range s.Series {
			if len(ser.Periods) != len(ser.Values) {
				return fmt.Errorf("segment %q: %d periods, %d values", s.Label, len(ser.Periods), len(ser.Values))
			}
			for k := 1; k < len(ser.Periods); k++ {
				if ser.Periods[k-1] >= ser.Periods[k] {
					return fmt.Errorf("segment %q: periods not strictly ascending", s.Label)
				}
			}
			for _, v := range ser.Values {
				if !finite(v) {
					return fmt.Errorf("segment %q: non-finite history value", s.Label)
				}
			}
		}
	}
	*ft = FittedTemporal{
		settings: in.Settings, source: in.Source, unit: in.Unit, origin: in.Origin, step: in.Step,
		parts: in.Parts, vars: in.Vars, segments: in.Segments,
	}
	ft.buildIndex()
	return nil
}
