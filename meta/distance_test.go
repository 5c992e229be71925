package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

func TestScalerSpread(t *testing.T) {
	var known []*Features
	for _, rows := range []float64{100, 200, 400, 800, 1600} {
		known = append(known, &Features{Task: model.Regression, Values: map[string]float64{Rows: rows, NumericShare: 0.5}})
	}
	s := NewScaler(known)
	// ln rows are ln 100 + k ln 2, k = 0..4: quartiles at k = 1 and 3, so
	// the IQR is 2 ln 2.
	if got, want := s.Scale(Rows), 2*math.Ln2/1.349; math.Abs(got-want) > 1e-12 {
		t.Errorf("Scale(rows) = %v; want %v", got, want)
	}
	// The numeric share is the same everywhere: its floor applies.
	if got := s.Scale(NumericShare); got != 0.05 {
		t.Errorf("Scale(numeric_share) = %v; want the floor 0.05", got)
	}
	// Known on fewer than MinKnownForSpread datasets: the default.
	if got := NewScaler(known[:4]).Scale(Rows); got != 1 {
		t.Errorf("Scale(rows) of 4 datasets = %v; want the default 1", got)
	}
	a, b := known[0], known[4]
	// Rows differ by 4 ln 2 = 2 IQRs·1.349 and the share not at all: the
	// weighted mean over the two (weights 1 and 1) is half of that.
	if got, want := s.Distance(a, b), 4*math.Ln2/s.Scale(Rows)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("Distance = %v; want %v", got, want)
	}
	if s.Distance(a, b) != s.Distance(b, a) || s.Distance(a, a) != 0 {
		t.Error("distance is not symmetric or not 0 to itself")
	}
	c := &Features{Task: model.Binary, Values: a.Values}
	if !math.IsInf(s.Distance(a, c), 1) {
		t.Error("datasets of different tasks are not infinitely far")
	}
}

func TestFarThresholdRule(t *testing.T) {
	s := Scaler{specs: []Spec{{Name: Rows, transform: identity, Weight: 1}}, scale: map[string]float64{Rows: 1}}
	var known []*Features
	// Pairs at distance 1 from each other, pairs 10 apart: every
	// leave-one-out nearest distance is 1, so the fence is 1.
	for _, v := range []float64{0, 1, 10, 11, 20, 21} {
		known = append(known, &Features{Task: model.Regression, Values: map[string]float64{Rows: v}})
	}
	if th, _ := FarThreshold(s, known); th != 1 {
		t.Errorf("threshold = %v; want 1", th)
	}
	if th, _ := FarThreshold(s, known[:4]); th != DefaultFarThreshold {
		t.Errorf("threshold of 4 known = %v; want the default", th)
	}
}

// regressionCorpus returns the meta-features of real regression tables of
// testdata (several targets of the same files are distinct problems).
func regressionCorpus(t *testing.T) map[string]*pipeline.TrainingTable {
	out := map[string]*pipeline.TrainingTable{}
	for _, c := range []struct{ file, target string }{
		{"ames.csv", "Sale_Price"}, {"ames.csv", "Gr_Liv_Area"}, {"ames.csv", "Lot_Area"},
		{"txhousing.csv", "sales"}, {"txhousing.csv", "volume"}, {"txhousing.csv", "median"}, {"txhousing.csv", "listings"},
		{"corpus/ggplot2_mpg.csv", "hwy"}, {"corpus/ggplot2_mpg.csv", "displ"},
	} {
		out[c.file+"/"+c.target] = loadTable(t, c.file, c.target)
	}
	return out
}

// unlikeTable is unlike any tabular benchmark: few rows, many
// high-cardinality categorical columns with 40% missing cells, and a
// Cauchy target.
func unlikeTable(seed uint64) *pipeline.TrainingTable {
	rng := rand.New(rand.NewPCG(seed, 2))
	const n, p = 150, 60
	cols := make([]*frame.Column, p)
	for j := range cols {
		codes := make([]int32, n)
		levels := make([]string, 100)
		for l := range levels {
			levels[l] = fmt.Sprint("v", l)
		}
		for i := range codes {
			codes[i] = int32(rng.IntN(100))
			if rng.Float64() < 0.4 {
				codes[i] = -1
			}
		}
		cols[j] = frame.NewCategorical(fmt.Sprint("c", j), codes, levels)
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = math.Tan(math.Pi * (rng.Float64() - 0.5))
	}
	return &pipeline.TrainingTable{X: frame.MustNew(cols...), Y: y, Task: model.Regression}
}

// TestFarFromKnown fills a knowledge base with real regression tables and
// checks that a synthetic table unlike them is far from known, while a
// sample of a known table (another dataset version) is near, with its
// source as nearest neighbour.
func TestFarFromKnown(t *testing.T) {
	ctx := context.Background()
	kb := &KB{Records: openSQLite(t)}
	o := Options{StatRows: 5000, LandmarkRows: 500}
	for name, tab := range regressionCorpus(t) {
		f, err := Compute(ctx, tab, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := kb.PutDataset(ctx, &Dataset{Key: name, Name: name, Task: tab.Task, Features: f, Metric: "r2", HigherIsBetter: true}); err != nil {
			t.Fatal(err)
		}
	}
	far, err := Compute(ctx, unlikeTable(1), o)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Advise(ctx, kb, far, AdviseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unlike table: nearest %.3f, threshold %.3f (%s)", *a.Nearest, a.Threshold, a.Rule)
	if !a.Far || a.Known != 9 {
		t.Errorf("unlike table: far %v (nearest %v, threshold %v, %d known); want far", a.Far, *a.Nearest, a.Threshold, a.Known)
	}

	ames := loadTable(t, "ames.csv", "Sale_Price")
	rows := make([]int, 0, ames.X.NumRows()/2)
	for i := 0; i < ames.X.NumRows(); i += 2 {
		rows = append(rows, i)
	}
	half := &pipeline.TrainingTable{X: ames.X.Take(rows), Task: ames.Task, Y: make([]float64, len(rows))}
	for k, i := range rows {
		half.Y[k] = ames.Y[i]
	}
	near, err := Compute(ctx, half, o)
	if err != nil {
		t.Fatal(err)
	}
	a, err = Advise(ctx, kb, near, AdviseOptions{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("half of ames: nearest %.3f (%s), threshold %.3f", *a.Nearest, a.Neighbours[0].Key, a.Threshold)
	if a.Far || len(a.Neighbours) != 3 || a.Neighbours[0].Key != "ames.csv/Sale_Price" {
		t.Errorf("half of ames: far %v, nearest %v, threshold %v, neighbours %+v; want near ames.csv/Sale_Price", a.Far, *a.Nearest, a.Threshold, a.Neighbours)
	}
}

// TestScalerOverflow builds a scaler from meta-features a hostile
// knowledge base file can hold (numbers a float holds, whose differences
// it does not): the quartiles interpolated 0·(+Inf) to NaN, the spread
// was NaN and so was every distance on the feature, which sorted
// neighbours arbitrarily and made the advice unencodable. Spreads stay
// finite; distances are finite or +Inf, never NaN.
func TestScalerOverflow(t *testing.T) {
	var known []*Features
	for _, v := range []float64{-1e308, -1e308, 1e308, 1e308, 1e308} {
		known = append(known, &Features{Task: model.Regression, Values: map[string]float64{NumericShare: v}})
	}
	s := NewScaler(known)
	if sc := s.Scale(NumericShare); math.IsNaN(sc) || math.IsInf(sc, 0) || sc <= 0 {
		t.Fatalf("Scale(numeric_share) = %v; want a finite positive spread", sc)
	}
	for _, a := range known {
		for _, b := range known {
			if d := s.Distance(a, b); math.IsNaN(d) || d < 0 {
				t.Errorf("Distance(%v, %v) = %v; want a distance", a.Values, b.Values, d)
			}
		}
	}
	if th, _ := FarThreshold(s, known); math.IsNaN(th) || math.IsInf(th, 0) {
		t.Errorf("threshold = %v; want a finite one", th)
	}
	if got := quantile([]float64{-1e308, 1e308}, 0.5); got != 0 {
		t.Errorf("median of ±1e308 = %v; want 0", got)
	}
}
