package drift

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

func nums(n int, f func(i int) float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func labels(n int, f func(i int) string) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func column(t *testing.T, r *Report, name string) Column {
	t.Helper()
	for _, c := range r.Columns {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no column %q in the report", name)
	return Column{}
}

// TestMethodBySampleSize checks the switch from tests to distances above
// TestRows reference values, for numbers and categories.
func TestMethodBySampleSize(t *testing.T) {
	for _, c := range []struct {
		rows    int
		num, ca Method
	}{{1000, KS, ChiSquared}, {1001, Wasserstein, JensenShannon}, {40, KS, ChiSquared}} {
		f := frame.MustNew(
			frame.NewNumeric("x", nums(c.rows, func(i int) float64 { return float64(i % 97) })),
			frame.NewCategoricalFromStrings("c", labels(c.rows, func(i int) string { return string(rune('a' + i%7)) })))
		r, err := Compare(context.Background(), f, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, ca := column(t, r, "x"), column(t, r, "c")
		if x.Method != c.num || ca.Method != c.ca {
			t.Errorf("%d rows: methods %s, %s; want %s, %s", c.rows, x.Method, ca.Method, c.num, c.ca)
		}
		if x.Drifted || ca.Drifted || r.DatasetDrift || x.PSI != 0 || ca.PSI != 0 {
			t.Errorf("%d rows: identical batches drift: %+v", c.rows, r)
		}
		if x.Method.IsTest() != (x.PValue != nil) {
			t.Errorf("%d rows: %s has p-value %v", c.rows, x.Method, x.PValue)
		}
	}
}

// TestEdgeCases runs Compare on the awkward columns one meets in real
// data and checks each verdict.
func TestEdgeCases(t *testing.T) {
	const n = 400
	ramp := func(i int) float64 { return float64(i) }
	cases := []struct {
		name     string
		ref, cur *frame.Column
		method   Method
		drifted  bool
		check    func(t *testing.T, c Column)
	}{
		{"NaN and Inf are left out", frame.NewNumeric("v", nums(n, ramp)),
			frame.NewNumeric("v", nums(n, func(i int) float64 {
				switch i % 10 {
				case 0:
					return math.NaN()
				case 1:
					return math.Inf(1)
				}
				return float64(i)
			})), KS, false,
			func(t *testing.T, c Column) {
				if c.CurrentValues != n*8/10 || math.Abs(c.CurrentMissing-0.2) > 1e-12 {
					t.Errorf("values %d, missing %v; want %d, 0.2", c.CurrentValues, c.CurrentMissing, n*8/10)
				}
				if last := c.Bins[len(c.Bins)-1]; last.Label != missingLabel || last.Reference != 0 {
					t.Errorf("last bin %+v; want a missing bin", last)
				}
			}},
		{"all missing in current", frame.NewNumeric("v", nums(n, ramp)),
			frame.NewNumeric("v", nums(n, func(int) float64 { return math.NaN() })), KS, true, nil},
		{"no values in reference", frame.NewNumeric("v", nums(n, func(int) float64 { return math.NaN() })),
			frame.NewNumeric("v", nums(n, ramp)), Skipped, false, nil},
		{"constant, equal", frame.NewNumeric("v", nums(n, func(int) float64 { return 3 })),
			frame.NewNumeric("v", nums(n, func(int) float64 { return 3 })), ChiSquared, false, nil},
		{"constant, changed", frame.NewNumeric("v", nums(n, func(int) float64 { return 3 })),
			frame.NewNumeric("v", nums(n, func(int) float64 { return 4 })), ChiSquared, true, nil},
		{"shifted ramp", frame.NewNumeric("v", nums(n, ramp)),
			frame.NewNumeric("v", nums(n, func(i int) float64 { return float64(i) + n/4 })), KS, true, nil},
		{"empty categories are ignored",
			frame.NewCategorical("c", codes(n, 2), []string{"a", "b", "unused"}),
			frame.NewCategorical("c", codes(n, 2), []string{"a", "b", "never"}), ChiSquared, false,
			func(t *testing.T, c Column) {
				if len(c.Bins) != 2 {
					t.Errorf("bins %+v; want a and b only", c.Bins)
				}
			}},
		{"a new category", frame.NewCategoricalFromStrings("c", labels(n, func(i int) string { return "ab"[i%2 : i%2+1] })),
			frame.NewCategoricalFromStrings("c", labels(n, func(i int) string { return "abz"[i%3 : i%3+1] })), ChiSquared, true, nil},
		{"missing categories", frame.NewCategoricalFromStrings("c", labels(n, func(i int) string { return "ab"[i%2 : i%2+1] })),
			frame.NewCategoricalFromStrings("c", labels(n, func(i int) string {
				if i%2 == 0 {
					return ""
				}
				return "b"
			})), ChiSquared, true, nil},
		{"identifiers are skipped", frame.NewCategoricalFromStrings("c", labels(n, func(i int) string { return string(rune(0x4e00 + i)) })),
			frame.NewCategoricalFromStrings("c", labels(n, func(i int) string { return string(rune(0x5e00 + i)) })), Skipped, false, nil},
		{"datetimes are skipped", frame.NewDatetime("d", nums(n, ramp)), frame.NewDatetime("d", nums(n, ramp)), Skipped, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compare(context.Background(), frame.MustNew(c.ref), frame.MustNew(c.cur), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := r.Columns[0]
			if got.Method != c.method || got.Drifted != c.drifted {
				t.Errorf("method %s drifted %v; want %s %v (%+v)", got.Method, got.Drifted, c.method, c.drifted, got)
			}
			if math.IsNaN(got.Statistic) || math.IsInf(got.Statistic, 0) || math.IsNaN(got.PSI) || math.IsInf(got.PSI, 0) {
				t.Errorf("statistic %v, PSI %v; want finite", got.Statistic, got.PSI)
			}
			if (got.Method == Skipped) != (r.Compared == 0) {
				t.Errorf("compared %d for method %s", r.Compared, got.Method)
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}

// codes returns n codes cycling through 0..k-1.
func codes(n, k int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i % k)
	}
	return out
}

func TestCompareErrors(t *testing.T) {
	x := frame.NewNumeric("x", []float64{1, 2, 3})
	y := frame.NewNumeric("y", []float64{1, 2, 3})
	yc := frame.NewCategoricalFromStrings("y", []string{"1", "2", "3"})
	ref := frame.MustNew(x, y)
	ctx := context.Background()

	_, err := Compare(ctx, ref, frame.MustNew(x), Options{})
	var mc *MissingColumnsError
	if !errors.As(err, &mc) || !slices.Equal(mc.Columns, []string{"y"}) || !strings.Contains(err.Error(), `"y"`) {
		t.Errorf("column missing in current: err = %v; want a MissingColumnsError naming y", err)
	}
	if _, err := Compare(ctx, ref, frame.MustNew(x, yc), Options{}); err == nil || !strings.Contains(err.Error(), "numeric in the reference and categorical") {
		t.Errorf("kind mismatch: err = %v", err)
	}
	if _, err := Compare(ctx, ref, ref, Options{Target: "t"}); err == nil || !strings.Contains(err.Error(), `target column "t"`) {
		t.Errorf("unknown target: err = %v", err)
	}
	empty := frame.MustNew(frame.NewNumeric("x", nil), frame.NewNumeric("y", nil))
	if _, err := Compare(ctx, ref, empty, Options{}); !errors.Is(err, ErrNoRows) {
		t.Errorf("no rows: err = %v; want ErrNoRows", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Compare(cancelled, ref, ref, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	// Extra current columns are listed, not compared.
	r, err := Compare(ctx, frame.MustNew(x), ref, Options{})
	if err != nil || !slices.Equal(r.Extra, []string{"y"}) || len(r.Columns) != 1 {
		t.Errorf("extra column: %+v, %v", r, err)
	}
}
