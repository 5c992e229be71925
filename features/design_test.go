package features

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

var nan = math.NaN()

// sameValues reports whether a and b are equal within tol (absolute or
// relative), with NaN only where the other has NaN.
func sameValues(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) {
			return false
		}
		if !math.IsNaN(a[i]) && !scalar.EqualWithinAbsOrRel(a[i], b[i], tol, tol) {
			return false
		}
	}
	return true
}

// identical reports whether a and b are bitwise equal (any NaN equals any NaN).
func identical(a, b *model.Matrix) bool {
	return a.Rows == b.Rows && a.Cols == b.Cols && sameValues(a.Data, b.Data, 0)
}

func mustFit(t testing.TB, f *frame.Frame, spec DesignSpec) *Design {
	t.Helper()
	d, err := FitDesign(context.Background(), f, spec)
	if err != nil {
		t.Fatalf("FitDesign(%+v): %v", spec, err)
	}
	return d
}

func mustMatrix(t testing.TB, d *Design, f *frame.Frame) *model.Matrix {
	t.Helper()
	m, err := d.Matrix(f)
	if err != nil {
		t.Fatalf("Matrix: %v", err)
	}
	return m
}

func unix(s string) float64 {
	tm, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return float64(tm.Unix())
}

func TestNumericFeature(t *testing.T) {
	r2 := math.Sqrt(0.5)      // population std of 1, 2, 3, 2 (3 imputed with the median 2)
	r23 := math.Sqrt(2.0 / 3) // population std of 1, 2, 3
	tests := []struct {
		name string
		v    []float64
		spec DesignSpec
		want []float64
	}{
		{"median odd", []float64{3, nan, 1, 2}, DesignSpec{}, []float64{3, 2, 1, 2}},
		{"median even", []float64{4, 1, nan, 2, 3}, DesignSpec{}, []float64{4, 1, 2.5, 2, 3}},
		{"mean", []float64{1, 2, nan, 6}, DesignSpec{NumericImpute: ImputeMean}, []float64{1, 2, 3, 6}},
		{"all missing fills 0", []float64{nan, nan}, DesignSpec{}, []float64{0, 0}},
		{"scale after impute", []float64{1, 2, 3, nan}, DesignSpec{Scale: true}, []float64{-1 / r2, 0, 1 / r2, 0}},
		{"scale keeps NaN", []float64{1, 2, 3, nan}, DesignSpec{Scale: true, Missing: true}, []float64{-1 / r23, 0, 1 / r23, nan}},
		{"constant scale 1", []float64{5, 5, nan}, DesignSpec{Scale: true}, []float64{0, 0, 0}},
		{"no impute", []float64{1, nan}, DesignSpec{Missing: true}, []float64{1, nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := frame.MustNew(frame.NewNumeric("x", tt.v))
			orig := slices.Clone(tt.v)
			d := mustFit(t, f, tt.spec)
			m := mustMatrix(t, d, f)
			if !sameValues(m.Data, tt.want, 1e-12) {
				t.Errorf("Matrix = %v; want %v", m.Data, tt.want)
			}
			if !sameValues(tt.v, orig, 0) {
				t.Errorf("input modified: %v; was %v", tt.v, orig)
			}
		})
	}
}

func TestCategoricalEncoding(t *testing.T) {
	// Byte order: "A" < "__missing__" < "b" < "c" ('A' 0x41, '_' 0x5f,
	// 'b' 0x62), as Python sorts str.
	full := []string{"b", "A", "", "b", "c"}
	test := []string{"A", "", "zz", "c", "b"}
	tests := []struct {
		name      string
		train     []string
		spec      DesignSpec
		wantNames []string
		want      []float64 // rows of test, row-major
	}{
		{"ordinal level", full, DesignSpec{}, []string{"h"}, []float64{0, 1, -1, 3, 2}},
		{"ordinal unseen missing", []string{"b", "A", "c"}, DesignSpec{}, []string{"h"}, []float64{0, -1, -1, 2, 1}},
		{"one-hot level", full, DesignSpec{OneHot: true},
			[]string{"h_A", "h___missing__", "h_b", "h_c"},
			[]float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0}},
		{"one-hot unseen missing", []string{"b", "A"}, DesignSpec{OneHot: true},
			[]string{"h_A", "h_b"}, []float64{1, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"mode", full, DesignSpec{CategoricalMissing: MissingAsMode}, []string{"h"}, []float64{0, 1, -1, 2, 1}},
		{"mode tie takes smallest", []string{"c", "b", ""}, DesignSpec{CategoricalMissing: MissingAsMode}, []string{"h"},
			[]float64{-1, 0, -1, 1, 0}},
		{"mode all missing", []string{"", ""}, DesignSpec{CategoricalMissing: MissingAsMode}, []string{"h"},
			[]float64{-1, 0, -1, -1, -1}},
		{"nan ordinal", full, DesignSpec{Missing: true, CategoricalMissing: MissingAsNaN}, []string{"h"},
			[]float64{0, nan, -1, 2, 1}},
		{"nan one-hot", full, DesignSpec{OneHot: true, CategoricalMissing: MissingAsNaN},
			[]string{"h_A", "h_b", "h_c"}, []float64{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0}},
		{"one-hot cap pools rare levels", []string{"a", "a", "a", "b", "b", "c", "A", ""}, DesignSpec{OneHot: true, MaxOneHotLevels: 2},
			// kept a (3), b (2); pooled A, c, __missing__ (1 each)
			// test: A, missing, c → other; zz unseen → other too (as a
			// rare label, see TestUnseenLabelJoinsPool); b → h_b
			[]string{"h___other__", "h_a", "h_b"}, []float64{1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1}},
		{"cap ignored by ordinal", []string{"a", "a", "b", "c"}, DesignSpec{MaxOneHotLevels: 1}, []string{"h"},
			[]float64{-1, -1, -1, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustFit(t, frame.MustNew(frame.NewCategoricalFromStrings("h", tt.train)), tt.spec)
			if got := d.FeatureNames(); !slices.Equal(got, tt.wantNames) {
				t.Fatalf("FeatureNames() = %q; want %q", got, tt.wantNames)
			}
			wantCat := !tt.spec.OneHot
			for j, c := range d.Categorical() {
				if c != wantCat {
					t.Errorf("Categorical()[%d] = %v; want %v", j, c, wantCat)
				}
			}
			// The test frame has its own code table (other levels, other codes).
			m := mustMatrix(t, d, frame.MustNew(frame.NewCategoricalFromStrings("h", test)))
			if !sameValues(m.Data, tt.want, 0) {
				t.Errorf("Matrix = %v; want %v", m.Data, tt.want)
			}
		})
	}
}

func TestCategoricalMapsByLabel(t *testing.T) {
	train := frame.MustNew(frame.NewCategorical("h", []int32{0, 1, 2}, []string{"x", "y", "z"}))
	// Same labels, reversed code table, plus a level only the test frame knows.
	test := frame.MustNew(frame.NewCategorical("h", []int32{0, 1, 2, 3}, []string{"z", "new", "y", "x"}))
	d := mustFit(t, train, DesignSpec{})
	m := mustMatrix(t, d, test)
	if want := []float64{2, -1, 1, 0}; !sameValues(m.Data, want, 0) {
		t.Errorf("Matrix = %v; want %v", m.Data, want)
	}
}

func TestDatetimeExpansion(t *testing.T) {
	tests := []struct {
		name      string
		train     []float64
		wantNames []string
		want      []float64 // rows of train, row-major
	}{
		{
			"daily",
			// Mon 2024-01-15, Thu 2024-02-29, missing, Sun 2023-12-31, Wed 1969-12-31
			[]float64{unix("2024-01-15"), unix("2024-02-29"), nan, unix("2023-12-31"), unix("1969-12-31")},
			[]string{"d_year", "d_month", "d_dow"},
			// missing row: medians of years {2024, 2024, 2023, 1969} = 2023.5,
			// months {1, 2, 12, 12} = 7, weekdays {0, 3, 6, 2} = 2.5
			[]float64{2024, 1, 0, 2024, 2, 3, 2023.5, 7, 2.5, 2023, 12, 6, 1969, 12, 2},
		},
		{
			"monthly",
			[]float64{unix("2024-01-01"), nan, unix("2023-12-01"), unix("2010-07-01")},
			[]string{"d_year", "d_month"},
			[]float64{2024, 1, 2023, 7, 2023, 12, 2010, 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := frame.MustNew(frame.NewDatetime("d", tt.train))
			d := mustFit(t, f, DesignSpec{})
			if got := d.FeatureNames(); !slices.Equal(got, tt.wantNames) {
				t.Fatalf("FeatureNames() = %q; want %q", got, tt.wantNames)
			}
			if got := mustMatrix(t, d, f); !sameValues(got.Data, tt.want, 0) {
				t.Errorf("Matrix = %v; want %v", got.Data, tt.want)
			}
		})
	}
	// With Missing, a missing datetime stays NaN in every part.
	f := frame.MustNew(frame.NewDatetime("d", []float64{unix("2024-01-15"), nan}))
	if got, want := mustMatrix(t, mustFit(t, f, DesignSpec{Missing: true}), f), []float64{2024, 1, 0, nan, nan, nan}; !sameValues(got.Data, want, 0) {
		t.Errorf("Missing: Matrix = %v; want %v", got.Data, want)
	}
	// A monthly design stays monthly on daily test data.
	d := mustFit(t, frame.MustNew(frame.NewDatetime("d", []float64{unix("2024-01-01"), unix("2024-03-01")})), DesignSpec{})
	got := mustMatrix(t, d, frame.MustNew(frame.NewDatetime("d", []float64{unix("2025-05-17")})))
	if want := []float64{2025, 5}; !sameValues(got.Data, want, 0) {
		t.Errorf("monthly design on a daily date = %v; want %v", got.Data, want)
	}
}

func TestCivil(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		// Seconds from about year -2000 to 4000, and fractional ones.
		sec := (r.Float64()*2 - 1) * 1.3e11
		if r.IntN(2) == 0 {
			sec = math.Floor(sec)
		}
		y, m, d, wd, ok := civil(sec)
		tm := time.Unix(int64(math.Floor(sec)), 0).UTC()
		wantWd := (int64(tm.Weekday()) + 6) % 7 // Monday = 0
		if !ok || y != int64(tm.Year()) || m != int64(tm.Month()) || d != int64(tm.Day()) || wd != wantWd {
			t.Fatalf("civil(%v) = %d-%d-%d wd %d ok %v; want %s wd %d", sec, y, m, d, wd, ok, tm.Format(time.DateOnly), wantWd)
		}
	}
	for _, bad := range []float64{math.Inf(1), 1e16, -1e16} {
		if _, _, _, _, ok := civil(bad); ok {
			t.Errorf("civil(%g) ok; want out of range", bad)
		}
	}
}

// mixedFrame returns a frame with numeric, categorical and datetime columns
// and missing values in each.
func mixedFrame(num []float64, cat []string, dates []float64) *frame.Frame {
	return frame.MustNew(
		frame.NewNumeric("x", num),
		frame.NewCategoricalFromStrings("h", cat),
		frame.NewDatetime("d", dates),
		frame.NewNumeric("y", slices.Repeat([]float64{1, 2}, len(num)/2)),
	)
}

func TestFitUsesTrainingRowsOnly(t *testing.T) {
	num := []float64{1, 2, nan, 4, 5, 6, 7, 8}
	cat := []string{"a", "b", "", "a", "b", "a", "c", "a"}
	dates := []float64{unix("2020-01-02"), nan, unix("2021-03-04"), unix("2022-05-06"), unix("2020-01-09"), unix("2020-02-03"), unix("2024-01-01"), unix("2019-01-01")}
	train := []int{0, 1, 2, 3, 4, 5}
	a := mixedFrame(num, cat, dates)

	// Change only the test rows (6, 7): other values, new and missing labels.
	num2, cat2, dates2 := slices.Clone(num), slices.Clone(cat), slices.Clone(dates)
	num2[6], num2[7] = 1e6, nan
	cat2[6], cat2[7] = "new", "zzz"
	dates2[6], dates2[7] = unix("1999-09-09"), nan
	b := mixedFrame(num2, cat2, dates2)

	for _, spec := range []DesignSpec{{}, {OneHot: true, Scale: true}, {Missing: true, Scale: true, CategoricalMissing: MissingAsNaN}} {
		da := mustFit(t, a.Take(train), spec)
		db := mustFit(t, b.Take(train), spec)
		ja, _ := json.Marshal(da)
		jb, _ := json.Marshal(db)
		if string(ja) != string(jb) {
			t.Errorf("spec %+v: design depends on test rows:\n%s\n%s", spec, ja, jb)
		}
		for _, name := range da.FeatureNames() {
			if strings.Contains(name, "new") || strings.Contains(name, "zzz") {
				t.Errorf("spec %+v: feature %q learned from a test-only level", spec, name)
			}
		}
		// Same: fitting on the whole frame would differ, so the test above can fail.
		dAll := mustFit(t, b, spec)
		if jAll, _ := json.Marshal(dAll); string(jAll) == string(ja) {
			t.Errorf("spec %+v: fitting on all rows gives the training-only design; test is vacuous", spec)
		}
	}
}

func TestColumnOrderIndependence(t *testing.T) {
	num := []float64{1, nan, 3, 4}
	cat := []string{"a", "", "b", "a"}
	dates := []float64{unix("2020-01-02"), nan, unix("2021-03-04"), unix("2022-05-06")}
	f := mixedFrame(num, cat, dates)
	other := frame.MustNew(
		frame.NewNumeric("y", []float64{1, 2, 1, 2}),
		frame.NewCategoricalFromStrings("extra", []string{"p", "q", "r", "s"}),
		frame.NewDatetime("d", dates),
		frame.NewCategorical("h", []int32{1, -1, 0, 1}, []string{"b", "a"}),
		frame.NewNumeric("x", num),
	)
	for _, spec := range []DesignSpec{{}, {OneHot: true, Scale: true}} {
		d := mustFit(t, f, spec)
		if got, want := d.InputColumns(), []string{"x", "h", "d", "y"}; !slices.Equal(got, want) {
			t.Errorf("InputColumns() = %q; want %q", got, want)
		}
		if a, b := mustMatrix(t, d, f), mustMatrix(t, d, other); !identical(a, b) {
			t.Errorf("spec %+v: reordered frame gives %v; want %v", spec, b.Data, a.Data)
		}
	}
}

func TestOutputOrder(t *testing.T) {
	f := frame.MustNew(
		frame.NewCategoricalFromStrings("c1", []string{"u", "v"}),
		frame.NewDatetime("d", []float64{unix("2020-01-02"), unix("2020-01-03")}),
		frame.NewNumeric("n1", []float64{1, 2}),
		frame.NewCategoricalFromStrings("c2", []string{"w", ""}),
		frame.NewNumeric("n2", []float64{3, 4}),
	)
	d := mustFit(t, f, DesignSpec{})
	// Numeric, then datetime expansions, then categorical: the peers' ColumnTransformer order.
	if got, want := d.FeatureNames(), []string{"n1", "n2", "d_year", "d_month", "d_dow", "c1", "c2"}; !slices.Equal(got, want) {
		t.Errorf("FeatureNames() = %q; want %q", got, want)
	}
	if got, want := d.Categorical(), []bool{false, false, false, false, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("Categorical() = %v; want %v", got, want)
	}
	if got, want := d.FeatureColumns(), []string{"n1", "n2", "d", "d", "d", "c1", "c2"}; !slices.Equal(got, want) {
		t.Errorf("FeatureColumns() = %q; want %q", got, want)
	}
	oh := mustFit(t, f, DesignSpec{OneHot: true})
	if got, want := oh.FeatureColumns(), []string{"n1", "n2", "d", "d", "d", "c1", "c1", "c2", "c2"}; !slices.Equal(got, want) {
		t.Errorf("one-hot FeatureColumns() = %q (features %q); want %q", got, oh.FeatureNames(), want)
	}
}

func TestMatrixErrors(t *testing.T) {
	d := mustFit(t, frame.MustNew(
		frame.NewNumeric("a", []float64{1, 2}),
		frame.NewCategoricalFromStrings("b", []string{"x", "y"}),
	), DesignSpec{})
	goodA := frame.NewNumeric("a", []float64{1, 2})
	tests := []struct {
		name     string
		x        *frame.Frame
		missing  string // column a *MissingColumnError must name
		column   string // column a *ColumnError must name
		wrongKnd bool
	}{
		{"missing column", frame.MustNew(goodA), "b", "", false},
		{"wrong kind", frame.MustNew(goodA, frame.NewNumeric("b", []float64{1, 2})), "", "b", true},
		{"datetime for numeric", frame.MustNew(frame.NewDatetime("a", []float64{1, 2}), frame.NewCategoricalFromStrings("b", []string{"x", "y"})), "", "a", true},
		{"code out of range", frame.MustNew(goodA, frame.NewCategorical("b", []int32{0, 5}, []string{"x"})), "", "b", false},
		{"negative code", frame.MustNew(goodA, frame.NewCategorical("b", []int32{-2, 0}, []string{"x"})), "", "b", false},
		{"infinite value", frame.MustNew(frame.NewNumeric("a", []float64{1, math.Inf(-1)}), frame.NewCategoricalFromStrings("b", []string{"x", "y"})), "", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := d.Matrix(tt.x)
			if err == nil {
				t.Fatalf("Matrix = %v; want error", m)
			}
			var mce *MissingColumnError
			var ce *ColumnError
			switch {
			case tt.missing != "":
				if !errors.As(err, &mce) || mce.Column != tt.missing {
					t.Errorf("Matrix error %v; want *MissingColumnError for %q", err, tt.missing)
				}
			case !errors.As(err, &ce) || ce.Column != tt.column:
				t.Errorf("Matrix error %v; want *ColumnError for %q", err, tt.column)
			}
			if got := errors.Is(err, ErrWrongKind); got != tt.wrongKnd {
				t.Errorf("errors.Is(%v, ErrWrongKind) = %v; want %v", err, got, tt.wrongKnd)
			}
		})
	}
}

func TestFitDesignErrors(t *testing.T) {
	ok := frame.MustNew(frame.NewNumeric("a", []float64{1, 2}))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		f    *frame.Frame
		spec DesignSpec
		is   error  // if set, errors.Is must hold
		msg  string // if set, the message must contain it
	}{
		{"empty", context.Background(), frame.MustNew(frame.NewNumeric("a", nil)), DesignSpec{}, ErrEmpty, ""},
		{"nil frame", context.Background(), nil, DesignSpec{}, ErrEmpty, ""},
		{"bad impute", context.Background(), ok, DesignSpec{NumericImpute: "mode"}, nil, "numeric imputation"},
		{"bad missing", context.Background(), ok, DesignSpec{CategoricalMissing: "drop"}, nil, "categorical missing"},
		{"nan needs Missing", context.Background(), ok, DesignSpec{CategoricalMissing: MissingAsNaN}, nil, "needs Missing"},
		{"negative cap", context.Background(), ok, DesignSpec{MaxOneHotLevels: -1}, nil, "MaxOneHotLevels"},
		{"infinite", context.Background(), frame.MustNew(frame.NewNumeric("a", []float64{1, math.Inf(1)})), DesignSpec{}, nil, `column "a": row 1: infinite`},
		{"bad code", context.Background(), frame.MustNew(frame.NewCategorical("c", []int32{0, 3}, []string{"x"})), DesignSpec{}, nil, `column "c": row 1: code 3`},
		{"bad datetime", context.Background(), frame.MustNew(frame.NewDatetime("d", []float64{1e300})), DesignSpec{}, nil, `column "d": row 0: datetime`},
		{"all dropped", context.Background(), ok, DesignSpec{DropColumns: []string{"a"}}, nil, "no features"},
		{"cancelled", cancelled, ok, DesignSpec{}, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := FitDesign(tt.ctx, tt.f, tt.spec)
			if err == nil {
				t.Fatalf("FitDesign = %v; want error", d)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("FitDesign error %v; want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("FitDesign error %q; want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestDropColumns(t *testing.T) {
	f := frame.MustNew(frame.NewNumeric("a", []float64{1, 2}), frame.NewCategoricalFromStrings("id", []string{"p", "q"}))
	d := mustFit(t, f, DesignSpec{DropColumns: []string{"id", "absent"}})
	if got := d.InputColumns(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("InputColumns() = %q; want [a]", got)
	}
	// A frame without the dropped column is fine.
	if _, err := d.Matrix(frame.MustNew(frame.NewNumeric("a", []float64{3}))); err != nil {
		t.Errorf("Matrix without dropped column: %v", err)
	}
	if got := IDLikeColumns(f); !slices.Equal(got, []string{"id"}) {
		t.Errorf("IDLikeColumns() = %q; want [id]", got)
	}
	g := frame.MustNew(frame.NewCategoricalFromStrings("id", []string{"p", ""}), frame.NewCategoricalFromStrings("k", []string{"p", "p"}))
	if got := IDLikeColumns(g); len(got) != 0 {
		t.Errorf("IDLikeColumns() = %q; want none (missing value, repeated value)", got)
	}
}

func TestDesignJSONRoundTrip(t *testing.T) {
	train := frame.MustNew(
		frame.NewNumeric("x", []float64{1.1, nan, 3.3, 1e-7, 2}),
		frame.NewCategoricalFromStrings("h", []string{"a", "b", "", "a", "c"}),
		frame.NewDatetime("d", []float64{unix("2020-01-02"), nan, unix("2021-03-04"), unix("2022-05-06"), unix("2023-01-01")}),
		frame.NewDatetime("m", []float64{unix("2020-01-01"), unix("2020-02-01"), nan, unix("2022-05-01"), unix("2023-01-01")}),
		frame.NewCategoricalFromStrings("k", []string{"u", "u", "v", "w", "u"}),
	)
	test := frame.MustNew(
		frame.NewCategoricalFromStrings("k", []string{"w", "", "zz"}),
		frame.NewNumeric("x", []float64{nan, 7, -2}),
		frame.NewCategoricalFromStrings("h", []string{"", "c", "new"}),
		frame.NewDatetime("d", []float64{nan, unix("2030-12-25"), unix("1990-06-15")}),
		frame.NewDatetime("m", []float64{unix("2019-03-01"), nan, unix("2024-08-01")}),
	)
	specs := []DesignSpec{
		{},
		{OneHot: true, Scale: true},
		{Missing: true, CategoricalMissing: MissingAsNaN},
		{OneHot: true, CategoricalMissing: MissingAsMode, MaxOneHotLevels: 1, NumericImpute: ImputeMean},
		{Scale: true, Missing: true, DropColumns: []string{"k"}},
	}
	for _, spec := range specs {
		d := mustFit(t, train, spec)
		data, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("spec %+v: Marshal: %v", spec, err)
		}
		var back Design
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("spec %+v: Unmarshal(%s): %v", spec, data, err)
		}
		for _, x := range []*frame.Frame{train, test} {
			if a, b := mustMatrix(t, d, x), mustMatrix(t, &back, x); !identical(a, b) {
				t.Errorf("spec %+v: decoded design gives %v; want %v", spec, b.Data, a.Data)
			}
		}
		if !slices.Equal(d.FeatureNames(), back.FeatureNames()) || !slices.Equal(d.Categorical(), back.Categorical()) ||
			!slices.Equal(d.InputColumns(), back.InputColumns()) {
			t.Errorf("spec %+v: decoded names/flags/inputs differ", spec)
		}
		again, _ := json.Marshal(&back)
		if string(again) != string(data) {
			t.Errorf("spec %+v: re-encoding differs:\n%s\n%s", spec, again, data)
		}
	}
}

func TestDesignUnmarshalRejects(t *testing.T) {
	tests := []struct{ name, data string }{
		{"not json", `{`},
		{"version", `{"version":4,"spec":{},"columns":[{"name":"x","kind":"numeric","features":[{"part":"value","fill":0,"mean":0,"scale":1}]}]}`},
		{"bad spec", `{"version":1,"spec":{"numeric_impute":"max"},"columns":[{"name":"x","kind":"numeric","features":[{"part":"value","fill":0,"mean":0,"scale":1}]}]}`},
		{"unknown kind", `{"version":1,"spec":{},"columns":[{"name":"x","kind":"text"}]}`},
		{"no columns", `{"version":1,"spec":{},"columns":[]}`},
		{"duplicate", `{"version":1,"spec":{},"columns":[{"name":"x","kind":"categorical","levels":["a"]},{"name":"x","kind":"categorical","levels":["a"]}]}`},
		{"zero scale", `{"version":1,"spec":{},"columns":[{"name":"x","kind":"numeric","features":[{"part":"value","fill":0,"mean":0,"scale":0}]}]}`},
		{"wrong part", `{"version":1,"spec":{},"columns":[{"name":"x","kind":"numeric","features":[{"part":"year","fill":0,"mean":0,"scale":1}]}]}`},
		{"datetime one part", `{"version":1,"spec":{},"columns":[{"name":"d","kind":"datetime","features":[{"part":"year","fill":0,"mean":0,"scale":1}]}]}`},
		{"duplicate level", `{"version":1,"spec":{},"columns":[{"name":"c","kind":"categorical","levels":["a","a"]}]}`},
		{"pool without other", `{"version":1,"spec":{},"columns":[{"name":"c","kind":"categorical","levels":["a"],"pooled":["b"]}]}`},
		{"numeric with levels", `{"version":1,"spec":{},"columns":[{"name":"x","kind":"numeric","levels":["a"],"features":[{"part":"value","fill":0,"mean":0,"scale":1}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Design
			if err := json.Unmarshal([]byte(tt.data), &d); err == nil {
				t.Errorf("Unmarshal(%s) succeeded; want error", tt.data)
			}
		})
	}
}

func TestConcurrentMatrix(t *testing.T) {
	f := mixedFrame([]float64{1, nan, 3, 4}, []string{"a", "", "b", "a"},
		[]float64{unix("2020-01-02"), nan, unix("2021-03-04"), unix("2022-05-06")})
	d := mustFit(t, f, DesignSpec{OneHot: true, Scale: true})
	want := mustMatrix(t, d, f)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			m, err := d.Matrix(f)
			if err == nil && !identical(m, want) {
				err = errors.New("concurrent Matrix differs")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
