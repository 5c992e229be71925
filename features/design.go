package features

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// datePart is the quantity a numeric feature reads from its input column.
type datePart uint8

const (
	partValue datePart = iota // the numeric value itself
	partYear                  // calendar year (civil time, see frame.Column.Local)
	partMonth                 // month 1..12 (civil time)
	partDow                   // day of week, Monday = 0 (civil time)
)

var partNames = [...]string{partValue: "value", partYear: "year", partMonth: "month", partDow: "dow"}

// numericFeature is one numeric output column: fill a missing value (unless
// the spec keeps NaN), then (v - mean) / scale.
type numericFeature struct {
	part        datePart
	fill        float64
	mean, scale float64
}

// inputColumn is the fitted state of one raw input column.
type inputColumn struct {
	name string
	kind frame.Kind

	// Numeric and datetime columns.
	parts []numericFeature

	// Categorical columns.
	levels    []string         // output levels, sorted
	pooled    []string         // training labels pooled into OtherLevel, sorted
	missingAs string           // label a missing value takes; "" means NaN / all zeros
	index     map[string]int32 // label (levels and pooled) → level index; read-only
	labels    int              // distinct training labels before pooling; FitDesign only

	offset int // first output column
}

// Design is a fitted, immutable mapping from frames with the training
// columns to a design matrix. It is safe for concurrent use. It encodes
// to JSON (see MarshalJSON) so it can be saved with a model. A usable
// Design comes from FitDesign or json.Unmarshal; the zero value has no
// features.
type Design struct {
	spec   DesignSpec
	inputs []*inputColumn // training-frame order
	names  []string       // output feature names
	cat    []bool         // output ordinal-categorical flags
	// utc reads datetime columns in UTC rather than in the civil time
	// they were written in; only designs saved as version 1 set it, so
	// that their matrices stay as they were.
	utc bool
	// unseenZero encodes a label unseen in training as all zeros even in
	// a column that pools labels into OtherLevel; only designs saved as
	// version 1 or 2 set it. A fitted design encodes such a label as
	// OtherLevel, as scikit-learn's OneHotEncoder does with
	// handle_unknown="infrequent_if_exist": a label too rare to be seen
	// in training belongs with the rare ones. All zeros put it where no
	// training row was: with every training row in OtherLevel, a linear
	// fit splits the intercept between the two, and such rows were
	// predicted 0.63 off on a 50,000-level id column.
	unseenZero bool
}

// FitDesign learns imputation fills, scaling statistics, category levels
// and datetime expansions from the rows of train, which must not include
// evaluation rows. Every column of train except spec.DropColumns is an
// input. It costs O(n log n) per numeric column (the median) and O(n) per
// other column, and keeps no reference to train.
func FitDesign(ctx context.Context, train *frame.Frame, spec DesignSpec) (*Design, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if train == nil || train.NumRows() == 0 {
		return nil, ErrEmpty
	}
	d := &Design{spec: spec}
	d.spec.DropColumns = slices.Clone(spec.DropColumns)
	for _, col := range train.Columns() {
		if slices.Contains(spec.DropColumns, col.Name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("features: fit design: %w", err)
		}
		in, err := fitColumn(col, &d.spec)
		if err != nil {
			return nil, err
		}
		d.inputs = append(d.inputs, in)
	}
	if err := d.capOneHot(train); err != nil {
		return nil, err
	}
	if err := d.layout(); err != nil {
		return nil, err
	}
	return d, nil
}

func fitColumn(col *frame.Column, spec *DesignSpec) (*inputColumn, error) {
	in := &inputColumn{name: col.Name, kind: col.Kind}
	var err error
	switch col.Kind {
	case frame.Numeric:
		var f numericFeature
		f, err = fitNumeric(col.Num, spec)
		in.parts = []numericFeature{f}
	case frame.Datetime:
		in.parts, err = fitDatetime(civilSeconds(col, false), spec)
	case frame.Categorical:
		err = in.fitCategorical(col, spec)
	default:
		err = fmt.Errorf("unsupported kind %v", col.Kind)
	}
	if err != nil {
		return nil, &ColumnError{Column: col.Name, Err: err}
	}
	return in, nil
}

// fitNumeric fits one numeric feature on v (NaN = missing).
func fitNumeric(v []float64, spec *DesignSpec) (numericFeature, error) {
	f := numericFeature{part: partValue, scale: 1}
	seen := make([]float64, 0, len(v))
	for i, x := range v {
		switch {
		case math.IsNaN(x):
		case math.IsInf(x, 0):
			return f, fmt.Errorf("row %d: infinite value", i)
		default:
			seen = append(seen, x)
		}
	}
	if len(seen) > 0 {
		switch spec.impute() {
		case ImputeMean:
			f.fill = mean(seen)
		default:
			slices.Sort(seen)
			h := len(seen) / 2
			if len(seen)%2 == 1 {
				f.fill = seen[h]
			} else {
				f.fill = (seen[h-1] + seen[h]) / 2
			}
		}
	}
	if spec.Scale {
		nMissing := len(v) - len(seen)
		if spec.Missing {
			nMissing = 0 // statistics of the observed values only
		}
		n := float64(len(seen) + nMissing)
		if n > 0 {
			var sum float64
			for _, x := range seen {
				sum += x
			}
			sum += float64(nMissing) * f.fill
			f.mean = sum / n
			var ss float64
			for _, x := range seen {
				ss += (x - f.mean) * (x - f.mean)
			}
			ss += float64(nMissing) * (f.fill - f.mean) * (f.fill - f.mean)
			variance := ss / n
			// sklearn's _is_constant_feature: variance within the error
			// bound of the two-pass algorithm counts as zero.
			const eps = 0x1p-52
			if variance > n*eps*variance+(n*f.mean*eps)*(n*f.mean*eps) {
				f.scale = math.Sqrt(variance)
			}
		}
	}
	if !finite(f.fill) || !finite(f.mean) || !finite(f.scale) || f.scale <= 0 {
		return f, fmt.Errorf("statistics overflow (fill %g, mean %g, scale %g)", f.fill, f.mean, f.scale)
	}
	return f, nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// fitDatetime expands a datetime column, given as civil seconds (see
// civilSeconds), into year, month and day of week, or year and month only
// if the training values are monthly by Temporal's rule (see monthly:
// midnight on the first, or on the last, day of each month, but for a
// few strays), and fits each as a numeric feature. The peers' daily and
// monthly date columns (first days) are read as they are.
func fitDatetime(v []float64, spec *DesignSpec) ([]numericFeature, error) {
	year := make([]float64, len(v))
	month := make([]float64, len(v))
	dow := make([]float64, len(v))
	for i, x := range v {
		if math.IsNaN(x) {
			year[i], month[i], dow[i] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		y, m, _, wd, ok := civil(x)
		if !ok {
			return nil, fmt.Errorf("row %d: datetime %g out of range", i, x)
		}
		year[i], month[i], dow[i] = float64(y), float64(m), float64(wd)
	}
	parts := []datePart{partYear, partMonth, partDow}
	values := [][]float64{year, month, dow}
	isMonthly, err := monthly(v)
	if err != nil {
		return nil, err
	}
	if isMonthly {
		parts, values = parts[:2], values[:2]
	}
	out := make([]numericFeature, len(parts))
	for k := range parts {
		f, err := fitNumeric(values[k], spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", partNames[parts[k]], err)
		}
		f.part = parts[k]
		out[k] = f
	}
	return out, nil
}

// maxUnixSeconds bounds datetimes to about ±31 million years, far inside
// int64 day arithmetic.
const maxUnixSeconds = 1e15

// civil returns the UTC calendar date and weekday (Monday = 0) of Unix
// seconds t (the civil date of a value written with an offset, when t is
// frame.Column.Local's), without allocating (Hinnant's days-to-civil algorithm).
func civil(t float64) (year, month, day, weekday int64, ok bool) {
	if !(math.Abs(t) <= maxUnixSeconds) {
		return 0, 0, 0, 0, false
	}
	days := int64(math.Floor(t / 86400))
	weekday = ((days+3)%7 + 7) % 7 // 1970-01-01 was a Thursday
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day, weekday, true
}

// fitCategorical learns the training labels of col, by label (not code).
func (in *inputColumn) fitCategorical(col *frame.Column, spec *DesignSpec) error {
	counts := make([]int, len(col.Levels))
	nMissing := 0
	for i, c := range col.Codes {
		switch {
		case c == -1:
			nMissing++
		case c < -1 || int(c) >= len(col.Levels):
			return fmt.Errorf("row %d: code %d outside %d levels", i, c, len(col.Levels))
		default:
			counts[c]++
		}
	}
	byLabel := make(map[string]int)
	for code, n := range counts {
		if n > 0 {
			byLabel[col.Levels[code]] += n
		}
	}
	policy := spec.categoricalMissing()
	if policy == MissingAsMode && len(byLabel) == 0 {
		policy = MissingAsLevel
	}
	switch policy {
	case MissingAsLevel:
		in.missingAs = MissingLevel
		if nMissing > 0 {
			byLabel[MissingLevel] += nMissing
		}
	case MissingAsMode:
		mode, best := "", -1
		for label, n := range byLabel {
			if n > best || n == best && label < mode {
				mode, best = label, n
			}
		}
		in.missingAs = mode
		byLabel[mode] += nMissing
	case MissingAsNaN:
		in.missingAs = ""
	}
	labels := make([]string, 0, len(byLabel))
	for label := range byLabel {
		labels = append(labels, label)
	}
	in.labels = len(labels)
	if spec.OneHot && spec.MaxOneHotLevels > 0 && len(labels) > spec.MaxOneHotLevels {
		slices.SortFunc(labels, func(a, b string) int {
			return cmp.Or(cmp.Compare(byLabel[b], byLabel[a]), cmp.Compare(a, b))
		})
		keep := spec.MaxOneHotLevels
		for keep > 0 && byLabel[labels[keep-1]] < spec.MinOneHotCount {
			keep--
		}
		in.pooled = slices.DeleteFunc(slices.Clone(labels[keep:]),
			func(l string) bool { return l == OtherLevel }) // a real "__other__" merges with the pool
		slices.Sort(in.pooled)
		labels = append(labels[:keep:keep], OtherLevel)
	}
	slices.Sort(labels)
	in.levels = slices.Compact(labels)
	return nil
}

// buildIndex maps every label the column knows to its level index.
func (in *inputColumn) buildIndex() error {
	in.index = make(map[string]int32, len(in.levels)+len(in.pooled))
	for i, l := range in.levels {
		if _, dup := in.index[l]; dup {
			return fmt.Errorf("level %q listed twice", l)
		}
		in.index[l] = int32(i)
	}
	if len(in.pooled) > 0 {
		other, ok := in.index[OtherLevel]
		if !ok {
			return fmt.Errorf("pooled levels without level %q", OtherLevel)
		}
		for _, l := range in.pooled {
			if _, dup := in.index[l]; dup {
				return fmt.Errorf("pooled level %q is also a level", l)
			}
			in.index[l] = other
		}
	}
	return nil
}

// width is the number of output columns of in.
func (in *inputColumn) width(oneHot bool) int {
	switch {
	case in.kind != frame.Categorical:
		return len(in.parts)
	case oneHot:
		return len(in.levels)
	}
	return 1
}

// layout places the inputs' features in the output (numeric, then
// datetime, then categorical, each in input order) and names them.
func (d *Design) layout() error {
	d.names, d.cat = nil, nil
	for _, kind := range []frame.Kind{frame.Numeric, frame.Datetime, frame.Categorical} {
		for _, in := range d.inputs {
			if in.kind != kind {
				continue
			}
			if kind == frame.Categorical {
				if err := in.buildIndex(); err != nil {
					return &ColumnError{Column: in.name, Err: err}
				}
			}
			in.offset = len(d.names)
			switch {
			case kind == frame.Numeric:
				d.names = append(d.names, in.name)
			case kind == frame.Datetime:
				for _, p := range in.parts {
					d.names = append(d.names, in.name+"_"+partNames[p.part])
				}
			case d.spec.OneHot:
				for _, l := range in.levels {
					d.names = append(d.names, in.name+"_"+l)
				}
			default:
				d.names = append(d.names, in.name)
			}
			for range in.width(d.spec.OneHot) {
				d.cat = append(d.cat, kind == frame.Categorical && !d.spec.OneHot)
			}
		}
	}
	if len(d.names) == 0 {
		return fmt.Errorf("features: design has no features (%d input columns)", len(d.inputs))
	}
	return nil
}

// Spec returns the spec d was fitted with.
func (d *Design) Spec() DesignSpec {
	s := d.spec
	s.DropColumns = slices.Clone(s.DropColumns)
	return s
}

// NumFeatures returns the number of columns of d's matrices.
func (d *Design) NumFeatures() int { return len(d.names) }

// FeatureNames returns the names of the matrix columns: a numeric column's
// own name, "<name>_year", "<name>_month" and "<name>_dow" for a datetime
// column, "<name>_<level>" for a one-hot column (sklearn's naming) and the
// column's name for an ordinal one. Names are not guaranteed unique when
// raw names collide with these patterns.
func (d *Design) FeatureNames() []string { return slices.Clone(d.names) }

// Categorical reports, per matrix column, whether it holds ordinal
// category codes (0..k-1 over the sorted training labels, -1 for an
// unseen label, NaN for missing under MissingAsNaN), as
// model.Dataset.Categorical expects.
func (d *Design) Categorical() []bool { return slices.Clone(d.cat) }

// InputColumns returns the raw columns d reads, in training-frame order:
// the schema a model using d expects.
func (d *Design) InputColumns() []string {
	out := make([]string, len(d.inputs))
	for i, in := range d.inputs {
		out[i] = in.name
	}
	return out
}

// IDLikeColumns returns the categorical columns of f whose label is
// present and distinct in every row (the peers drop such id columns before
// preprocessing; pass them in DesignSpec.DropColumns to do the same).
func IDLikeColumns(f *frame.Frame) []string {
	var out []string
	for _, col := range f.Columns() {
		if col.Kind != frame.Categorical || f.NumRows() == 0 {
			continue
		}
		seen := make(map[string]struct{}, len(col.Levels))
		idLike := true
		for _, c := range col.Codes {
			if c < 0 || int(c) >= len(col.Levels) {
				idLike = false
				break
			}
			seen[col.Levels[c]] = struct{}{}
		}
		if idLike && len(seen) == f.NumRows() {
			out = append(out, col.Name)
		}
	}
	return out
}
