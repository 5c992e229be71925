package drift

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/frame"
)

// Method names a drift test.
type Method string

// The drift tests; Skipped marks a column that was not compared.
const (
	KS            Method = "ks"
	Wasserstein   Method = "wasserstein_normed"
	ChiSquared    Method = "chi_squared"
	JensenShannon Method = "jensen_shannon"
	Skipped       Method = "skipped"
)

// IsTest reports whether m is a statistical test, judged by its p-value,
// rather than a distance judged against a threshold.
func (m Method) IsTest() bool { return m == KS || m == ChiSquared }

// Options configure Compare. The zero value compares every reference
// column with Evidently's defaults.
type Options struct {
	// Target is the target column, tested apart; "" means none.
	Target string
	// Predict, when set, predicts on both batches and its predictions
	// are tested as well (prediction drift); pass a
	// (*pipeline.Predictor).PredictionColumn.
	Predict PredictFunc
	// Columns restricts the features compared; nil means every reference
	// column but the target.
	Columns []string
	// TestRows is the largest reference sample tested with KS or
	// chi-squared; larger ones use distances. 0 means 1000.
	TestRows int
	// PValue is the significance level of the tests; 0 means 0.05.
	PValue float64
	// Distance is the threshold of the normed Wasserstein and
	// Jensen–Shannon distances; 0 means 0.1.
	Distance float64
	// Share is the drifted share of features at which the dataset
	// drifts; 0 means 0.5.
	Share float64
}

// PredictFunc returns a model's predictions on x as one column: numbers
// (regression values, class probabilities) or labels.
type PredictFunc func(x *frame.Frame) (*frame.Column, error)

func (o Options) testRows() int { return cmp0(o.TestRows, 1000) }
func (o Options) pValue() float64 {
	return cmp0(o.PValue, 0.05)
}
func (o Options) distance() float64 { return cmp0(o.Distance, 0.1) }
func (o Options) share() float64    { return cmp0(o.Share, 0.5) }

func cmp0[T int | float64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Report is the outcome of Compare. It encodes to JSON as it is.
type Report struct {
	ReferenceRows int `json:"reference_rows"`
	CurrentRows   int `json:"current_rows"`
	// DatasetDrift is set when DriftedShare ≥ ShareThreshold.
	DatasetDrift   bool    `json:"dataset_drift"`
	DriftedShare   float64 `json:"drifted_share"`
	ShareThreshold float64 `json:"share_threshold"`
	// Drifted and Compared count feature columns; skipped ones are not
	// compared.
	Drifted  int `json:"drifted_features"`
	Compared int `json:"compared_features"`
	// Columns are the feature columns in reference order.
	Columns    []Column `json:"columns"`
	Target     *Column  `json:"target,omitempty"`
	Prediction *Column  `json:"prediction,omitempty"`
	// Extra are current columns absent from the reference; ignored.
	Extra []string `json:"extra,omitempty"`
}

// Column is one column's drift.
type Column struct {
	Name string     `json:"name"`
	Kind frame.Kind `json:"kind"`
	// Method is the test used; Reason says why a column was skipped, or
	// why a drifted one has no statistic.
	Method Method `json:"method"`
	Reason string `json:"reason,omitempty"`
	// Statistic is the KS D, the chi-squared statistic or the distance.
	Statistic float64 `json:"statistic"`
	// Noise, for the Jensen–Shannon distance, is the divergence sampling
	// noise alone reaches with no drift (at the 95% level, given the
	// number of categories and both sample sizes); Statistic is the
	// distance left above it (see jsNoise).
	Noise float64 `json:"noise,omitempty"`
	// PValue is set for the statistical tests only.
	PValue *float64 `json:"p_value,omitempty"`
	// Threshold is the p-value level (tests) or the distance threshold.
	Threshold float64 `json:"threshold"`
	Drifted   bool    `json:"drifted"`
	PSI       float64 `json:"psi"`
	// PSIBand is "stable" (< 0.1), "moderate" (< 0.25) or "significant".
	PSIBand string `json:"psi_band"`
	// ReferenceValues and CurrentValues count the values tested.
	ReferenceValues int `json:"reference_values"`
	CurrentValues   int `json:"current_values"`
	// ReferenceMissing and CurrentMissing are the shares of missing (and,
	// for numbers, infinite) values.
	ReferenceMissing float64 `json:"reference_missing"`
	CurrentMissing   float64 `json:"current_missing"`
	// Bins are both distributions side by side: quantile bins of the
	// reference, or categories (the largest 30, the rest pooled).
	Bins []Bin `json:"bins,omitempty"`
}

// Bin is one bin of both distributions, as shares of their rows.
type Bin struct {
	Label     string  `json:"label"`
	Reference float64 `json:"reference"`
	Current   float64 `json:"current"`
}

// ErrNoRows reports an empty reference or current batch.
var ErrNoRows = errors.New("drift: no rows")

// MissingColumnsError reports reference columns absent from the current
// data; Compare cannot say whether they drifted.
type MissingColumnsError struct{ Columns []string }

func (e *MissingColumnsError) Error() string {
	q := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		q[i] = fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("drift: the current data lacks column(s) %s of the reference", strings.Join(q, ", "))
}

// Compare measures the drift of cur from ref. Columns are matched by
// name and must have the same kind in both (ReadFiles reads them so);
// a reference column missing from cur is a *MissingColumnsError. Neither
// frame is modified. It checks ctx between columns.
func Compare(ctx context.Context, ref, cur *frame.Frame, o Options) (*Report, error) {
	if ref.NumRows() == 0 || cur.NumRows() == 0 {
		return nil, fmt.Errorf("%w: reference has %d, current %d", ErrNoRows, ref.NumRows(), cur.NumRows())
	}
	names, err := featureNames(ref, cur, o)
	if err != nil {
		return nil, err
	}
	r := &Report{ReferenceRows: ref.NumRows(), CurrentRows: cur.NumRows(), ShareThreshold: o.share()}
	for _, c := range cur.Columns() {
		if _, ok := ref.Lookup(c.Name); !ok {
			r.Extra = append(r.Extra, c.Name)
		}
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("drift: column %q: %w", name, err)
		}
		a, _ := ref.Lookup(name)
		b, _ := cur.Lookup(name)
		col, err := compareColumns(a, b, o, true)
		if err != nil {
			return nil, err
		}
		r.Columns = append(r.Columns, col)
		if col.Method != Skipped {
			r.Compared++
			if col.Drifted {
				r.Drifted++
			}
		}
	}
	if r.Compared > 0 {
		r.DriftedShare = float64(r.Drifted) / float64(r.Compared)
		r.DatasetDrift = r.DriftedShare >= r.ShareThreshold
	}
	if o.Target != "" {
		a, _ := ref.Lookup(o.Target)
		b, _ := cur.Lookup(o.Target)
		t, err := compareColumns(a, b, o, false)
		if err != nil {
			return nil, err
		}
		r.Target = &t
	}
	if o.Predict != nil {
		p, err := predictionDrift(ref, cur, o)
		if err != nil {
			return nil, err
		}
		r.Prediction = p
	}
	return r, nil
}

// featureNames returns the feature columns to compare, checking that
// each is in cur with the same kind, and the target in both.
func featureNames(ref, cur *frame.Frame, o Options) ([]string, error) {
	names := o.Columns
	if names == nil {
		for _, n := range ref.Names() {
			if n != o.Target {
				names = append(names, n)
			}
		}
	}
	check := slices.Clone(names)
	if o.Target != "" {
		if _, ok := ref.Lookup(o.Target); !ok {
			return nil, fmt.Errorf("drift: target column %q is not in the reference data", o.Target)
		}
		check = append(check, o.Target)
	}
	var missing []string
	for _, n := range check {
		a, ok := ref.Lookup(n)
		if !ok {
			return nil, fmt.Errorf("drift: column %q is not in the reference data", n)
		}
		b, ok := cur.Lookup(n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		if a.Kind != b.Kind {
			return nil, fmt.Errorf("drift: column %q is %s in the reference and %s in the current data", n, a.Kind, b.Kind)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingColumnsError{Columns: missing}
	}
	return names, nil
}

// compareColumns tests one pair of columns of the same name and kind.
// skipIDs skips identifier-like categorical columns (not for a target).
func compareColumns(a, b *frame.Column, o Options, skipIDs bool) (Column, error) {
	col := Column{Name: a.Name, Kind: a.Kind}
	switch {
	case a.Kind == frame.Datetime:
		col.Method, col.Reason = Skipped, "datetime column: time moves on between any two periods"
		return col, nil
	case a.Kind == frame.Categorical:
		ra, ma := categorySample(a)
		rb, mb := categorySample(b)
		col.ReferenceMissing, col.CurrentMissing = ma, mb
		if skipIDs && len(a.Levels) > 20 && distinctUsed(a) > a.Len()/2 {
			col.Method, col.Reason = Skipped, "identifier-like: more distinct values than half the rows"
			return col, nil
		}
		categorical(&col, ra, rb, o)
		return col, nil
	}
	ra, ma := finiteSample(a.Num)
	rb, mb := finiteSample(b.Num)
	col.ReferenceMissing, col.CurrentMissing = ma, mb
	if len(ra) == 0 {
		col.Method, col.Reason = Skipped, "no finite values in the reference"
		return col, nil
	}
	if levels := distinctSorted(ra, 6); len(levels) <= 5 {
		// Few distinct values: a count per value is the better picture.
		categorical(&col, numberLabels(a.Num), numberLabels(b.Num), o)
		return col, nil
	}
	numeric(&col, ra, rb, a.Num, b.Num, o)
	return col, nil
}

// finiteSample returns the finite values of v, sorted, and the share of
// v that is not finite.
func finiteSample(v []float64) ([]float64, float64) {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out, share(len(v)-len(out), len(v))
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// psiBand names the rule-of-thumb band of a PSI value.
func psiBand(psi float64) string {
	switch {
	case psi < 0.1:
		return "stable"
	case psi < 0.25:
		return "moderate"
	}
	return "significant"
}
