package eval

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// RuleKind is the kind of a business rule.
type RuleKind string

// Rule kinds.
const (
	// RuleBounds requires every prediction to lie in [Min, Max] (either
	// bound may be absent), e.g. price > 0.
	RuleBounds RuleKind = "bounds"
	// RuleMonotonic requires the partial dependence of the prediction on
	// Feature to be increasing or decreasing (Direction), allowing drops of
	// at most Threshold times the curve's range.
	RuleMonotonic RuleKind = "monotonic"
	// RuleSegmentFloor requires every segment of at least MinRows rows to
	// reach Threshold: within-20% accuracy in percent for regression,
	// accuracy in percent for classification.
	RuleSegmentFloor RuleKind = "segment_floor"
	// RuleMaxOffShare requires the percentage of predictions off by more
	// than Tolerance (relative, 0.5 = 50%) to be at most Threshold.
	RuleMaxOffShare RuleKind = "max_off_share"
)

// Rule is a business rule on a model's predictions. Which fields matter
// depends on Kind (see the RuleKind constants).
type Rule struct {
	Name string   `json:"name"`
	Kind RuleKind `json:"kind"`
	// Feature is the input column of a monotonic rule.
	Feature string `json:"feature,omitempty"`
	// Min and Max bound predictions (bounds); nil means unbounded.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Direction is increasing or decreasing (monotonic).
	Direction string `json:"direction,omitempty"`
	// Threshold is the floor (segment_floor), the largest allowed share
	// (max_off_share), or the allowed relative drop (monotonic).
	Threshold float64 `json:"threshold"`
	// Tolerance is the relative error beyond which a prediction is "off"
	// (max_off_share).
	Tolerance float64 `json:"tolerance,omitempty"`
	// MinRows is the fewest rows a segment needs to be checked
	// (segment_floor); 0 means 1.
	MinRows int `json:"min_rows,omitempty"`
	// Gate makes a failure fail the run, like a quality gate.
	Gate bool `json:"gate"`
}

// Validate checks that r has what its kind needs.
func (r Rule) Validate() error {
	if r.Name == "" {
		return errors.New("rule without a name")
	}
	switch r.Kind {
	case RuleBounds:
		if r.Min == nil && r.Max == nil {
			return fmt.Errorf("rule %s: bounds needs min or max", r.Name)
		}
		// A NaN bound would pass every prediction (each comparison with it
		// is false); nil, not an infinity, is how a side is left open.
		if r.Min != nil && !isFinite(*r.Min) || r.Max != nil && !isFinite(*r.Max) {
			return fmt.Errorf("rule %s: bounds min and max must be finite numbers (leave one out for no bound)", r.Name)
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			return fmt.Errorf("rule %s: min %v above max %v", r.Name, *r.Min, *r.Max)
		}
	case RuleMonotonic:
		if r.Feature == "" {
			return fmt.Errorf("rule %s: monotonic needs a feature", r.Name)
		}
		if r.Direction != "increasing" && r.Direction != "decreasing" {
			return fmt.Errorf("rule %s: direction %q is not increasing or decreasing", r.Name, r.Direction)
		}
		if !(r.Threshold >= 0 && r.Threshold < 1) {
			return fmt.Errorf("rule %s: threshold %v (allowed relative drop) is not in [0, 1)", r.Name, r.Threshold)
		}
	case RuleSegmentFloor:
		if !(r.Threshold >= 0 && r.Threshold <= 100) {
			return fmt.Errorf("rule %s: threshold %v is not a percentage in [0, 100]", r.Name, r.Threshold)
		}
	case RuleMaxOffShare:
		if !(r.Tolerance > 0) || math.IsInf(r.Tolerance, 0) {
			return fmt.Errorf("rule %s: tolerance %v is not a positive relative error", r.Name, r.Tolerance)
		}
		if !(r.Threshold >= 0 && r.Threshold <= 100) {
			return fmt.Errorf("rule %s: threshold %v is not a percentage in [0, 100]", r.Name, r.Threshold)
		}
	default:
		return fmt.Errorf("rule %s: unknown kind %q (allowed: bounds, monotonic, segment_floor, max_off_share)", r.Name, r.Kind)
	}
	return nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// RuleResult is the outcome of one rule.
type RuleResult struct {
	Name string   `json:"name"`
	Kind RuleKind `json:"kind"`
	Gate bool     `json:"gate"`
	// Passed is false when the rule failed or could not be checked (Error).
	Passed bool `json:"passed"`
	// Value is what was measured: the number of out-of-bounds predictions,
	// the largest relative drop against the direction, the worst
	// segment's score, or the share of off predictions.
	Value float64 `json:"value"`
	// Threshold is the limit Value was held to.
	Threshold float64 `json:"threshold"`
	// Detail says what failed, e.g. the worst segment.
	Detail string `json:"detail,omitempty"`
	// Error says why the rule could not be checked.
	Error string `json:"error,omitempty"`
}

// RuleInput is what rules are checked against: a model's predictions on
// a labelled set of rows.
type RuleInput struct {
	// Y are the true values (class indices for classification).
	Y []float64
	// Pred are the predictions: values for regression, the probability of
	// class 1 for binary tasks, k values per row for multiclass.
	Pred []float64
	// Classes is 0 for regression, else the number of classes.
	Classes int
	// Segments label each row's segment; nil when there are none.
	Segments []string
	// Feature returns the values of an input column on these rows, from
	// which monotonic rules take their grid; nil or !ok means unknown.
	Feature func(name string) (values []float64, ok bool)
	// PartialDependence returns the model's average prediction with
	// feature set to each grid value in turn (explain's PDP); nil means
	// monotonic rules cannot be checked.
	PartialDependence func(feature string, grid []float64) ([]float64, error)
	// GridPoints is the size of a monotonic rule's grid; 0 means 20.
	GridPoints int
}

// CheckRules checks each rule against in and returns one result per rule,
// in order. A rule that is invalid or cannot be checked (a feature the
// input lacks, no segments) fails with Error set, so that a gate never
// passes by accident.
func CheckRules(rules []Rule, in RuleInput) []RuleResult {
	out := make([]RuleResult, len(rules))
	for i, r := range rules {
		res := RuleResult{Name: r.Name, Kind: r.Kind, Gate: r.Gate, Threshold: r.Threshold}
		var err error
		if err = r.Validate(); err == nil {
			err = checkRule(r, in, &res)
		}
		if err != nil {
			res.Passed, res.Error = false, err.Error()
		}
		out[i] = res
	}
	return out
}

func checkRule(r Rule, in RuleInput, res *RuleResult) error {
	switch r.Kind {
	case RuleBounds:
		return checkBounds(r, in, res)
	case RuleMonotonic:
		return checkMonotonic(r, in, res)
	case RuleSegmentFloor:
		return checkSegmentFloor(r, in, res)
	case RuleMaxOffShare:
		return checkOffShare(r, in, res)
	}
	return fmt.Errorf("unknown kind %q", r.Kind)
}

func checkBounds(r Rule, in RuleInput, res *RuleResult) error {
	if len(in.Pred) == 0 {
		return ErrEmpty
	}
	res.Threshold = 0
	bad, worst, far := 0, math.NaN(), -1.0
	for _, p := range in.Pred {
		// dist is how far p lies outside the bounds (NaN counts as out).
		dist := 0.0
		if r.Min != nil && !(p >= *r.Min) {
			dist = *r.Min - p
		}
		if r.Max != nil && !(p <= *r.Max) {
			dist = max(dist, p-*r.Max)
		}
		if dist > 0 || math.IsNaN(p) {
			bad++
			if dist > far || math.IsNaN(dist) {
				worst, far = p, dist
			}
		}
	}
	res.Value, res.Passed = float64(bad), bad == 0
	if bad > 0 {
		res.Detail = fmt.Sprintf("%d of %d predictions outside %s (worst %.6g)", bad, len(in.Pred), boundsText(r), worst)
	}
	return nil
}

func boundsText(r Rule) string {
	lo, hi := "-inf", "inf"
	if r.Min != nil {
		lo = fmt.Sprintf("%g", *r.Min)
	}
	if r.Max != nil {
		hi = fmt.Sprintf("%g", *r.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

func checkMonotonic(r Rule, in RuleInput, res *RuleResult) error {
	if in.PartialDependence == nil {
		return errors.New("no partial dependence available to check monotonicity")
	}
	if in.Feature == nil {
		return fmt.Errorf("feature %q: no feature values", r.Feature)
	}
	x, ok := in.Feature(r.Feature)
	if !ok {
		return fmt.Errorf("feature %q not found among the model's inputs", r.Feature)
	}
	points := in.GridPoints
	if points <= 0 {
		points = 20
	}
	grid := QuantileGrid(x, points)
	if len(grid) < 2 {
		return fmt.Errorf("feature %q has fewer than 2 distinct values", r.Feature)
	}
	pd, err := in.PartialDependence(r.Feature, grid)
	if err != nil {
		return fmt.Errorf("partial dependence of %q: %w", r.Feature, err)
	}
	if len(pd) != len(grid) {
		return fmt.Errorf("partial dependence of %q: %d values for %d grid points", r.Feature, len(pd), len(grid))
	}
	lo, hi := slices.Min(pd), slices.Max(pd)
	span := hi - lo
	sign := 1.0
	if r.Direction == "decreasing" {
		sign = -1
	}
	// The largest drop against the direction between any earlier and
	// later grid point, relative to the curve's range.
	worst, at := 0.0, 0
	best := sign * pd[0]
	for i := 1; i < len(pd); i++ {
		if d := best - sign*pd[i]; d > worst {
			worst, at = d, i
		}
		best = max(best, sign*pd[i])
	}
	rel := 0.0
	if span > 0 {
		rel = worst / span
	}
	res.Value = rel
	// A float-rounding wiggle is not a violation.
	res.Passed = rel <= r.Threshold || worst <= 1e-12*math.Max(1, math.Abs(hi))
	if !res.Passed {
		res.Detail = fmt.Sprintf("partial dependence on %s is not %s: falls by %.4g (%.1f%% of its range) up to %s = %.4g",
			r.Feature, r.Direction, worst, 100*rel, r.Feature, grid[at])
	}
	return nil
}

// QuantileGrid returns up to points distinct values of x (NaN skipped) at
// evenly spaced quantiles from the minimum to the maximum, increasing.
func QuantileGrid(x []float64, points int) []float64 {
	v := make([]float64, 0, len(x))
	for _, f := range x {
		if !math.IsNaN(f) {
			v = append(v, f)
		}
	}
	if len(v) == 0 || points < 1 {
		return nil
	}
	sort.Float64s(v)
	if points == 1 {
		return []float64{v[len(v)/2]}
	}
	var grid []float64
	for i := range points {
		q := v[int(math.Round(float64(i)*float64(len(v)-1)/float64(points-1)))]
		if len(grid) == 0 || q > grid[len(grid)-1] {
			grid = append(grid, q)
		}
	}
	return grid
}

func checkSegmentFloor(r Rule, in RuleInput, res *RuleResult) error {
	if in.Segments == nil {
		return errors.New("no segments: set segment_column")
	}
	if len(in.Segments) != len(in.Y) {
		return fmt.Errorf("%w: %d rows, %d segment labels", ErrLength, len(in.Y), len(in.Segments))
	}
	groups := map[string][]int{}
	for i, s := range in.Segments {
		groups[s] = append(groups[s], i)
	}
	minRows := max(r.MinRows, 1)
	metric := "within20"
	if in.Classes > 0 {
		metric = "accuracy"
	}
	var failed []string
	worst, worstSeg, checked := math.Inf(1), "", 0
	for _, s := range slices.Sorted(maps.Keys(groups)) {
		idx := groups[s]
		if len(idx) < minRows {
			continue
		}
		checked++
		v, err := groupScore(in, idx)
		if err != nil {
			return fmt.Errorf("segment %q: %w", s, err)
		}
		if v < worst {
			worst, worstSeg = v, s
		}
		if v < r.Threshold {
			failed = append(failed, fmt.Sprintf("%s %.1f%%", s, v))
		}
	}
	if checked == 0 {
		return fmt.Errorf("no segment has at least %d rows", minRows)
	}
	res.Value, res.Passed = worst, len(failed) == 0
	if !res.Passed {
		res.Detail = fmt.Sprintf("%d of %d segments below %s %.1f%%: %s", len(failed), checked, metric, r.Threshold, strings.Join(failed, ", "))
	} else {
		res.Detail = fmt.Sprintf("worst segment %s", worstSeg)
	}
	return nil
}

// groupScore is the within-20% (regression) or accuracy (classification)
// percentage of rows idx.
func groupScore(in RuleInput, idx []int) (float64, error) {
	k := in.Classes
	hits := 0
	for _, i := range idx {
		if k == 0 {
			if math.Abs(in.Pred[i]-in.Y[i]) <= 0.2*math.Abs(in.Y[i]) {
				hits++
			}
			continue
		}
		var label int
		if k == 2 {
			if in.Pred[i] > 0.5 {
				label = 1
			}
		} else {
			row := in.Pred[i*k : (i+1)*k]
			for c := range row {
				if row[c] > row[label] {
					label = c
				}
			}
		}
		if float64(label) == in.Y[i] {
			hits++
		}
	}
	return 100 * float64(hits) / float64(len(idx)), nil
}

func checkOffShare(r Rule, in RuleInput, res *RuleResult) error {
	if in.Classes > 0 {
		return errors.New("max_off_share applies to regression only")
	}
	if err := checkPair(in.Y, in.Pred, nil); err != nil {
		return err
	}
	off := 0
	for i, y := range in.Y {
		if math.Abs(in.Pred[i]-y) > r.Tolerance*math.Abs(y) {
			off++
		}
	}
	share := 100 * float64(off) / float64(len(in.Y))
	res.Value, res.Passed = share, share <= r.Threshold
	if !res.Passed {
		res.Detail = fmt.Sprintf("%d of %d predictions (%.2f%%) off by more than %.0f%%, allowed %.2f%%", off, len(in.Y), share, 100*r.Tolerance, r.Threshold)
	}
	return nil
}
