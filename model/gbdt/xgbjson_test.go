package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// withMissing returns a copy of d whose first ten columns have a
// deterministic ~9% of values replaced by NaN, so models learn default
// directions.
func withMissing(d *model.Dataset) *model.Dataset {
	out := *d
	x := *d.X
	x.Data = append([]float64(nil), d.X.Data...)
	for r := range x.Rows {
		for f := range min(10, x.Cols) {
			if (r*7+f*3)%11 == 0 {
				x.Data[r*x.Cols+f] = math.NaN()
			}
		}
	}
	out.X = &x
	return &out
}

// tertiles relabels a regression dataset into 3 classes by the training
// target's tertiles, a real-data multiclass problem.
func tertiles(train, test *model.Dataset) (*model.Dataset, *model.Dataset) {
	s := append([]float64(nil), train.Y...)
	sort.Float64s(s)
	c1, c2 := s[len(s)/3], s[2*len(s)/3]
	relabel := func(d *model.Dataset) *model.Dataset {
		out := *d
		out.Task, out.NumClasses = model.Multiclass, 3
		out.Y = make([]float64, len(d.Y))
		for i, v := range d.Y {
			switch {
			case v >= c2:
				out.Y[i] = 2
			case v >= c1:
				out.Y[i] = 1
			}
		}
		return &out
	}
	return relabel(train), relabel(test)
}

// closeRel reports whether a and b agree to tol relative to max(1, |b|).
func closeRel(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// agreeTol is the agreement required between tabforge and XGBoost
// predictions (the acceptance criterion of issue 3), relative to
// max(1, |prediction|): XGBoost sums leaf values in float32.
const agreeTol = 1e-5

func comparePreds(t *testing.T, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		if !closeRel(got[i], want[i], agreeTol) {
			t.Fatalf("prediction %d = %v, xgboost %v", i, got[i], want[i])
		}
		worst = max(worst, math.Abs(got[i]-want[i])/math.Max(1, math.Abs(want[i])))
	}
	t.Logf("%d predictions agree; worst relative difference %.2g", len(got), worst)
}

// TestXGBoostExport trains in tabforge on real data (with missing values),
// writes XGBoost JSON, loads it with xgboost.Booster(model_file=...) under
// the peer Python and compares test-set predictions.
func TestXGBoostExport(t *testing.T) {
	requirePeer(t)
	dir := t.TempDir()
	runPeer(t, "prepare", dir, "ames", "credit_data")
	ames, credit := loadPrepared(t, dir, "ames"), loadPrepared(t, dir, "credit_data")
	mtr, mte := tertiles(ames.train, ames.test)
	scaled := func(d *model.Dataset) *model.Dataset { // Sale_Price in $1000 for huber's δ = 1
		out := *d
		out.Y = make([]float64, len(d.Y))
		for i, v := range d.Y {
			out.Y[i] = v / 1000
		}
		return &out
	}
	cases := []struct {
		name        string
		p           Params
		train, test *model.Dataset
	}{
		{"regression", Params{NEstimators: 60, LearningRate: 0.1}, ames.train, ames.test},
		{"regression-lossguide-l1", Params{NEstimators: 40, GrowPolicy: Lossguide, MaxLeaves: 20, Alpha: 5, Subsample: 0.8, ColsampleBytree: 0.7}, ames.train, ames.test},
		{"huber", Params{NEstimators: 40, Objective: Huber, HuberSlope: 5}, scaled(ames.train), scaled(ames.test)},
		{"absolute", Params{NEstimators: 40, Objective: AbsoluteError}, ames.train, ames.test},
		{"binary", Params{NEstimators: 60, LearningRate: 0.1}, credit.train, credit.test},
		{"multiclass", Params{NEstimators: 30}, mtr, mte},
	}
	// Train and export every case, then score all files in one Python run.
	var args []string
	models := make([]*Model, len(cases))
	tests := make([]*model.Dataset, len(cases))
	for i, tc := range cases {
		train, test := withMissing(tc.train), withMissing(tc.test)
		m, err := Train(context.Background(), tc.p, train, nil, model.FitOptions{Workers: 2})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var buf bytes.Buffer
		if err := m.WriteXGBoostJSON(&buf); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		base := filepath.Join(dir, tc.name)
		if err := os.WriteFile(base+".json", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		writeF64(t, base+".x", test.X.Data)
		args = append(args, base+".json", base+".x", strconv.Itoa(test.X.Cols), base+".pred")
		models[i], tests[i] = m, test
	}
	runPeer(t, append([]string{"predict"}, args...)...)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, test := models[i], tests[i]
			got := make([]float64, test.X.Rows*m.NumOutputs())
			if err := m.Predict(got, test.X); err != nil {
				t.Fatal(err)
			}
			comparePreds(t, got, readF64(t, filepath.Join(dir, tc.name+".pred")))
		})
	}
}

// TestXGBoostImport trains XGBoost on real data with missing values, saves
// JSON, imports it and compares predictions with XGBoost's.
func TestXGBoostImport(t *testing.T) {
	requirePeer(t)
	dir := t.TempDir()
	runPeer(t, "prepare", dir, "ames", "credit_data")
	ames, credit := loadPrepared(t, dir, "ames"), loadPrepared(t, dir, "credit_data")
	mtr, _ := tertiles(ames.train, ames.test)
	cases := []struct {
		objective string
		numClass  int
		d         *model.Dataset
	}{
		{"reg:squarederror", 0, ames.train},
		{"reg:pseudohubererror", 0, ames.train},
		{"binary:logistic", 0, credit.train},
		{"multi:softprob", 3, mtr},
	}
	var args []string
	data := make([]*model.Dataset, len(cases))
	for i, tc := range cases {
		d := withMissing(tc.d)
		base := filepath.Join(dir, strings.ReplaceAll(tc.objective, ":", "_"))
		writeF64(t, base+".x", d.X.Data)
		writeF64(t, base+".y", d.Y)
		args = append(args, tc.objective, strconv.Itoa(tc.numClass), base+".x", strconv.Itoa(d.X.Cols), base+".y", base+".json", base+".pred")
		data[i] = d
	}
	runPeer(t, append([]string{"train"}, args...)...)
	for i, tc := range cases {
		t.Run(tc.objective, func(t *testing.T) {
			d := data[i]
			base := filepath.Join(dir, strings.ReplaceAll(tc.objective, ":", "_"))
			f, err := os.Open(base + ".json")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := ReadXGBoostJSON(f)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, d.X.Rows*m.NumOutputs())
			if err := m.Predict(got, d.X); err != nil {
				t.Fatal(err)
			}
			comparePreds(t, got, readF64(t, base+".pred"))
		})
	}
}

// TestXGBoostJSONRoundTrip checks export → import inside tabforge keeps
// predictions (no Python needed).
func TestXGBoostJSONRoundTrip(t *testing.T) {
	for _, task := range []model.Task{model.Regression, model.Binary, model.Multiclass} {
		t.Run(string(task), func(t *testing.T) {
			d := synthTask(task, 600, 1)
			m, err := Train(context.Background(), Params{NEstimators: 15}, withMissing(d), nil, model.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := m.WriteXGBoostJSON(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := ReadXGBoostJSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			x := withMissing(d).X
			a, b := make([]float64, x.Rows*m.NumOutputs()), make([]float64, x.Rows*m.NumOutputs())
			if err := m.Predict(a, x); err != nil {
				t.Fatal(err)
			}
			if err := back.Predict(b, x); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if !closeRel(a[i], b[i], 1e-12) {
					t.Fatalf("prediction %d: imported %v, original %v", i, b[i], a[i])
				}
			}
			if back.NumTrees() != m.NumTrees() || back.NumFeatures() != m.NumFeatures() {
				t.Fatalf("imported %d trees × %d features, want %d × %d", back.NumTrees(), back.NumFeatures(), m.NumTrees(), m.NumFeatures())
			}
		})
	}
}

func TestReadXGBoostJSONErrors(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"not json", `{`},
		{"no learner", `{"version":[1,7,4]}`},
		{"dart", `{"learner":{"gradient_booster":{"name":"dart"},"learner_model_param":{"num_feature":"2","base_score":"0.5"},"objective":{"name":"reg:squarederror"}}}`},
		{"bad objective", `{"learner":{"gradient_booster":{"name":"gbtree","model":{"trees":[],"tree_info":[]}},"learner_model_param":{"num_feature":"2","base_score":"0.5"},"objective":{"name":"rank:pairwise"}}}`},
		{"child out of range", `{"learner":{"gradient_booster":{"name":"gbtree","model":{"tree_info":[0],"trees":[` +
			`{"left_children":[5,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,1,2],` +
			`"base_weights":[0,1,2],"loss_changes":[1,0,0],"sum_hessian":[2,1,1],"default_left":[0,0,0]}]}},` +
			`"learner_model_param":{"num_feature":"2","base_score":"0.5"},"objective":{"name":"reg:squarederror"}}}`},
		{"feature out of range", `{"learner":{"gradient_booster":{"name":"gbtree","model":{"tree_info":[0],"trees":[` +
			`{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[7,0,0],"split_conditions":[0.5,1,2],` +
			`"base_weights":[0,1,2],"loss_changes":[1,0,0],"sum_hessian":[2,1,1],"default_left":[0,0,0]}]}},` +
			`"learner_model_param":{"num_feature":"2","base_score":"0.5"},"objective":{"name":"reg:squarederror"}}}`},
		{"categorical", `{"learner":{"gradient_booster":{"name":"gbtree","model":{"tree_info":[0],"trees":[` +
			`{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,1,2],` +
			`"base_weights":[0,1,2],"loss_changes":[1,0,0],"sum_hessian":[2,1,1],"default_left":[0,0,0],"split_type":[1,0,0]}]}},` +
			`"learner_model_param":{"num_feature":"2","base_score":"0.5"},"objective":{"name":"reg:squarederror"}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadXGBoostJSON(strings.NewReader(tc.doc))
			if !errors.Is(err, ErrXGBoost) {
				t.Fatalf("ReadXGBoostJSON(%s) error = %v; want ErrXGBoost", tc.name, err)
			}
		})
	}
}
