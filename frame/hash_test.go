package frame

import (
	"math"
	"slices"
	"testing"
)

func hashBase() *Frame {
	return MustNew(
		NewNumeric("x", []float64{1, math.NaN(), 2.5}),
		NewCategorical("c", []int32{0, -1, 1}, []string{"a", "b"}),
		NewDatetime("d", []float64{0, 86400, math.NaN()}),
	)
}

// TestHashGolden pins the canonical encoding: if this fails, dataset ids
// changed, so every cached result keyed by them is orphaned. Change the
// encoding only together with hashVersion, then update the value.
func TestHashGolden(t *testing.T) {
	// Computed by this implementation (encoding tabforge/frame/v1).
	const want = "08d08a5de5c77aaba63feaad4aa89b72a6a9e936e346ba01b2ecd97d6f8eeaea"
	if got := hashBase().Hash(); got != want {
		t.Errorf("Hash() = %s; want %s", got, want)
	}
}

func TestHashInvariance(t *testing.T) {
	base := hashBase().Hash()
	otherNaN := math.Float64frombits(0x7ff8000000000bad)
	tests := []struct {
		name string
		f    *Frame
	}{
		{"other NaN payload", MustNew(
			NewNumeric("x", []float64{1, otherNaN, 2.5}),
			NewCategorical("c", []int32{0, -1, 1}, []string{"a", "b"}),
			NewDatetime("d", []float64{0, 86400, -otherNaN}),
		)},
		{"negative zero", MustNew(
			NewNumeric("x", []float64{1, math.NaN(), 2.5}),
			NewCategorical("c", []int32{0, -1, 1}, []string{"a", "b"}),
			NewDatetime("d", []float64{math.Copysign(0, -1), 86400, math.NaN()}),
		)},
		{"level order and unused levels", MustNew(
			NewNumeric("x", []float64{1, math.NaN(), 2.5}),
			NewCategorical("c", []int32{2, -1, 0}, []string{"b", "zzz", "a"}),
			NewDatetime("d", []float64{0, 86400, math.NaN()}),
		)},
		{"take of a larger frame", MustNew(
			NewNumeric("x", []float64{9, 1, math.NaN(), 2.5}),
			NewCategorical("c", []int32{1, 0, -1, 1}, []string{"a", "b"}),
			NewDatetime("d", []float64{9, 0, 86400, math.NaN()}),
		).Take([]int{1, 2, 3})},
	}
	for _, tt := range tests {
		if got := tt.f.Hash(); got != base {
			t.Errorf("%s: hash %s; want %s (same data)", tt.name, got, base)
		}
	}
}

func TestHashSensitivity(t *testing.T) {
	base := hashBase()
	with := func(c *Column) *Frame {
		f, err := base.With(c)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name string
		f    *Frame
	}{
		{"numeric value", with(NewNumeric("x", []float64{1, math.NaN(), 2.5000000000000004}))},
		{"numeric missing", with(NewNumeric("x", []float64{1, 0, 2.5}))},
		{"label", with(NewCategorical("c", []int32{0, -1, 1}, []string{"a", "B"}))},
		{"missing label vs empty label", with(NewCategorical("c", []int32{0, 2, 1}, []string{"a", "b", ""}))},
		{"labels concatenation", with(NewCategorical("c", []int32{0, -1, 1}, []string{"ab", ""}))},
		{"datetime value", with(NewDatetime("d", []float64{0, 86401, math.NaN()}))},
		{"kind", with(NewNumeric("d", []float64{0, 86400, math.NaN()}))},
		{"name", MustNew(NewNumeric("y", base.Col(0).Num), base.Col(1), base.Col(2))},
		{"column order", MustNew(base.Col(1), base.Col(0), base.Col(2))},
		{"row order", base.Take([]int{1, 0, 2})},
		{"fewer rows", base.Take([]int{0, 1})},
		{"fewer columns", base.Drop("d")},
	}
	seen := map[string]string{base.Hash(): "base"}
	for _, tt := range tests {
		h := tt.f.Hash()
		if prev, dup := seen[h]; dup {
			t.Errorf("%s: hash equals that of %s", tt.name, prev)
		}
		seen[h] = tt.name
	}
}

func TestSchemaDescribe(t *testing.T) {
	f := hashBase()
	want := []Field{{"x", Numeric}, {"c", Categorical}, {"d", Datetime}}
	if got := f.Schema(); !slices.Equal(got, want) {
		t.Errorf("Schema() = %v; want %v", got, want)
	}
	s := f.Describe()
	if s[0].Missing != 1 || s[0].Min != 1 || s[0].Max != 2.5 || s[1].Missing != 1 || s[1].Distinct != 2 || s[2].Max != 86400 {
		t.Errorf("Describe() = %+v", s)
	}
	if k := f.KindMap(); len(k) != 3 || k["d"] != Datetime {
		t.Errorf("KindMap() = %v", k)
	}
}

func TestTakeDropWith(t *testing.T) {
	f := readTestdata(t, "credit_data.csv")
	rows := []int{10, 0, 10, 4453}
	g := f.Take(rows)
	if g.NumRows() != len(rows) || g.NumCols() != f.NumCols() {
		t.Fatalf("Take: shape %d×%d", g.NumRows(), g.NumCols())
	}
	inc, _ := f.Lookup("Income")
	gInc, _ := g.Lookup("Income")
	status, _ := f.Lookup("Status")
	gStatus, _ := g.Lookup("Status")
	for i, r := range rows {
		same := inc.Num[r] == gInc.Num[i] || (math.IsNaN(inc.Num[r]) && math.IsNaN(gInc.Num[i]))
		if !same || status.Label(r) != gStatus.Label(i) {
			t.Errorf("Take row %d (source %d) differs", i, r)
		}
	}
	if g.Hash() != f.Take(rows).Hash() || g.Hash() == f.Take([]int{0, 10, 10, 4453}).Hash() {
		t.Error("Take hash: same rows must match, reordered rows must not")
	}

	d := f.Drop("Income", "nope", "Status")
	if d.NumCols() != f.NumCols()-2 || d.NumRows() != f.NumRows() {
		t.Errorf("Drop: shape %d×%d", d.NumRows(), d.NumCols())
	}
	if _, ok := d.Lookup("Income"); ok {
		t.Error("Drop kept Income")
	}
	if _, ok := f.Lookup("Income"); !ok {
		t.Error("Drop modified its input")
	}

	w, err := f.With(NewNumeric("Income", make([]float64, f.NumRows())))
	if err != nil {
		t.Fatal(err)
	}
	if w.NumCols() != f.NumCols() || w.Names()[9] != "Income" {
		t.Errorf("With replace: names %v", w.Names())
	}
	if w.Hash() == f.Hash() {
		t.Error("With replace did not change the hash")
	}
	w, err = f.With(NewNumeric("new", make([]float64, f.NumRows())))
	if err != nil || w.NumCols() != f.NumCols()+1 {
		t.Errorf("With append: %v, %d columns", err, w.NumCols())
	}
	if _, err := f.With(NewNumeric("short", []float64{1})); err == nil {
		t.Error("With accepted a column of the wrong length")
	}
}

func BenchmarkHash(b *testing.B) {
	f := readTestdata(b, "ames.csv")
	b.ReportAllocs()
	for b.Loop() {
		f.Hash()
	}
}
