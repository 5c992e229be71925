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
// A datetime time column is read in the civil time each value was written
// in (frame.Column.Offsets): 2020-01-01T00:00:00+02:00 is in January and
// a Thursday, and monthly data written in a zone with daylight saving
// time stays monthly. Data recorded within days (two times on one date,
// such as hourly data; one such date among at least 10, or 1% of them,
// is a stray) are ordered by instant, while their calendar parts stay
// civil: when clocks fall back the repeated hour is two periods, and
// when they spring forward the skipped hour leaves no gap.
//
// Calendar features, named time_<part>: year, quarter, month, week (ISO
// 8601 week of year), dow (day of week, Monday = 0), doy (day of year),
// month_end and quarter_end (0/1 flags), the cyclical month_sin, month_cos,
// dow_sin and dow_cos, and time_elapsed, the time since the first training
// period in days (daily data), months (monthly data) or time-column units
// (a numeric time column). Monthly data (every training date midnight
// on the first, or every one the last, day of its month, but for a few
// strays; or a year,month column pair) get only year, quarter, month and
// the month cycle; a numeric time column gets only time_elapsed. A part
// constant on the training rows is left out.
//
// History features exist when Target or LagColumns is set. A period is a
// step of the time grid detected on the training rows (the greatest
// common divisor of the gaps between distinct training times, in months,
// days or column units): monthly data have one period per month. A few
// stray times off a coarser grid (at most 1% of the distinct times, or
// one among at least 10, such as one record at 13:37 in daily data; up
// to 6% when each is alone in its period, such as weekly records a day
// late in holiday weeks) do not shrink it: they fall in the period they
// are in. The
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
	unitDay   = "day"   // ordinal civil Unix seconds / 86400
	// unitInstant is for datetimes within days (see withinDays): ordinal
	// Unix seconds of the instant / 86400.
	unitInstant = "instant"
	unitValue   = "value" // ordinal = the numeric value
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
	// utc reads a datetime time column in UTC rather than in the civil
	// time it was written in; only states saved as version 1 set it, so
	// that they transform as they did when saved.
	utc bool
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

// Kind returns KindTemporal.
func (ft *FittedTemporal) Kind() string { return KindTemporal }

// ReadsUTC reports whether ft reads its datetime time column as UTC
// instants rather than in the civil time it was written in: only a state
// saved as version 1, before offsets were kept, does.
func (ft *FittedTemporal) ReadsUTC() bool { return ft.utc }

// Versions of FittedTemporal's JSON encoding. Version 2 reads a datetime
// time column in the civil time each value was written in
// (frame.Column.Local), so 2020-01-01T00:00:00+02:00 is in January;
// version 1 read it in UTC. A version 1 state keeps reading UTC, so a
// model saved then transforms as it did. Numeric and year,month sources
// read the same in both and are still written as version 1, which older
// tabforge loads.
const (
	temporalVersionUTC   = 1
	temporalVersionLocal = 2
)

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
	version := temporalVersionUTC
	if ft.source == sourceDatetime && !ft.utc {
		version = temporalVersionLocal
	}
	return json.Marshal(temporalJSON{
		Version: version, Settings: ft.settings, Source: ft.source, Unit: ft.unit,
		Origin: ft.origin, Step: ft.step, Parts: ft.parts, Vars: ft.vars, Segments: ft.segments,
	})
}

// UnmarshalJSON implements json.Unmarshaler and validates the state, so a
// decoded FittedTemporal transforms exactly like the fitted one.
func (ft *FittedTemporal) UnmarshalJSON(data []byte) error {
	if err := checkVersion(data, "temporal features", temporalVersionUTC, temporalVersionLocal); err != nil {
		return err
	}
	var in temporalJSON
	if err := decodeStrict(data, &in); err != nil {
		return err
	}
	if in.Settings.Lags == nil || in.Settings.Windows == nil {
		return fmt.Errorf("settings without lags or windows")
	}
	if err := in.Settings.validate(); err != nil {
		return err
	}
	switch {
	case in.Source == sourceDatetime && (in.Unit == unitMonth || in.Unit == unitDay):
	case in.Source == sourceDatetime && in.Unit == unitInstant && in.Version == temporalVersionLocal:
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
		utc: in.Version == temporalVersionUTC && in.Source == sourceDatetime,
	}
	ft.buildIndex()
	return nil
}
