package tree

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/tabforge/tabforge/eval"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// peerPython is Debian's interpreter with scikit-learn 1.2.1, the peer the
// shared anchors were produced with (never a pyenv python3).
const peerPython = "/usr/bin/python3"

// anchorData is one dataset of shared/anchors, preprocessed by
// testdata/anchors.py exactly as shared/anchors/baselines.py does for tree
// models, with scikit-learn's scores on the same matrices.
type anchorData struct {
	train, test *model.Dataset
	meta        struct {
		Task      string    `json:"task"`
		TrainRows int       `json:"train_rows"`
		TestRows  int       `json:"test_rows"`
		Cols      int       `json:"cols"`
		Names     []string  `json:"names"`
		Tree      float64   `json:"tree"`
		TreeSeeds []float64 `json:"tree_seeds"`
		Forest    float64   `json:"forest"`
	}
}

// loadAnchor runs testdata/anchors.py on ../../testdata/<name>.csv and
// loads its output. It skips the test when the peer is not installed.
func loadAnchor(t *testing.T, name, models string) *anchorData {
	t.Helper()
	if _, err := os.Stat(peerPython); err != nil {
		t.Skipf("peer %s not installed: %v", peerPython, err)
	}
	if err := exec.Command(peerPython, "-c", "import sklearn, pandas").Run(); err != nil {
		t.Skipf("peer %s lacks sklearn/pandas: %v", peerPython, err)
	}
	dir := t.TempDir()
	cmd := exec.Command(peerPython, "testdata/anchors.py",
		filepath.Join("..", "..", "testdata", name+".csv"),
		filepath.Join("testdata", "splits", name+".test_rows.txt"), dir, models)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("anchors.py %s: %v\n%s", name, err, out)
	}
	a := &anchorData{}
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &a.meta); err != nil {
		t.Fatal(err)
	}
	read := func(fn string, n int) []float64 {
		raw, err := os.ReadFile(filepath.Join(dir, fn))
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 8*n {
			t.Fatalf("%s: %d bytes, want %d", fn, len(raw), 8*n)
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return v
	}
	m := a.meta
	task := model.Task(m.Task)
	nc := 0
	if task.IsClassification() {
		nc = 2
	}
	a.train = &model.Dataset{
		X:    &model.Matrix{Rows: m.TrainRows, Cols: m.Cols, Data: read("xtr.f64", m.TrainRows*m.Cols)},
		Y:    read("ytr.f64", m.TrainRows),
		Task: task, NumClasses: nc, FeatureNames: m.Names,
	}
	a.test = &model.Dataset{
		X:    &model.Matrix{Rows: m.TestRows, Cols: m.Cols, Data: read("xte.f64", m.TestRows*m.Cols)},
		Y:    read("yte.f64", m.TestRows),
		Task: task, NumClasses: nc,
	}
	return a
}

// score returns test R² (regression) or ROC AUC (binary) of m on d.
func score(t *testing.T, m model.Model, d *model.Dataset) float64 {
	t.Helper()
	pred := make([]float64, d.X.Rows*m.NumOutputs())
	if err := m.Predict(pred, d.X); err != nil {
		t.Fatal(err)
	}
	if d.Task == model.Regression {
		return r2(d.Y, pred)
	}
	return rocAUC(d.Y, pred)
}

// TestAnchors checks CART against scikit-learn's DecisionTree on the
// shared anchor splits. A fully grown tree's test score swings with the
// random tie-breaking between equally good splits (scikit-learn's own
// scores over random_state 0..4 span 0.06 R² on txhousing), so the test
// compares the mean of our seeds 0..4 with the baseline row
// (random_state=42, recomputed on the same matrices and equal to
// shared/anchors/baselines.md), within the 0.02 of the acceptance.
func TestAnchors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the scikit-learn peer")
	}
	for _, name := range []string{"ames", "txhousing", "credit_data", "mlc_churn"} {
		t.Run(name, func(t *testing.T) {
			a := loadAnchor(t, name, "tree,tree_seeds")
			var ours []float64
			for seed := range uint64(5) {
				m, err := Params{Seed: seed}.Fit(context.Background(), a.train, model.FitOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ours = append(ours, score(t, m, a.test))
			}
			mean := func(v []float64) float64 {
				var s float64
				for _, x := range v {
					s += x
				}
				return s / float64(len(v))
			}
			got, want := mean(ours), a.meta.Tree
			t.Logf("%s: tabforge tree seeds 0..4 %.4f (mean %.4f); sklearn seed 42 %.4f, seeds 0..4 %.4f (mean %.4f)",
				name, ours, got, want, a.meta.TreeSeeds, mean(a.meta.TreeSeeds))
			if math.Abs(got-want) > 0.02 {
				t.Errorf("%s: mean score %.4f, sklearn DecisionTree %.4f: differ by more than 0.02", name, got, want)
			}
		})
	}
}

func ExampleParams_Fit() {
	// y = 1 when x0 > 2: one split at the midpoint 2.5 separates the classes.
	x := &model.Matrix{Rows: 6, Cols: 1, Data: []float64{0, 1, 2, 3, 4, 5}}
	d := &model.Dataset{X: x, Y: []float64{0, 0, 0, 1, 1, 1}, Task: model.Binary, NumClasses: 2}
	m, err := Train(context.Background(), Params{}, d, model.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := m.Tree()
	fmt.Println("nodes:", tr.NumNodes(), "threshold:", tr.Threshold[0])
	p := make([]float64, 2)
	_ = m.Predict(p, &model.Matrix{Rows: 2, Cols: 1, Data: []float64{2.4, 2.6}})
	fmt.Println("P(class 1):", p)
	// Output:
	// nodes: 3 threshold: 2.5
	// P(class 1): [0 1]
}

// r2 is eval.R2 for tests, where the inputs are known to be valid.
func r2(y, p []float64) float64 {
	v, _ := eval.R2(y, p, nil)
	return v
}

// rocAUC is eval.ROCAUC for 0/1 float labels, for tests.
func rocAUC(y, p []float64) float64 {
	labels := make([]int, len(y))
	for i, v := range y {
		labels[i] = int(v)
	}
	v, _ := eval.ROCAUC(labels, p, 2, nil)
	return v
}
