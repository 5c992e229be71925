package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// trainFor trains one model family on ames through the CLI and returns
// the saved model's path.
func trainFor(t *testing.T, dir, models string) string {
	t.Helper()
	return quickTrain(t, dir, testdata("ames.csv"), "Sale_Price", models).ModelPath
}

// quickTrain trains models on data without CV in the development
// profile, writing into dir, with train flags extra, and returns train's
// --json result.
func quickTrain(t *testing.T, dir, data, target, models string, extra ...string) trainJSON {
	t.Helper()
	code, stdout, stderr := tabforge(t, dir, append([]string{"train", "--data", data, "--target", target,
		"--models", models, "--cv-folds", "0", "--profile", "development", "--out", dir, "--json"}, extra...)...)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestExplainCommand explains chosen rows of ames with a gbdt and a ridge
// model: the CSV has one column per design feature plus base_value and
// one row per requested row, in the order given, and every row's values
// plus base_value equal the model's prediction (regression: margin =
// prediction), which `tabforge predict` reports independently.
func TestExplainCommand(t *testing.T) {
	dir := t.TempDir()
	preds := filepath.Join(dir, "preds.csv")
	for _, family := range []string{"gbdt", "ridge"} {
		t.Run(family, func(t *testing.T) {
			mp := trainFor(t, dir, family)
			if code, _, stderr := tabforge(t, dir, "predict", "--model", mp, "--data", testdata("ames.csv"), "--out", preds); code != 0 {
				t.Fatalf("predict exit %d: %s", code, stderr)
			}
			pred := readCSV(t, preds)
			rows := []int{7, 0, 5, 10, 11, 12}
			for _, ext := range []string{"csv", "parquet"} {
				out := filepath.Join(dir, family+"-shap."+ext)
				code, stdout, stderr := tabforge(t, dir, "explain", "--model", mp, "--data", testdata("ames.csv"), "--rows", "7,0,5,10-12", "--out", out)
				if code != 0 {
					t.Fatalf("explain exit %d: %s", code, stderr)
				}
				want := map[string]string{"gbdt": "tree SHAP values", "ridge": "linear SHAP values"}[family]
				if !strings.Contains(stdout, want) || !strings.Contains(stdout, "top features by mean |SHAP|") {
					t.Fatalf("explain summary lacks %q:\n%s", want, stdout)
				}
				f, err := frame.ReadFile(out, frame.ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				names := f.Names()
				if f.NumRows() != len(rows) || names[len(names)-1] != "base_value" || len(names) < 50 {
					t.Fatalf("%s: %d rows, columns %v", ext, f.NumRows(), names)
				}
				for i, r := range rows {
					sum := 0.0
					for _, c := range f.Columns() {
						sum += c.Num[i]
					}
					p, err := strconv.ParseFloat(pred[r+1][0], 64)
					if err != nil {
						t.Fatal(err)
					}
					if math.Abs(sum-p) > 1e-6*math.Abs(p) {
						t.Fatalf("%s row %d: SHAP values sum to %v, predict says %v", ext, r, sum, p)
					}
				}
			}
		})
	}
}

// TestExplainCommandJSONAndSampling checks --json and that without --rows
// max_explain_rows caps the rows, sampled in input order.
func TestExplainCommandJSONAndSampling(t *testing.T) {
	dir := t.TempDir()
	mp := trainFor(t, dir, "tree")
	code, stdout, stderr := tabforge(t, dir, "explain", "--model", mp, "--data", testdata("ames.csv"), "--json", "--set", "max_explain_rows=25", "--top", "3")
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, stderr)
	}
	var s struct {
		Method   string  `json:"method"`
		Rows     int     `json:"rows"`
		RowIndex []int   `json:"row_index"`
		Top      [][]any `json:"top"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if s.Method != "tree" || s.Rows != 25 || len(s.RowIndex) != 25 || len(s.Top) != 1 || len(s.Top[0]) != 3 {
		t.Fatalf("explain --json = %+v", s)
	}
	for i := 1; i < len(s.RowIndex); i++ {
		if s.RowIndex[i] <= s.RowIndex[i-1] {
			t.Fatalf("sampled rows not in input order: %v", s.RowIndex)
		}
	}
}

// TestExplainCommandBadInput: data missing a column, rows out of range,
// malformed flags, and a method the model does not support (falls back to
// KernelSHAP with a note).
func TestExplainCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	mp := trainFor(t, dir, "ridge")
	// ames without Gr_Liv_Area.
	f, err := frame.ReadFile(testdata("ames.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	short := writeRows(t, dir, "short.csv", f, []int{0, 1, 2}, "Gr_Liv_Area")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing column", []string{"--data", short}, 1, `missing column(s) "Gr_Liv_Area"`},
		{"row out of range", []string{"--data", testdata("ames.csv"), "--rows", "3,2930"}, 1, "row 2930 is out of range: the data has 2930 rows"},
		{"bad rows", []string{"--data", testdata("ames.csv"), "--rows", "1-x"}, 2, "bad row range"},
		{"unknown method", []string{"--data", testdata("ames.csv"), "--method", "magic"}, 2, "unknown method"},
		{"bad out", []string{"--data", testdata("ames.csv"), "--out", filepath.Join(dir, "x.txt")}, 2, "--out must end in .csv or .parquet"},
		{"no data", nil, 2, "--model and --data are required"},
		{"raw with tree", []string{"--data", testdata("ames.csv"), "--raw", "--method", "tree"}, 2, "--raw explains the whole pipeline with KernelSHAP"},
		{"negative top", []string{"--data", testdata("ames.csv"), "--rows", "0", "--method", "lime", "--top", "-1"}, 2, "--top -1: want 0 (all features) or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := tabforge(t, dir, append([]string{"explain", "--model", mp}, tc.args...)...)
			stderr = withoutWarnings(stderr) // ames has categories only its test rows hold
			if code != tc.code || !strings.Contains(stderr, tc.msg) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want exit %d and one line containing %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
	// The whole pipeline over raw columns.
	code, stdout, stderr := tabforge(t, dir, "explain", "--model", mp, "--data", testdata("ames.csv"), "--rows", "3", "--raw", "--json")
	if code != 0 || !strings.Contains(stdout, `"method":"kernel"`) || !strings.Contains(stdout, `"features":73`) ||
		!strings.Contains(stdout, "raw input columns asked for") || strings.Contains(stdout, "no single design matrix") {
		t.Fatalf("explain --raw: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	// LIME's --top 0 lists every feature, as the SHAP summary does.
	code, stdout, stderr = tabforge(t, dir, "explain", "--model", mp, "--data", testdata("ames.csv"), "--rows", "0", "--method", "lime", "--top", "0", "--json")
	var lime struct {
		FeatureNames []string `json:"feature_names"`
	}
	if err := json.Unmarshal([]byte(stdout), &lime); code != 0 || err != nil {
		t.Fatalf("lime --json: exit %d, %v\n%s", code, err, stderr)
	}
	code, stdout, stderr = tabforge(t, dir, "explain", "--model", mp, "--data", testdata("ames.csv"), "--rows", "0", "--method", "lime", "--top", "0")
	if listed := strings.Count(stdout, "\n") - 2; code != 0 || listed != len(lime.FeatureNames) {
		t.Fatalf("lime --top 0: exit %d, %d features listed, want all %d\n%s", code, listed, len(lime.FeatureNames), stderr)
	}
	// TreeSHAP asked of a linear model: KernelSHAP with a note.
	code, stdout, stderr = tabforge(t, dir, "explain", "--model", mp, "--data", testdata("ames.csv"), "--rows", "0-1", "--method", "tree")
	if code != 0 || !strings.Contains(stderr, "TreeSHAP does not support ridge models; fell back to KernelSHAP") || !strings.Contains(stdout, "kernel SHAP values") {
		t.Fatalf("tree on ridge: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// withoutWarnings drops the "warning:" lines from a command's stderr.
func withoutWarnings(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "warning: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestExplainLIMEHardRows runs LIME where it failed: a gbdt model on a
// penguins row with every measurement missing (NaN poisoned every kernel
// weight: "kernel weights sum to NaN") and an ols model on mpg with
// highway mileage scaled to 1e149, the largest targets train accepts
// (outputs nearer the float range, where the surrogate's weighted R²
// overflowed to NaN, are TestWeightedR2Scale's). Every row gets a
// surrogate with a finite score of at most 1, named by its data row.
func TestExplainLIMEHardRows(t *testing.T) {
	dir := t.TempDir()
	mpg, err := frame.ReadFile(testdata("corpus/ggplot2_mpg.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hwy, _ := mpg.Lookup("hwy")
	top := slices.Max(hwy.Num)
	scaled := make([]float64, len(hwy.Num))
	for i, v := range hwy.Num {
		// As large as train accepts (it refuses targets past 1e150);
		// outputs nearer the float range are TestWeightedR2Scale's.
		scaled[i] = v / top * 1e149
	}
	huge, err := mpg.With(frame.NewNumeric("hwy", scaled))
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, huge.NumRows())
	for i := range all {
		all[i] = i
	}
	hugePath := writeRows(t, dir, "mpg_huge.csv", huge, all)
	penguins := testdata("corpus/palmerpenguins_penguins.csv")
	for _, c := range []struct {
		name, data, target, models, rows string
	}{
		{"gbdt on a row without measurements", penguins, "species", "gbdt", "5,3,0"},
		{"ols on huge targets", hugePath, "hwy", "ols", "3,0-2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := quickTrain(t, dir, c.data, c.target, c.models)
			code, stdout, stderr := tabforge(t, dir, "explain", "--model", res.ModelPath, "--data", c.data, "--rows", c.rows, "--method", "lime", "--json")
			var lime struct {
				RowIndex []int `json:"row_index"`
				Results  []struct {
					Row   int       `json:"row"`
					Score float64   `json:"score"`
					Coef  []float64 `json:"coef"`
				} `json:"results"`
			}
			if err := json.Unmarshal([]byte(stdout), &lime); code != 0 || err != nil || len(lime.Results) == 0 {
				t.Fatalf("explain --method lime: exit %d, %v\n%s", code, err, stderr)
			}
			for i, r := range lime.Results {
				if math.IsNaN(r.Score) || r.Score > 1 {
					t.Errorf("row %d: weighted R² %v", i, r.Score)
				}
				// Each surrogate names its data row (it named its place among
				// the explained rows).
				if i >= len(lime.RowIndex) || r.Row != lime.RowIndex[i] {
					t.Errorf("surrogate %d names row %d; row_index %v", i, r.Row, lime.RowIndex)
				}
			}
		})
	}
}

// TestExplainOutReservedNames: features named base_value, intercept and
// score (mpg's displ, cyl and year renamed) do not clash with the extra
// columns --out writes, which take a trailing underscore; the output
// could not be written at all ("duplicate column name"), after the whole
// computation.
func TestExplainOutReservedNames(t *testing.T) {
	dir := t.TempDir()
	rows := readCSV(t, testdata("corpus/ggplot2_mpg.csv"))
	rename := map[string]string{"displ": "base_value", "cyl": "intercept", "year": "score"}
	for j, name := range rows[0] {
		if to, ok := rename[name]; ok {
			rows[0][j] = to
		}
	}
	data := filepath.Join(dir, "mpg.csv")
	writeCSVFile(t, data, rows)
	res := quickTrain(t, dir, data, "hwy", "gbdt")
	for _, c := range []struct {
		method string
		extra  []string
	}{
		{"auto", []string{"base_value_"}},
		{"lime", []string{"intercept_", "score_"}},
	} {
		t.Run(c.method, func(t *testing.T) {
			out := filepath.Join(dir, c.method+".csv")
			code, _, stderr := tabforge(t, dir, "explain", "--model", res.ModelPath, "--data", data, "--rows", "0-2", "--method", c.method, "--out", out)
			if code != 0 {
				t.Fatalf("explain exit %d: %s", code, stderr)
			}
			head := readCSV(t, out)[0]
			for _, want := range append([]string{"base_value", "intercept", "score"}, c.extra...) {
				if !slices.Contains(head, want) {
					t.Errorf("columns %v lack %q", head, want)
				}
			}
		})
	}
}

// TestExplainCommandProgress: KernelSHAP (--raw) logs its rows when
// stderr is not a terminal, the first and the last line at least; and an
// interrupted explain (a cancelled context, as Ctrl-C gives) fails saying
// so and writes no --out.
func TestExplainCommandProgress(t *testing.T) {
	dir := t.TempDir()
	mp := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic").ModelPath
	code, _, stderr := tabforge(t, dir, "explain", "--model", mp, "--data", testdata("credit_data.csv"), "--raw", "--rows", "0-3")
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, stderr)
	}
	for _, want := range []string{"msg=progress stage=explain_row name=kernel done=0 total=4", "done=4 total=4"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	out := filepath.Join(dir, "shap.csv")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, errb bytes.Buffer
	args := []string{"explain", "--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--model", mp,
		"--data", testdata("credit_data.csv"), "--raw", "--rows", "0-3", "--out", out}
	if code := run(ctx, args, &stdout, &errb); code != 1 || !strings.Contains(errb.String(), "interrupted; "+out+" not written") {
		t.Errorf("interrupted explain: exit %d, stderr %q; want 1 and the interrupt", code, errb.String())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("interrupted explain left %s: %v", out, err)
	}
}

// TestExplainCommandSoftmaxEnsemble explains a multiclass ensemble of
// gbdt, logistic and forest models (credit data's Home, 6 classes) whose
// gbdt and logistic members predict a softmax: interventional SHAP, not
// KernelSHAP, with a note saying how the softmax was handled, and each
// class's values plus its base value give the probability `tabforge
// predict` reports (to its 8 printed digits).
func TestExplainCommandSoftmaxEnsemble(t *testing.T) {
	dir := t.TempDir()
	data := testdata("credit_data.csv")
	code, stdout, stderr := tabforge(t, dir, "train", "--data", data, "--target", "Home", "--models", "gbdt,logistic,forest",
		"--cv-folds", "2", "--profile", "development", "--set", "force_production_quality=false", "--out", dir, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Best, "ensemble:") {
		t.Fatalf("train picked %s; the test needs an ensemble", res.Best)
	}
	preds, out := filepath.Join(dir, "preds.csv"), filepath.Join(dir, "shap.csv")
	if code, _, stderr := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", data, "--out", preds); code != 0 {
		t.Fatalf("predict exit %d: %s", code, stderr)
	}
	code, stdout, stderr = tabforge(t, dir, "explain", "--model", res.ModelPath, "--data", data, "--rows", "0-5", "--out", out)
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, stderr)
	}
	all := stdout + stderr
	// Selection gives some members weight 0; they must not make the
	// values "combined" (of several methods).
	if !strings.Contains(stdout, "interventional SHAP values (prediction") {
		t.Errorf("explain's summary does not name interventional SHAP:\n%s", stdout)
	}
	if strings.Contains(all, "KernelSHAP") || !strings.Contains(all, "interventional SHAP over 100 background rows") || !strings.Contains(all, "softmax link") {
		t.Fatalf("explain did not use interventional SHAP through the softmax:\n%s\n%s", stdout, stderr)
	}
	pred, shap := readCSV(t, preds), readCSV(t, out)
	for i := range 6 {
		sums := map[string]float64{}
		for j, name := range shap[0] {
			v, err := strconv.ParseFloat(shap[i+1][j], 64)
			if err != nil {
				t.Fatal(err)
			}
			sums[name[strings.LastIndexByte(name, '@')+1:]] += v
		}
		classes := 0
		for j, name := range pred[0] {
			class, ok := strings.CutPrefix(name, "prob_")
			if !ok {
				continue
			}
			classes++
			p, err := strconv.ParseFloat(pred[i+1][j], 64)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(sums[class]-p) > 1e-7 {
				t.Errorf("row %d class %s: SHAP values and base sum to %v, predict says %v", i, class, sums[class], p)
			}
		}
		if classes != 6 {
			t.Fatalf("predict wrote %d class probabilities; want credit data's 6 Home classes", classes)
		}
	}
}
