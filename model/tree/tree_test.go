package tree

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// synthetic returns n rows of a seeded problem with p features: y =
// 3·x0 + 2·(x1 > 0.5) + noise for regression; for classification the
// class is a band of that score.
func synthetic(n, p int, task model.Task, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := model.NewMatrix(n, p)
	y := make([]float64, n)
	for i := range n {
		r := x.Row(i)
		for j := range r {
			r[j] = rng.Float64()
		}
		s := 3*r[0] + 2*b2f(r[1] > 0.5) + 0.3*rng.NormFloat64()
		switch task {
		case model.Regression:
			y[i] = s
		case model.Binary:
			y[i] = b2f(s > 2.5)
		default:
			y[i] = math.Min(2, math.Floor(s/1.7))
			y[i] = math.Max(0, y[i])
		}
	}
	nc := map[model.Task]int{model.Binary: 2, model.Multiclass: 3}[task]
	return &model.Dataset{X: x, Y: y, Task: task, NumClasses: nc}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func fit(t *testing.T, p Params, d *model.Dataset) *Model {
	t.Helper()
	m, err := Train(context.Background(), p, d, model.FitOptions{})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

func predict(t *testing.T, m model.Model, x *model.Matrix) []float64 {
	t.Helper()
	out := make([]float64, x.Rows*m.NumOutputs())
	if err := m.Predict(out, x); err != nil {
		t.Fatalf("Predict: %v", err)
	}
	return out
}

func TestTrainBadInput(t *testing.T) {
	good := func() *model.Dataset { return synthetic(20, 2, model.Regression, 1) }
	cls := func() *model.Dataset { return synthetic(20, 2, model.Binary, 1) }
	tests := []struct {
		name   string
		params Params
		data   func() *model.Dataset
		want   string // substring of the error
	}{
		{"nil dataset", Params{}, func() *model.Dataset { return nil }, "nil dataset"},
		{"empty", Params{}, func() *model.Dataset {
			return &model.Dataset{X: model.NewMatrix(0, 2), Task: model.Regression}
		}, "empty"},
		{"no columns", Params{}, func() *model.Dataset {
			return &model.Dataset{X: model.NewMatrix(3, 0), Y: make([]float64, 3), Task: model.Regression}
		}, "no feature columns"},
		{"NaN feature", Params{}, func() *model.Dataset { d := good(); d.X.Data[5] = math.NaN(); return d }, "X[2, 1] is NaN"},
		{"Inf feature", Params{}, func() *model.Dataset { d := good(); d.X.Data[0] = math.Inf(1); return d }, "X[0, 0] is +Inf"},
		{"NaN target", Params{}, func() *model.Dataset { d := good(); d.Y[3] = math.NaN(); return d }, "target in row 3 is NaN"},
		{"Inf target", Params{}, func() *model.Dataset { d := good(); d.Y[4] = math.Inf(-1); return d }, "target in row 4 is -Inf"},
		// Squared errors of 1e160 overflow: the splits were chosen wrongly.
		{"huge target", Params{}, func() *model.Dataset { d := good(); d.Y[5] = -1e160; return d }, "target in row 5 is -1e+160, beyond ±1e+150"},
		{"label out of range", Params{}, func() *model.Dataset { d := cls(); d.Y[2] = 2; return d }, "label 2 in row 2"},
		{"fractional label", Params{}, func() *model.Dataset { d := cls(); d.Y[2] = 0.5; return d }, "label 0.5"},
		{"one class declared", Params{}, func() *model.Dataset { d := cls(); d.NumClasses = 1; return d }, "at least 2 classes"},
		{"negative weight", Params{}, func() *model.Dataset {
			d := good()
			d.Weights = make([]float64, 20)
			d.Weights[0] = -1
			return d
		}, "weight -1 in row 0"},
		{"zero weights", Params{}, func() *model.Dataset { d := good(); d.Weights = make([]float64, 20); return d }, "all sample weights are zero"},
		{"weights length", Params{}, func() *model.Dataset { d := good(); d.Weights = make([]float64, 3); return d }, "3 weights for 20 rows"},
		{"unknown task", Params{}, func() *model.Dataset { d := good(); d.Task = "ranking"; return d }, "unknown task"},
		{"gini for regression", Params{Criterion: Gini}, good, `criterion "gini" does not apply`},
		{"squared error for classification", Params{Criterion: SquaredError}, cls, `criterion "squared_error" does not apply`},
		{"bad criterion", Params{Criterion: "mae"}, good, "does not apply"},
		{"bad splitter", Params{Splitter: "worst"}, good, `unknown splitter "worst"`},
		{"negative depth", Params{MaxDepth: -1}, good, "max_depth -1"},
		{"min split 1", Params{MinSamplesSplit: 1}, good, "min_samples_split 1"},
		{"negative leaf", Params{MinSamplesLeaf: -2}, good, "min_samples_leaf -2"},
		{"NaN decrease", Params{MinImpurityDecrease: math.NaN()}, good, "min_impurity_decrease"},
		{"too many features", Params{MaxFeatures: MaxFeatures{Rule: CountFeatures, Value: 3}}, good, "max_features 3 exceeds the 2 features"},
		{"bad fraction", Params{MaxFeatures: MaxFeatures{Rule: FractionFeatures, Value: 1.5}}, good, "fraction 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Train(context.Background(), tt.params, tt.data(), model.FitOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Train error = %v; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTrainEdgeCases(t *testing.T) {
	t.Run("single row is a leaf", func(t *testing.T) {
		d := &model.Dataset{X: &model.Matrix{Rows: 1, Cols: 2, Data: []float64{1, 2}}, Y: []float64{7}, Task: model.Regression}
		m := fit(t, Params{}, d)
		if n := m.Tree().NumNodes(); n != 1 {
			t.Fatalf("nodes = %d; want 1", n)
		}
		if got := predict(t, m, d.X); got[0] != 7 {
			t.Fatalf("prediction = %v; want 7", got)
		}
	})
	t.Run("constant column never splits", func(t *testing.T) {
		d := synthetic(50, 2, model.Regression, 2)
		for i := range d.X.Data {
			d.X.Data[i] = 3
		}
		m := fit(t, Params{}, d)
		if n := m.Tree().NumNodes(); n != 1 {
			t.Fatalf("nodes = %d; want a single leaf", n)
		}
		var mean float64
		for _, v := range d.Y {
			mean += v / 50
		}
		if got := m.Tree().Value[0]; math.Abs(got-mean) > 1e-12 {
			t.Fatalf("leaf value = %v; want mean %v", got, mean)
		}
	})
	t.Run("constant column beside a useful one", func(t *testing.T) {
		d := synthetic(200, 2, model.Regression, 3)
		for i := range 200 {
			d.X.Data[i*2+1] = -1
		}
		m := fit(t, Params{MaxFeatures: MaxFeatures{Rule: CountFeatures, Value: 1}}, d)
		for i, f := range m.Tree().Feature {
			if f == 1 {
				t.Fatalf("node %d splits the constant column", i)
			}
		}
		if m.Tree().NumNodes() < 3 {
			t.Fatalf("tree did not split on the useful column")
		}
	})
	t.Run("single class present", func(t *testing.T) {
		d := synthetic(30, 2, model.Binary, 4)
		for i := range d.Y {
			d.Y[i] = 0
		}
		m := fit(t, Params{}, d)
		for _, v := range predict(t, m, d.X) {
			if v != 0 {
				t.Fatalf("P(class 1) = %v; want 0", v)
			}
		}
	})
	t.Run("weights shift the leaf mean", func(t *testing.T) {
		d := &model.Dataset{X: &model.Matrix{Rows: 2, Cols: 1, Data: []float64{1, 1}}, Y: []float64{0, 10},
			Weights: []float64{1, 3}, Task: model.Regression}
		m := fit(t, Params{}, d)
		if got := m.Tree().Value[0]; got != 7.5 {
			t.Fatalf("weighted mean = %v; want 7.5", got)
		}
		if got := m.Tree().Cover[0]; got != 4 {
			t.Fatalf("cover = %v; want 4", got)
		}
	})
	t.Run("zero-weight rows are left out", func(t *testing.T) {
		d := &model.Dataset{X: &model.Matrix{Rows: 3, Cols: 1, Data: []float64{1, 2, 3}}, Y: []float64{0, 5, 100},
			Weights: []float64{1, 1, 0}, Task: model.Regression}
		m := fit(t, Params{}, d)
		if tr := m.Tree(); tr.Threshold[0] != 1.5 || tr.Samples[0] != 2 {
			t.Fatalf("root threshold %v samples %d; want 1.5 and 2", tr.Threshold[0], tr.Samples[0])
		}
	})
}

// TestTreeShape checks the structural parameters and invariants of the
// flat arrays: preorder children, covers adding up, depth limits.
func TestTreeShape(t *testing.T) {
	d := synthetic(500, 4, model.Multiclass, 5)
	tests := []struct {
		name   string
		params Params
		check  func(t *testing.T, tr *Tree)
	}{
		{"max depth 3", Params{MaxDepth: 3}, func(t *testing.T, tr *Tree) {
			if got := tr.MaxDepth(); got != 3 {
				t.Errorf("MaxDepth() = %d; want 3", got)
			}
		}},
		{"min samples leaf 20", Params{MinSamplesLeaf: 20}, func(t *testing.T, tr *Tree) {
			for i := range tr.NumNodes() {
				if tr.Samples[i] < 20 {
					t.Errorf("node %d has %d samples; want >= 20", i, tr.Samples[i])
				}
			}
		}},
		{"min samples split 100", Params{MinSamplesSplit: 100}, func(t *testing.T, tr *Tree) {
			for i := range tr.NumNodes() {
				if !tr.IsLeaf(i) && tr.Samples[i] < 100 {
					t.Errorf("node %d with %d samples was split", i, tr.Samples[i])
				}
			}
		}},
		{"min impurity decrease", Params{MinImpurityDecrease: 0.01}, func(t *testing.T, tr *Tree) {
			for i := range tr.NumNodes() {
				if tr.IsLeaf(i) {
					continue
				}
				l, r := tr.Left[i], tr.Right[i]
				dec := (tr.Cover[i]*tr.Impurity[i] - tr.Cover[l]*tr.Impurity[l] - tr.Cover[r]*tr.Impurity[r]) / tr.Cover[0]
				if dec+pureEpsilon < 0.01 {
					t.Errorf("node %d decreases impurity by %v < 0.01", i, dec)
				}
			}
		}},
		{"entropy random splitter", Params{Criterion: Entropy, Splitter: Random}, func(t *testing.T, tr *Tree) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := fit(t, tt.params, d).Tree()
			for i := range tr.NumNodes() {
				// A multiclass tree stores class probabilities at its
				// leaves only, and only the nonzero ones.
				lo, hi := tr.ValueStart[i], tr.ValueStart[i+1]
				var s float64
				for _, p := range tr.Value[lo:hi] {
					s += p
					if p == 0 {
						t.Errorf("node %d stores a zero probability", i)
					}
				}
				if !tr.IsLeaf(i) {
					if hi != lo {
						t.Errorf("internal node %d stores %d values", i, hi-lo)
					}
				} else if math.Abs(s-1) > 1e-9 {
					t.Errorf("node %d probabilities sum to %v", i, s)
				}
				if tr.IsLeaf(i) {
					continue
				}
				l, r := tr.Left[i], tr.Right[i]
				if int(l) != i+1 || r <= l || tr.Depth[l] != tr.Depth[i]+1 {
					t.Fatalf("node %d: children %d, %d; depth %d, %d", i, l, r, tr.Depth[i], tr.Depth[l])
				}
				if c := tr.Cover[l] + tr.Cover[r]; math.Abs(c-tr.Cover[i]) > 1e-9 {
					t.Errorf("node %d cover %v; children sum to %v", i, tr.Cover[i], c)
				}
			}
			tt.check(t, tr)
		})
	}
}

// TestFitsTrainingData checks that a fully grown tree reproduces training
// targets of distinct rows exactly and that predictions equal a leaf walk.
func TestFitsTrainingData(t *testing.T) {
	for _, task := range []model.Task{model.Regression, model.Binary, model.Multiclass} {
		t.Run(string(task), func(t *testing.T) {
			d := synthetic(300, 3, task, 6)
			m := fit(t, Params{}, d)
			got := predict(t, m, d.X)
			k := m.NumOutputs()
			for i := range d.X.Rows {
				want := d.Y[i]
				if task == model.Binary {
					want = d.Y[i] // P(class 1) is 0 or 1 at pure leaves
				}
				if task == model.Multiclass {
					if got[i*k+int(d.Y[i])] != 1 {
						t.Fatalf("row %d: probabilities %v; want class %v", i, got[i*k:(i+1)*k], d.Y[i])
					}
					continue
				}
				if math.Abs(got[i]-want) > 1e-9 {
					t.Fatalf("row %d: prediction %v; want %v", i, got[i], want)
				}
			}
		})
	}
}

func TestPredictErrors(t *testing.T) {
	m := fit(t, Params{}, synthetic(40, 3, model.Regression, 7))
	tests := []struct {
		name string
		dst  []float64
		x    *model.Matrix
		want string
	}{
		{"more columns", make([]float64, 2), model.NewMatrix(2, 4), "4 columns, the model was trained on 3"},
		{"fewer columns", make([]float64, 2), model.NewMatrix(2, 2), "2 columns"},
		{"short dst", make([]float64, 1), model.NewMatrix(2, 3), "dst has length 1"},
		{"nil matrix", nil, nil, "nil matrix"},
		{"NaN", make([]float64, 1), &model.Matrix{Rows: 1, Cols: 3, Data: []float64{0, math.NaN(), 0}}, "X[0, 1] is NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Predict(tt.dst, tt.x)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Predict error = %v; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRoundTripAndDeterminism(t *testing.T) {
	for _, task := range []model.Task{model.Regression, model.Binary, model.Multiclass} {
		t.Run(string(task), func(t *testing.T) {
			d := synthetic(400, 5, task, 8)
			d.FeatureNames = []string{"a", "b", "c", "d", "e"}
			p := Params{MaxFeatures: MaxFeatures{Rule: SqrtFeatures}, Seed: 3}
			m1, err := Train(context.Background(), p, d, model.FitOptions{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Train(context.Background(), p, d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			b1, _ := m1.MarshalBinary()
			b2, _ := m2.MarshalBinary()
			if !bytes.Equal(b1, b2) {
				t.Fatal("Workers 1 and 2 give different encodings")
			}
			back, err := Families()[0].Decode(b1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := predict(t, back, d.X), predict(t, m1, d.X); !equal(got, want) {
				t.Fatal("decoded model predicts differently")
			}
			b3, _ := back.MarshalBinary()
			if !bytes.Equal(b1, b3) {
				t.Fatal("re-encoding a decoded model changed its bytes")
			}
			if got := back.(*Model).FeatureNames(); fmt.Sprint(got) != "[a b c d e]" {
				t.Fatalf("feature names %v", got)
			}
			m3 := fit(t, Params{MaxFeatures: MaxFeatures{Rule: SqrtFeatures}, Seed: 4}, d)
			if b4, _ := m3.MarshalBinary(); bytes.Equal(b1, b4) {
				t.Fatal("seeds 3 and 4 give identical trees with max_features sqrt")
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeCorrupt(t *testing.T) {
	m := fit(t, Params{}, synthetic(100, 3, model.Binary, 9))
	good, _ := m.MarshalBinary()
	tests := []struct {
		name string
		data func() []byte
	}{
		{"empty", func() []byte { return nil }},
		{"foreign", func() []byte { return []byte("PK\x03\x04 definitely a zip file") }},
		{"truncated header", func() []byte { return good[:12] }},
		{"truncated tree", func() []byte { return good[:len(good)-9] }},
		{"trailing bytes", func() []byte { return append(bytes.Clone(good), 0) }},
	}
	// Flip each byte of the tree's child arrays in turn: the structure
	// check must reject or survive every one without panicking.
	for i := len(good) - 1; i > len(good)-400 && i > 0; i -= 7 {
		tests = append(tests, struct {
			name string
			data func() []byte
		}{fmt.Sprintf("flip %d", i), func() []byte { b := bytes.Clone(good); b[i] ^= 0xff; return b }})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Decode panicked: %v", r)
				}
			}()
			m, err := Decode(tt.data())
			if strings.HasPrefix(tt.name, "flip") {
				if err == nil { // a flipped value byte may still decode: it must then predict
					predict(t, m, model.NewMatrix(3, 3))
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode error = %v; want ErrCorrupt", err)
			}
		})
	}
}

func TestFamily(t *testing.T) {
	fams := Families()
	if len(fams) != 1 || fams[0].Name != "tree" || fams[0].Input != (model.Input{}) {
		t.Fatalf("Families() = %+v", fams)
	}
	f := fams[0]
	tests := []struct {
		name    string
		task    model.Task
		json    string
		want    Params
		wantErr string
	}{
		{"defaults", model.Regression, ``, Params{Seed: 7}, ""},
		{"all keys", model.Binary,
			`{"criterion":"entropy","max_depth":4,"min_samples_split":5,"min_samples_leaf":2,"max_features":"sqrt","min_impurity_decrease":0.1,"splitter":"random"}`,
			Params{Criterion: Entropy, MaxDepth: 4, MinSamplesSplit: 5, MinSamplesLeaf: 2, MaxFeatures: MaxFeatures{Rule: SqrtFeatures},
				MinImpurityDecrease: 0.1, Splitter: Random, Seed: 7}, ""},
		{"fraction", model.Regression, `{"max_features":0.5}`, Params{MaxFeatures: MaxFeatures{Rule: FractionFeatures, Value: 0.5}, Seed: 7}, ""},
		{"one point zero is all", model.Regression, `{"max_features":1.0}`, Params{MaxFeatures: MaxFeatures{Rule: FractionFeatures, Value: 1}, Seed: 7}, ""},
		{"count", model.Regression, `{"max_features":3}`, Params{MaxFeatures: MaxFeatures{Rule: CountFeatures, Value: 3}, Seed: 7}, ""},
		{"unknown key", model.Regression, `{"max_dept":3}`, Params{}, "unknown field"},
		{"bad criterion", model.Regression, `{"criterion":"mse"}`, Params{}, `unknown criterion "mse"`},
		{"criterion for wrong task", model.Regression, `{"criterion":"gini"}`, Params{}, "does not apply"},
		{"zero count", model.Regression, `{"max_features":0}`, Params{}, "count 0"},
		{"bad rule", model.Regression, `{"max_features":"auto"}`, Params{}, `unknown max_features "auto"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := f.New(tt.task, 7, json.RawMessage(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := l.(Params); got != tt.want {
				t.Fatalf("New = %+v; want %+v", got, tt.want)
			}
			// The params JSON round-trips.
			b, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			var back Params
			if err := model.DecodeStrict(b, &back); err != nil || back != tt.want {
				t.Fatalf("JSON %s decodes to %+v, %v", b, back, err)
			}
		})
	}
}

func TestMaxFeaturesResolve(t *testing.T) {
	tests := []struct {
		m    MaxFeatures
		p    int
		want int
	}{
		{MaxFeatures{}, 28, 28},
		{MaxFeatures{Rule: AllFeatures}, 28, 28},
		{MaxFeatures{Rule: SqrtFeatures}, 28, 5}, // floor(sqrt(28)) = 5, scikit-learn's count
		{MaxFeatures{Rule: Log2Features}, 28, 4},
		{MaxFeatures{Rule: FractionFeatures, Value: 0.33}, 28, 9},
		{MaxFeatures{Rule: FractionFeatures, Value: 0.01}, 28, 1},
		{MaxFeatures{Rule: CountFeatures, Value: 1}, 28, 1},
		{MaxFeatures{Rule: SqrtFeatures}, 1, 1},
	}
	for _, tt := range tests {
		if got, err := tt.m.Resolve(tt.p); err != nil || got != tt.want {
			t.Errorf("%+v.Resolve(%d) = %d, %v; want %d", tt.m, tt.p, got, err, tt.want)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Train(ctx, Params{}, synthetic(2000, 3, model.Regression, 10), model.FitOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Train error = %v; want context.Canceled", err)
	}
}

func TestFeatureImportances(t *testing.T) {
	m := fit(t, Params{MaxDepth: 6}, synthetic(2000, 4, model.Regression, 11))
	imp := m.FeatureImportances()
	var s float64
	for _, v := range imp {
		s += v
	}
	if math.Abs(s-1) > 1e-12 {
		t.Fatalf("importances %v sum to %v", imp, s)
	}
	// x0 (coefficient 3 over [0,1]) and x1 (a step of 2) carry the signal;
	// x2 and x3 are noise.
	if imp[0] < imp[2]+imp[3] || imp[1] < imp[2]+imp[3] {
		t.Fatalf("importances %v: signal features not on top", imp)
	}
}

func BenchmarkTrain(b *testing.B) {
	for _, rows := range []int{1_000, 20_000} {
		for _, task := range []model.Task{model.Regression, model.Binary} {
			b.Run(fmt.Sprintf("%s/rows=%d", task, rows), func(b *testing.B) {
				d := synthetic(rows, 20, task, 1)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Train(context.Background(), Params{}, d, model.FitOptions{Workers: 1}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	d := synthetic(20_000, 20, model.Regression, 1)
	m, err := Train(context.Background(), Params{}, d, model.FitOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, d.X.Rows)
	for b.Loop() {
		if err := m.Predict(dst, d.X); err != nil {
			b.Fatal(err)
		}
	}
}
