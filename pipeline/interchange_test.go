package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

func needXGBoost(t *testing.T) {
	t.Helper()
	if exec.Command("/usr/bin/python3", "-c", "import xgboost").Run() != nil {
		t.Skip("/usr/bin/python3 lacks xgboost (scripts/test.sh installs python3-xgboost)")
	}
}

// writeMatrixCSV writes rows of a row-major matrix as headerless CSV
// (NaN as empty, which pandas-free numpy.genfromtxt reads as nan).
func writeMatrixCSV(t *testing.T, path string, data []float64, cols int) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(data); i += cols {
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			if v := data[i+j]; !math.IsNaN(v) {
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readColumn(t *testing.T, out []byte) []float64 {
	t.Helper()
	var v []float64
	for _, f := range strings.Fields(string(out)) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("python output %q: %v", f, err)
		}
		v = append(v, x)
	}
	return v
}

// TestExportToXGBoost trains a gbdt on ames through the pipeline, exports
// it and checks XGBoost 1.7.4 predicts the same design matrix identically.
func TestExportToXGBoost(t *testing.T) {
	needXGBoost(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "ames.csv"), "Sale_Price"
	cfg.TestRows = filepath.Join("..", "testdata", "splits", "ames.test_rows.txt")
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"gbdt"}, 0, dir
	_, p := trainSaved(t, cfg)
	x, err := frame.ReadFile(cfg.Data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	mat, err := p.Design.Matrix(x)
	if err != nil {
		t.Fatal(err)
	}
	ours := make([]float64, mat.Rows)
	if err := p.Model.Predict(ours, mat); err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := ExportXGBoost(&js, p); err != nil {
		t.Fatal(err)
	}
	modelFile, dataFile := filepath.Join(dir, "m.json"), filepath.Join(dir, "x.csv")
	os.WriteFile(modelFile, js.Bytes(), 0o644)
	writeMatrixCSV(t, dataFile, mat.Data, mat.Cols)
	script := `import sys, numpy as np, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
x = np.genfromtxt(sys.argv[2], delimiter=",", missing_values="", filling_values=np.nan)
for v in b.predict(xgb.DMatrix(x, missing=np.nan, feature_names=b.feature_names)): print(repr(float(v)))`
	out, err := exec.Command("/usr/bin/python3", "-c", script, modelFile, dataFile).CombinedOutput()
	if err != nil {
		t.Fatalf("xgboost: %v\n%s", err, out)
	}
	theirs := readColumn(t, out)
	if len(theirs) != len(ours) {
		t.Fatalf("xgboost predicted %d rows; want %d", len(theirs), len(ours))
	}
	for i := range ours {
		// XGBoost sums leaves in float32: compare relative to the price scale.
		if d := math.Abs(ours[i]-theirs[i]) / math.Max(1, math.Abs(ours[i])); d > 1e-5 {
			t.Fatalf("row %d: tabforge %.6f, xgboost %.6f", i, ours[i], theirs[i])
		}
	}
}

// TestImportFromXGBoost trains XGBoost on credit_data's numeric columns,
// imports its JSON model and predicts with tabforge.
func TestImportFromXGBoost(t *testing.T) {
	needXGBoost(t)
	dir := t.TempDir()
	f, err := frame.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cols []*frame.Column
	for _, c := range f.Columns() {
		if c.Kind == frame.Numeric {
			cols = append(cols, c)
		}
	}
	num := frame.MustNew(cols...)
	status, _ := f.Lookup("Status")
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(append(num.Names(), "y"))
	for i := range num.NumRows() {
		rec := make([]string, 0, len(cols)+1)
		for _, c := range cols {
			if c.IsMissing(i) {
				rec = append(rec, "")
			} else {
				rec = append(rec, strconv.FormatFloat(c.Num[i], 'g', -1, 64))
			}
		}
		rec = append(rec, strconv.Itoa(map[string]int{"good": 0, "bad": 1}[status.Label(i)]))
		w.Write(rec)
	}
	w.Flush()
	dataFile, modelFile := filepath.Join(dir, "d.csv"), filepath.Join(dir, "m.json")
	os.WriteFile(dataFile, b.Bytes(), 0o644)
	script := `import sys, numpy as np, xgboost as xgb
d = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1, missing_values="", filling_values=np.nan)
names = open(sys.argv[1]).readline().strip().split(",")[:-1]
m = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "tree_method": "hist", "seed": 1},
              xgb.DMatrix(d[:, :-1], label=d[:, -1], missing=np.nan, feature_names=names), 60)
m.save_model(sys.argv[2])
for v in m.predict(xgb.DMatrix(d[:, :-1], missing=np.nan, feature_names=names)): print(repr(float(v)))`
	out, err := exec.Command("/usr/bin/python3", "-c", script, dataFile, modelFile).CombinedOutput()
	if err != nil {
		t.Fatalf("xgboost: %v\n%s", err, out)
	}
	theirs := readColumn(t, out)
	mf, _ := os.Open(modelFile)
	defer mf.Close()
	p, err := ImportXGBoost(mf, "Status")
	if err != nil {
		t.Fatal(err)
	}
	pred, err := p.Predict(num)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range pred.Values {
		if math.Abs(v-theirs[i]) > 1e-5 {
			t.Fatalf("row %d: tabforge %.7f, xgboost %.7f", i, v, theirs[i])
		}
	}
}

// TestExportXGBoostTransformed: a gbdt fitted on log(1+y) cannot be
// written as XGBoost trees (their sum is not the prediction), and the
// refusal says why instead of "only gbdt models ... (this model is gbdt)".
func TestExportXGBoostTransformed(t *testing.T) {
	x := model.NewMatrix(40, 1)
	y := make([]float64, 40)
	for i := range y {
		x.Row(i)[0], y[i] = float64(i), math.Log1p(float64(i*i))
	}
	inner, err := gbdt.Params{NEstimators: 3}.Fit(context.Background(), &model.Dataset{X: x, Y: y, Task: model.Regression}, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Predictor{Model: &model.LogTargetModel{Inner: inner, Smear: 1}}
	err = ExportXGBoost(io.Discard, p)
	if !errors.Is(err, ErrNotGBDT) {
		t.Fatalf("ExportXGBoost(log-target gbdt) = %v; want ErrNotGBDT", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "target_transform log") || !strings.Contains(msg, "target_transform=none") {
		t.Errorf("ExportXGBoost(log-target gbdt) = %q; want it to name the log transform and the way out", msg)
	}
}
