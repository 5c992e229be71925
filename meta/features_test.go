package meta

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// loadTable reads testdata/name with target as a run would.
func loadTable(t testing.TB, name, target string) *pipeline.TrainingTable {
	t.Helper()
	f, err := frame.ReadFile(filepath.Join("..", "testdata", name), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := pipeline.LoadTrainingTable(f, &config.Config{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestComputeMatchesScipy checks meta-features against independent
// computations. The expected numbers come from scipy 1.10.1 and pandas
// 1.5.3 on the same files (/usr/bin/python3):
//
//	d = pd.read_csv("testdata/mlc_churn.csv"); y = (d.churn == "yes")
//	num = the 15 numeric columns; sk = [stats.skew(d[c]) for c in num]
//	np.mean(sk), np.std(sk); likewise stats.kurtosis
//	r = [abs(stats.pearsonr(d[c], y)[0]) for c in num]; np.mean(r), max(r)
//	stats.entropy([p, 1-p], base=2) with p = y.mean()
//	stats.skew(a.Sale_Price), stats.kurtosis(a.Sale_Price) on ames.csv
//	d.drop(columns="Status").isna() mean and any(axis=1).mean() on credit_data.csv
func TestComputeMatchesScipy(t *testing.T) {
	ctx := context.Background()
	churn, err := Compute(ctx, loadTable(t, "mlc_churn.csv", "churn"), Options{StatRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ames, err := Compute(ctx, loadTable(t, "ames.csv", "Sale_Price"), Options{StatRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	credit, err := Compute(ctx, loadTable(t, "credit_data.csv", "Status"), Options{StatRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    *Features
		name string
		want float64
	}{
		{churn, Rows, 5000},
		{churn, Columns, 19},
		{churn, NumericShare, 15.0 / 19},
		{churn, SkewMean, 0.222126483369},
		{churn, SkewSD, 0.524604611617},
		{churn, KurtosisMean, 0.453238810075},
		{churn, KurtosisSD, 0.846374039478},
		// η of two classes is the absolute point-biserial correlation.
		{churn, TargetCorrMean, 0.081305192181},
		{churn, TargetCorrMax, 0.212564046559},
		{churn, ClassEntropy, 0.587893575145},
		{churn, MinorityShare, 0.1414},
		{churn, Imbalance, 6.072135785007},
		{churn, Classes, 2},
		{churn, MissingShare, 0},
		{ames, TargetSkew, 1.742607371946},
		{ames, TargetKurtosis, 5.108121716933},
		{credit, MissingShare, 0.007858105074090705},
		{credit, RowsWithMissingShare, 0.09317467444993265},
	}
	for _, tc := range tests {
		got, ok := tc.f.Values[tc.name]
		if !ok {
			t.Errorf("%s (%s) missing", tc.name, tc.f.Task)
			continue
		}
		if math.Abs(got-tc.want) > 1e-9*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%s (%s) = %.12g; want %.12g", tc.name, tc.f.Task, got, tc.want)
		}
		if _, ok := tc.f.Seconds[tc.name]; !ok {
			t.Errorf("%s has no compute time", tc.name)
		}
	}
	for _, name := range []string{ClassEntropy, Classes, Imbalance} {
		if _, ok := ames.Values[name]; ok {
			t.Errorf("regression table has %s", name)
		}
	}
	if _, ok := churn.Values[TargetSkew]; ok {
		t.Error("classification table has target_skew")
	}
}

// TestLandmarkers checks the landmarkers' scores: the constant model's CV
// accuracy is the majority share (each fold predicts the training
// majority, and the folds partition the sample), R² of the mean model is
// about 0, every score is a valid accuracy, and on churn a depth-3 tree
// beats the constant model (churn depends strongly on day minutes and
// service calls).
func TestLandmarkers(t *testing.T) {
	ctx := context.Background()
	churn := loadTable(t, "mlc_churn.csv", "churn")
	f, err := Compute(ctx, churn, Options{LandmarkRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Landmark1NN, LandmarkStump, LandmarkTree, LandmarkLinear, LandmarkConstant} {
		v, ok := f.Values[name]
		if !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v, %v; want an accuracy", name, v, ok)
		}
		if f.Seconds[name] <= 0 {
			t.Errorf("%s took %v s", name, f.Seconds[name])
		}
	}
	if got, want := f.Values[LandmarkConstant], 1-0.1414; math.Abs(got-want) > 1e-3 {
		t.Errorf("constant landmarker = %v; want the majority share %v", got, want)
	}
	if f.Values[LandmarkTree] <= f.Values[LandmarkConstant]+0.02 {
		t.Errorf("tree landmarker %v does not beat the constant %v on churn", f.Values[LandmarkTree], f.Values[LandmarkConstant])
	}
	ames, err := Compute(ctx, loadTable(t, "ames.csv", "Sale_Price"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := ames.Values[LandmarkConstant]; v > 0 || v < -0.05 {
		t.Errorf("R² of the mean model = %v; want about 0", v)
	}
	if v := ames.Values[LandmarkLinear]; v < 0.5 {
		t.Errorf("ridge R² on ames = %v; want > 0.5 (the sale price is largely linear in size and quality)", v)
	}
}

// TestLandmarkersWide: fewer rows than the landmarkers' floor, but wide
// enough that the cell cap applies, keeps every row.
func TestLandmarkersWide(t *testing.T) {
	f, err := Compute(context.Background(), synthTable(100, 2100, 3), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Values[LandmarkLinear]; !ok {
		t.Errorf("no linear landmarker on a 100 × 2100 table: %v", f.Values)
	}
}

func TestComputeDeterministic(t *testing.T) {
	tab := loadTable(t, "credit_data.csv", "Status")
	o := Options{Seed: 7, StatRows: 1000, LandmarkRows: 500}
	a, err := Compute(context.Background(), tab, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compute(context.Background(), tab, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Values) != len(b.Values) {
		t.Fatalf("%d vs %d values", len(a.Values), len(b.Values))
	}
	for k, v := range a.Values {
		if b.Values[k] != v {
			t.Errorf("%s: %v then %v", k, v, b.Values[k])
		}
	}
}

func TestMutualInfo(t *testing.T) {
	tests := []struct {
		name string
		x, y []int
		want float64
	}{
		{"identical fair coin", []int{0, 1, 0, 1}, []int{0, 1, 0, 1}, 1},
		{"independent", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, 0},
		{"x determines y of 4 codes", []int{0, 1, 2, 3}, []int{0, 0, 1, 1}, 1},
		{"y determines x", []int{0, 1, 2, 3, 0, 1, 2, 3}, []int{0, 1, 2, 3, 0, 1, 2, 3}, 2},
	}
	for _, tc := range tests {
		if got := mutualInfo(tc.x, 4, tc.y, 4); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: mutualInfo = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestComputeRejectsEmpty(t *testing.T) {
	empty := &pipeline.TrainingTable{X: frame.MustNew(), Task: model.Regression}
	if _, err := Compute(context.Background(), empty, Options{}); err == nil {
		t.Error("no error for a table without columns")
	}
}

// synthTable is a seeded regression table of n rows: p numeric columns,
// one categorical column, a linear target with noise.
func synthTable(n, p int, seed uint64) *pipeline.TrainingTable {
	rng := rand.New(rand.NewPCG(seed, 1))
	cols := make([]*frame.Column, 0, p+1)
	y := make([]float64, n)
	for j := range p {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
			y[i] += float64(j%3) * v[i]
		}
		cols = append(cols, frame.NewNumeric("x"+string(rune('a'+j%26))+string(rune('a'+j/26)), v))
	}
	labels := make([]string, n)
	for i := range labels {
		labels[i] = []string{"red", "green", "blue"}[rng.IntN(3)]
		y[i] += rng.NormFloat64()
	}
	cols = append(cols, frame.NewCategoricalFromStrings("colour", labels))
	return &pipeline.TrainingTable{X: frame.MustNew(cols...), Y: y, Task: model.Regression}
}

func BenchmarkMetaFeatures100k(b *testing.B) {
	tab := synthTable(100_000, 20, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(context.Background(), tab, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
