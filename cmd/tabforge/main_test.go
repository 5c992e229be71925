package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// tabforge runs the CLI in-process with a private store and model
// directory, and returns its exit code, stdout and stderr.
func tabforge(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	base := []string{"--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--set", "artifacts=" + filepath.Join(dir, "artifacts")}
	code := run(context.Background(), append(args[:1:1], append(base, args[1:]...)...), &out, &errb)
	return code, out.String(), errb.String()
}

func testdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

type trainJSON struct {
	RunID       string   `json:"run_id"`
	DatasetHash string   `json:"dataset_hash"`
	Task        string   `json:"task"`
	Best        string   `json:"best"`
	ModelPath   string   `json:"model_path"`
	Classes     []string `json:"classes"`
	Report      string   `json:"report"`
	Leaderboard []struct {
		Model      string             `json:"model"`
		Params     map[string]any     `json:"params"`
		CV         map[string]float64 `json:"cv"`
		Test       map[string]float64 `json:"test"`
		FitSeconds float64            `json:"fit_seconds"`
		Tuning     *struct {
			Batch int `json:"batch"`
		} `json:"tuning"`
	} `json:"leaderboard"`
}

// TestTrainEndToEnd trains on each bundled dataset through the CLI, checks
// the --json contract, then predicts and evaluates with the saved model.
func TestTrainEndToEnd(t *testing.T) {
	cases := []struct {
		name, file, target, task string
		extra                    []string
		metrics                  []string
		floor                    float64 // a floor on the best test metric well below the peers' (baselines.md)
	}{
		{"ames", "ames.csv", "Sale_Price", "regression", []string{"--time-column", "Year_Sold,Mo_Sold", "--segment-column", "Neighborhood"}, []string{"r2", "rmse", "mae", "mape", "within20"}, 0.85},
		{"txhousing", "txhousing.csv", "median", "regression", []string{"--time-column", "date", "--drop", "volume"}, []string{"r2", "rmse", "mae", "mape", "within20"}, 0.5},
		{"credit", "credit_data.csv", "Status", "binary", []string{"--test-rows", testdata("splits/credit_data.test_rows.txt")}, []string{"accuracy", "auc", "logloss", "f1"}, 0.8},
		{"churn", "mlc_churn.csv", "churn", "binary", nil, []string{"accuracy", "auc", "logloss", "f1"}, 0.8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"train", "--data", testdata(tc.file), "--target", tc.target, "--out", dir,
				"--json", "--cv-folds", "3", "--models", "linear,tree,gbdt", "--profile", "development"}, tc.extra...)
			code, stdout, stderr := tabforge(t, dir, args...)
			if code != 0 {
				t.Fatalf("train exit %d\nstderr:\n%s", code, stderr)
			}
			var res trainJSON
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
			}
			if res.RunID == "" || len(res.DatasetHash) != 64 || res.Task != tc.task || res.Best == "" || len(res.Leaderboard) < 3 {
				t.Fatalf("train --json = %+v", res)
			}
			// Every train writes a report, with explanations but without
			// curves; `report RUN` writes it again, --curves adds them.
			page := filepath.Join(dir, res.RunID, "report", "report.html")
			if res.Report != page {
				t.Errorf("train's report %q; want %q", res.Report, page)
			}
			if b, err := os.ReadFile(page); err != nil {
				t.Errorf("train wrote no report: %v", err)
			} else {
				html := string(b)
				for _, want := range []string{"shap_summary.png", "shap_dependence_00_", "feature_importance.png", "pdp_00_"} {
					if !strings.Contains(html, want) {
						t.Errorf("train's report lacks %s", want)
					}
				}
				if strings.Contains(html, "learning_curve.png") {
					t.Errorf("train's report has learning curves; report_curves is off by default")
				}
			}
			rdir := filepath.Join(dir, "again")
			rargs := []string{"report", res.RunID, "--out", rdir}
			if tc.name == "credit" {
				rargs = append(rargs, "--curves")
			}
			if code, out, stderr := tabforge(t, dir, rargs...); code != 0 || strings.TrimSpace(out) != filepath.Join(rdir, "report.html") {
				t.Errorf("report exit %d, stdout %q\nstderr:\n%s", code, out, stderr)
			} else if b, err := os.ReadFile(filepath.Join(rdir, "report.html")); err != nil || !strings.Contains(string(b), res.RunID) {
				t.Errorf("report.html: %v", err)
			} else if tc.name == "credit" && !strings.Contains(string(b), "learning_curve.png") {
				t.Errorf("report --curves wrote no learning curve")
			}
			for _, e := range res.Leaderboard {
				for _, m := range tc.metrics {
					if _, ok := e.Test[m]; !ok {
						t.Errorf("%s: test metrics %v lack %q", e.Model, e.Test, m)
					}
					if _, ok := e.CV[m]; !ok {
						t.Errorf("%s: cv metrics %v lack %q", e.Model, e.CV, m)
					}
				}
			}
			key := "r2"
			if tc.task != "regression" {
				key = "auc"
			}
			if got := res.Leaderboard[0].Test[key]; got < tc.floor {
				t.Errorf("best model %s test %s = %.4f; want >= %.2f", res.Best, key, got, tc.floor)
			}

			// The saved model predicts the training file (the target column is simply ignored).
			out := filepath.Join(dir, "preds.csv")
			if code, _, stderr := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", testdata(tc.file), "--out", out); code != 0 {
				t.Fatalf("predict exit %d: %s", code, stderr)
			}
			rows := readCSV(t, out)
			src := readCSV(t, testdata(tc.file))
			if len(rows) != len(src) {
				t.Errorf("predict wrote %d rows; want %d", len(rows)-1, len(src)-1)
			}
			code, stdout, stderr = tabforge(t, dir, "evaluate", "--model", res.ModelPath, "--data", testdata(tc.file), "--json")
			if code != 0 {
				t.Fatalf("evaluate exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, `"`+key+`"`) {
				t.Errorf("evaluate output lacks %s: %s", key, stdout)
			}

			// The run was recorded.
			code, stdout, _ = tabforge(t, dir, "runs", "show", res.RunID)
			if code != 0 || !strings.Contains(stdout, res.DatasetHash) || !strings.Contains(stdout, `"succeeded"`) {
				t.Errorf("runs show exit %d:\n%s", code, stdout)
			}
		})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBadInput checks that each kind of bad input gives a one-line error,
// the right exit code, no panic and no partial output files.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.csv", "")
	header := write("header.csv", "a,b,y\n")
	ragged := write("ragged.csv", "a,b,y\n1,2,3\n4,5\n")
	allMissing := write("nolabel.csv", "a,b,y\n1,2,\n3,4,\n")
	textTarget := write("text.csv", "a,y\n1,x\n2,y\n3,z\n")
	inf := write("inf.csv", "a,y\n1,2\nInf,3\n4,5\n")
	oneClass := write("oneclass.csv", "a,y\n1,no\n2,no\n3,no\n")
	corrupt := write("corrupt.tfm", "TABFORGE garbage that is not a model")
	foreign := write("foreign.tfm", "{\"json\": true}")

	out := filepath.Join(dir, "models")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no data flag", []string{"train", "--target", "y"}, 2, "--data is required"},
		{"unknown flag", []string{"train", "--bogus"}, 2, "unknown flag"},
		{"bad task", []string{"train", "--data", header, "--target", "y", "--task", "clustering"}, 2, "task"},
		{"bad --set key", []string{"train", "--data", header, "--target", "y", "--set", "min_r2_treshold=0.8"}, 2, "min_r2_threshold"},
		{"missing file", []string{"train", "--data", filepath.Join(dir, "nope.csv"), "--target", "y", "--out", out}, 1, "nope.csv"},
		{"empty file", []string{"train", "--data", empty, "--target", "y", "--out", out}, 1, "empty"},
		{"header only", []string{"train", "--data", header, "--target", "y", "--out", out}, 1, "no data rows"},
		{"ragged rows", []string{"train", "--data", ragged, "--target", "y", "--out", out}, 1, "line 3"},
		{"unknown target", []string{"train", "--data", testdata("credit_data.csv"), "--target", "Nope", "--out", out}, 1, `column(s) not found in the data: target "Nope"`},
		{"every missing column at once", []string{"train", "--data", testdata("credit_data.csv"), "--target", "Nope", "--drop", "Gone,Seniority", "--time-column", "When", "--segment-column", "Where", "--out", out},
			1, `4 column(s) not found in the data: target "Nope", drop "Gone", time_column "When", segment_column "Where"`},
		{"unwritable --out", []string{"train", "--data", testdata("credit_data.csv"), "--target", "Status", "--out", filepath.Join(empty, "models")}, 1, "output directory"},
		{"target all missing", []string{"train", "--data", allMissing, "--target", "y", "--out", out}, 1, "no values"},
		{"text target for regression", []string{"train", "--data", textTarget, "--target", "y", "--task", "regression", "--out", out}, 1, "not numeric"},
		{"infinite value", []string{"train", "--data", inf, "--target", "y", "--out", out}, 1, "infinite"},
		{"single class", []string{"train", "--data", oneClass, "--target", "y", "--task", "binary", "--out", out}, 1, "single class"},
		{"corrupt model", []string{"predict", "--model", corrupt, "--data", header, "--out", filepath.Join(dir, "p.csv")}, 1, "corrupt"},
		{"foreign model", []string{"predict", "--model", foreign, "--data", header, "--out", filepath.Join(dir, "p.csv")}, 1, "not a tabforge model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := tabforge(t, dir, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d; want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(lastLine(stderr)), "\n"); lines != 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stdout, "panic") {
				t.Errorf("panicked: %s", stderr)
			}
		})
	}
	// Nothing partial was left behind by the failures.
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("failed runs left files in %s: %v", out, entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "p.csv")); !os.IsNotExist(err) {
		t.Errorf("failed predict left an output file")
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestPredictInputContract trains a small model and predicts on altered
// copies of its data: missing columns fail, naming all of them; an extra
// column and an unseen category are warnings, listed in --json, and
// errors under --strict. A failed predict leaves no output file.
func TestPredictInputContract(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := tabforge(t, dir, "train", "--data", testdata("credit_data.csv"), "--target", "Status",
		"--models", "logistic", "--cv-folds", "0", "--out", dir, "--json", "--profile", "development")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, testdata("credit_data.csv"))[:50]
	col := func(name string) int { return slices.Index(rows[0], name) }
	write := func(name string, edit func(r []string, i int) []string) string {
		var b strings.Builder
		w := csv.NewWriter(&b)
		for i, r := range rows {
			w.Write(edit(slices.Clone(r), i))
		}
		w.Flush()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	noIncome := write("noincome.csv", func(r []string, _ int) []string {
		r = slices.Delete(r, col("Income"), col("Income")+1)
		return slices.Delete(r, col("Age"), col("Age")+1)
	})
	odd := write("odd.csv", func(r []string, i int) []string {
		if i == 0 {
			return append(r, "note")
		}
		if i == 7 {
			r[col("Home")] = "castle"
		}
		return append(r, "x")
	})
	tests := []struct {
		name     string
		data     string
		flags    []string
		code     int
		stderr   []string
		jsonHint string
	}{
		{"missing columns", noIncome, nil, 1, []string{`"Income"`, `"Age"`}, ""},
		{"extra and unseen warn", odd, []string{"--json"}, 0, []string{"warning:", `"note"`, `"castle"`}, `"castle"`},
		{"extra and unseen under --strict", odd, []string{"--strict"}, 1, []string{`unknown column(s) "note"`, `"castle"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "p.csv")
			args := append([]string{"predict", "--model", res.ModelPath, "--data", tt.data, "--out", out}, tt.flags...)
			code, stdout, stderr := tabforge(t, dir, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not contain %s", stderr, want)
				}
			}
			if tt.jsonHint != "" {
				var got struct {
					Input pipeline.InputReport `json:"input"`
				}
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("--json output %q: %v", stdout, err)
				}
				if len(got.Input.Unseen) != 1 || got.Input.Unseen[0].Column != "Home" || !slices.Equal(got.Input.Unseen[0].Labels, []string{"castle"}) ||
					!slices.Equal(got.Input.Extra, []string{"note"}) {
					t.Errorf("--json input = %+v; want Home's castle unseen and note extra", got.Input)
				}
			}
			if _, err := os.Stat(out); (err == nil) != (tt.code == 0) {
				t.Errorf("output file exists = %v after exit %d", err == nil, code)
			}
		})
	}
	// A .parquet --out is Parquet (it was CSV text under that name).
	pq := filepath.Join(dir, "p.parquet")
	if code, _, errs := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", odd, "--out", pq); code != 0 {
		t.Fatalf("predict to parquet: exit %d %s", code, errs)
	}
	if f, err := frame.ReadFile(pq, frame.ReadOptions{}); err != nil || f.NumRows() != len(rows)-1 || f.NumCols() != 3 {
		t.Errorf("parquet predictions: %v; want %d rows of prediction and two probabilities", err, len(rows)-1)
	}
	// An --out name of a format tabforge neither writes nor reads back is
	// refused before any work; p.xlsx and p.tsv got CSV text.
	for _, name := range []string{"p.xlsx", "p.tsv"} {
		bad := filepath.Join(dir, name)
		code, _, stderr := tabforge(t, dir, "predict", "--model", res.ModelPath, "--data", odd, "--out", bad)
		if _, err := os.Stat(bad); code != 2 || !strings.Contains(stderr, "unknown file extension") || err == nil {
			t.Errorf("predict --out %s: exit %d %q, file written %v; want a usage error and no file", name, code, stderr, err == nil)
		}
	}
	// --out naming the data file would overwrite the data: refused, and
	// the data left as it was.
	before, _ := os.ReadFile(odd)
	for _, cmd := range [][]string{{"predict", "--out", odd}, {"explain", "--out", odd}} {
		code, _, stderr := tabforge(t, dir, append(cmd, "--model", res.ModelPath, "--data", odd)...)
		if after, _ := os.ReadFile(odd); code != 2 || !strings.Contains(stderr, "is the --data file") || string(after) != string(before) {
			t.Errorf("%s onto its data: exit %d %q, data kept %v; want a usage error", cmd[0], code, stderr, string(after) == string(before))
		}
	}
}

// TestTrainParquet trains on a Parquet copy of a CSV dataset: the dataset
// version (content hash) is the same whatever the file format.
func TestTrainParquet(t *testing.T) {
	dir := t.TempDir()
	f, err := frame.ReadFile(testdata("credit_data.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "credit.parquet")
	if err := frame.WriteParquet(pq, f); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for _, data := range []string{testdata("credit_data.csv"), pq} {
		code, stdout, stderr := tabforge(t, dir, "train", "--data", data, "--target", "Status", "--models", "logistic",
			"--cv-folds", "0", "--out", dir, "--json", "--profile", "development")
		if code != 0 {
			t.Fatalf("train %s: exit %d: %s", data, code, stderr)
		}
		var res trainJSON
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		hashes[filepath.Ext(data)] = res.DatasetHash
	}
	if hashes[".csv"] != hashes[".parquet"] {
		t.Errorf("dataset hash differs between CSV (%s) and Parquet (%s)", hashes[".csv"], hashes[".parquet"])
	}
}

// TestTrainSegmentBy trains one ridge model per txhousing city through the
// CLI: the per-segment table lists every city, own model or global
// fallback, and the one saved artifact predicts the whole file.
func TestTrainSegmentBy(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := tabforge(t, dir, "train", "--data", testdata("txhousing.csv"), "--target", "median",
		"--time-column", "date", "--drop", "volume", "--test-rows", testdata("splits/txhousing_novolume.test_rows.txt"),
		"--models", "ridge", "--cv-folds", "0", "--segment-by", "city", "--set", "min_segment_rows=135",
		"--set", "force_production_quality=false", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "per-segment models by city (ridge; 37 segments with their own model, 9 on the global model)") {
		t.Errorf("no per-segment summary in:\n%s", out)
	}
	for _, want := range []string{"Kerrville", "global", "own", "Austin"} {
		if !strings.Contains(out, want) {
			t.Errorf("per-segment table lacks %q", want)
		}
	}
	var model string
	for _, line := range strings.Split(out, "\n") {
		if after, ok := strings.CutPrefix(line, "best: ridge -> "); ok {
			model = after
		}
	}
	if model == "" {
		t.Fatalf("no saved model in:\n%s", out)
	}
	pred := filepath.Join(dir, "pred.csv")
	if code, _, errs := tabforge(t, dir, "predict", "--model", model, "--data", testdata("txhousing.csv"), "--out", pred); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
}

// TestFormatMetric: errors keep whole units at price scale and four
// significant digits below (a target near 1 printed rmse 0).
func TestFormatMetric(t *testing.T) {
	for _, tt := range []struct {
		key  string
		v    float64
		want string
	}{{"rmse", 20417.3, "20417"}, {"rmse", 0.03312, "0.03312"}, {"mae", 12.3456, "12.35"}, {"r2", 0.93, "0.9300"}, {"within20", 91.176, "91.18"},
		{"rmse", 2.7772884e150, "2.777e+150"}, {"mape", 4.5e15, "4.5e+15"}, {"mape", math.NaN(), "n/a"}, {"auc", math.NaN(), "n/a"}} {
		if got := formatMetric(tt.key, tt.v); got != tt.want {
			t.Errorf("formatMetric(%s, %v) = %s; want %s", tt.key, tt.v, got, tt.want)
		}
	}
}

// TestPrintRankedFolds: when the leaderboard is ranked on the folds every
// entry shares, the table shows each entry's score there beside its CV
// over all folds, so the order can be read off the table (the README's
// first command showed ensemble:average at 0.8323 above gbdt at 0.8369).
func TestPrintRankedFolds(t *testing.T) {
	ranked := func(v float64) *float64 { return &v }
	r := &pipeline.Result{RunID: "r", DatasetHash: "0123456789abcdef", Task: "regression", Target: "y", Metric: "r2", CVFolds: 5,
		RankedFolds: []int{2, 3, 4, 5},
		Leaderboard: []pipeline.Entry{
			{Model: "ensemble:average", CV: map[string]float64{"r2": 0.8323}, CVRanked: ranked(0.8323)},
			{Model: "gbdt", CV: map[string]float64{"r2": 0.8369}, CVRanked: ranked(0.8310)},
			{Model: "ols", Error: "boom"},
		}}
	var b bytes.Buffer
	printResult(&b, r)
	line := func(prefix string) string {
		for l := range strings.Lines(b.String()) {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		t.Fatalf("no line starting %q in:\n%s", prefix, b.String())
		return ""
	}
	if h := line("#"); !strings.Contains(h, "cv r2 folds 2-5") {
		t.Fatalf("header %q; want the ranked folds' column", h)
	}
	if f := strings.Fields(line("2 ")); !slices.Contains(f, "0.8369") || !slices.Contains(f, "0.8310") {
		t.Errorf("gbdt's line %q; want its CV over all folds and over folds 2-5", f)
	}
	r.RankedFolds = nil
	b.Reset()
	printResult(&b, r)
	if strings.Contains(b.String(), "folds 2-5") {
		t.Errorf("every fold ranked, yet the table shows a ranked-folds column:\n%s", b.String())
	}
}

// TestPrintFailedEntryKeepsWidths: a failed candidate's error was a cell
// of the CV column, which a 130-character error widened, pushing every
// score of the table far right.
func TestPrintFailedEntryKeepsWidths(t *testing.T) {
	long := "fold 1: preprocessing: features: column \"huge\": statistics overflow (fill -8.015488195954211e+305, mean -Inf, scale 1)"
	r := &pipeline.Result{RunID: "r", DatasetHash: "0123456789abcdef", Task: "binary", Target: "y", Metric: "auc", CVFolds: 5,
		Leaderboard: []pipeline.Entry{
			{Model: "forest", CV: map[string]float64{"auc": 0.92}, CVStd: map[string]float64{"auc": 0.02}},
			{Model: "logistic", Error: long},
		}}
	var b bytes.Buffer
	printResult(&b, r)
	for l := range strings.Lines(b.String()) {
		if strings.HasPrefix(strings.TrimSpace(l), "1 ") && len(l) > 100 {
			t.Errorf("forest's line is %d characters wide: %q", len(l), l)
		}
		if strings.Contains(l, "logistic") && !strings.Contains(l, "logistic  failed: "+long) {
			t.Errorf("logistic's line %q; want its whole error", l)
		}
	}
}
