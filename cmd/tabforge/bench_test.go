package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/bench"
)

// TestBenchCommands builds the real binary once (the bench commands run it
// in fresh processes) and runs bench profiles and bench corpus on small jobs.
func TestBenchCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tabforge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("profiles", func(t *testing.T) { testBenchProfiles(t, bin) })
	t.Run("corpus", func(t *testing.T) { testBenchCorpus(t, bin) })
	t.Run("every run failed", func(t *testing.T) { testBenchEveryRunFailed(t, bin) })
	t.Run("quality seeds", func(t *testing.T) { testBenchQualitySeeds(t, bin) })
}

// testBenchQualitySeeds runs a manifest dataset at two seeds: one result
// per seed, each train run given its seed (train's default split is
// seeded, so the two test sets and scores differ).
func testBenchQualitySeeds(t *testing.T, bin string) {
	cmd := exec.Command(bin, "bench", "quality", "--manifest", testdata("corpus/MANIFEST.csv"), "--only", "ggplot2_mpg",
		"--seeds", "1,2", "--peers", testdata("peers/baselines.json"), "--json", "--", "--models", "ridge", "--set", "cv_folds=2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench quality: %v\n%s", err, stderr.String())
	}
	var rs []bench.QualityResult
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("results: %v\n%s", err, out)
	}
	if len(rs) != 2 {
		t.Fatalf("%d results; want one per seed:\n%s", len(rs), out)
	}
	for i, r := range rs {
		if r.Err != "" || r.Metric != "r2" || r.Seed == nil || *r.Seed != i+1 {
			t.Errorf("result %d: %+v; want a successful r2 run at seed %d", i, r, i+1)
		}
	}
	if rs[0].Value == rs[1].Value {
		t.Errorf("both seeds scored %v: the seed did not reach train", rs[0].Value)
	}
	if !strings.Contains(stderr.String(), "--seed 2") {
		t.Errorf("log does not show the seeded train command:\n%s", stderr.String())
	}
}

// testBenchEveryRunFailed: a comparison whose train runs all fail prints
// why and exits 1; it exited 0 having measured nothing.
func testBenchEveryRunFailed(t *testing.T, bin string) {
	missing := filepath.Join(t.TempDir(), "missing.csv")
	for _, sub := range []string{"cache", "features", "profiles"} {
		t.Run(sub, func(t *testing.T) {
			cmd := exec.Command(bin, "bench", sub, "--", "--data", missing, "--target", "Status")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "every train run failed") ||
				!strings.Contains(string(out), "failed") {
				t.Errorf("bench %s: %v\nstdout %s\nstderr %s; want exit 1 naming the failure", sub, err, out, stderr.String())
			}
		})
	}
}

// testBenchProfiles compares two profiles on a small job.
func testBenchProfiles(t *testing.T, bin string) {
	out, err := exec.Command(bin, "bench", "profiles", "--profiles", "development,production", "--",
		"--data", testdata("credit_data.csv"), "--target", "Status", "--models", "logistic", "--cv-folds", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("bench profiles: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"development", "production", "auc 0.", "logistic"} {
		if !strings.Contains(text, want) {
			t.Errorf("profile table lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "failed") {
		t.Errorf("a profile run failed:\n%s", text)
	}
}

// testBenchCorpus runs two variants on the two datasets of
// testdata/corpus (a regression and a multiclass problem of the meta
// corpus), subsampled, and reads the JSON report.
func testBenchCorpus(t *testing.T, bin string) {
	results := filepath.Join(t.TempDir(), "runs")
	cmd := exec.Command(bin, "bench", "corpus", "--manifest", testdata("corpus/MANIFEST.csv"), "--max-rows", "120",
		"--timeout", "60s", "--json", "--results", results, "--variant", "base=",
		"--variant", `lr05=--set "model_params={gbdt: {learning_rate: 0.05}}"`)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench corpus: %v\n%s", err, stderr.String())
	}
	var rep bench.CorpusReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	metrics := map[string]string{"ggplot2_mpg": "r2", "palmerpenguins_penguins": "logloss"}
	if len(rep.Datasets) != len(metrics) {
		t.Fatalf("%d datasets; want %d", len(rep.Datasets), len(metrics))
	}
	for _, d := range rep.Datasets {
		if d.Metric != metrics[d.Name] || d.Rows != 120 || len(d.Runs) != 2 {
			t.Errorf("%s: metric %s, %d rows, %d runs; want %s, 120 rows, 2 runs", d.Name, d.Metric, d.Rows, len(d.Runs), metrics[d.Name])
		}
		for _, r := range d.Runs {
			if r.Err != "" || !(r.Seconds > 0) || !(r.Value > 0) || (d.Metric == "r2" && r.Value > 1) {
				t.Errorf("%s [%s]: %+v; want a successful run with a valid %s", d.Name, r.Variant, r, d.Metric)
			}
			// --results kept the run's whole result: its leaderboard
			// names the pick the report has.
			var kept struct {
				Best        string `json:"best"`
				Leaderboard []struct {
					Model string `json:"model"`
				} `json:"leaderboard"`
			}
			b, err := os.ReadFile(filepath.Join(results, d.Name+"."+r.Variant+".json"))
			if err != nil || json.Unmarshal(b, &kept) != nil || kept.Best != r.Best || len(kept.Leaderboard) < 2 {
				t.Errorf("%s [%s]: kept result %v, best %q with %d entries; want the run's pick %q and its leaderboard", d.Name, r.Variant, err, kept.Best, len(kept.Leaderboard), r.Best)
			}
		}
	}
	if len(rep.Summary) != 2 {
		t.Fatalf("summary %+v; want 2 variants", rep.Summary)
	}
	if s := rep.Summary[1]; s.Variant != "lr05" || s.Compared != 2 || s.Wins+s.Ties+s.Losses != 2 || s.Failures != 0 {
		t.Errorf("summary of lr05 %+v; want 2 datasets compared, no failure", s)
	}

	// A malformed variant is a usage error before any run.
	bad, err := exec.Command(bin, "bench", "corpus", "--manifest", testdata("corpus/MANIFEST.csv"), "--variant", `x=--set "open`).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "unclosed") {
		t.Errorf("bench corpus with a bad variant: %v\n%s; want a usage error naming the unclosed quote", err, bad)
	}
}

// TestBenchUsage: a suite run that could only print NaN timings is
// refused before any data is generated.
func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "trees", "--rows", "1"}, "at least 100"},
		{[]string{"bench", "nosuch"}, "unknown suite"},
		// 0 or negative counts were run as the defaults.
		{[]string{"bench", "trees", "--runs", "0"}, "--runs 0: at least 1"},
		{[]string{"bench", "shap", "--depth", "0"}, "--depth 0: at least 1"},
		{[]string{"bench", "shap", "--runs", "-1"}, "--runs -1: at least 1"},
		{[]string{"runs", "list", "--limit", "-1"}, "--limit -1: want 0 (all runs) or more"},
	} {
		var out, errb bytes.Buffer
		args := append(tc.args, "--store", "sqlite://"+filepath.Join(t.TempDir(), "tf.db"))
		if code := run(t.Context(), args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// TestBenchQualitySeedsUsage: --seeds that would make every run fail (a
// negative seed, which train's --seed refuses) or every run alike (a
// --seed among the train flags, which comes later and wins) are bad
// usage, said before any run starts.
func TestBenchQualitySeedsUsage(t *testing.T) {
	dir := t.TempDir()
	base := []string{"bench", "quality", "--manifest", testdata("corpus/MANIFEST.csv"), "--only", "ggplot2_mpg",
		"--peers", testdata("peers/baselines.json")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--seeds", "1,-1"}, "--seeds -1"},
		{[]string{"--seeds", "1,2", "--", "--seed", "3"}, "--seed among the train flags"},
		{[]string{"--seeds", "1,2", "--", "--seed=3"}, "--seed=3 among the train flags"},
	} {
		code, _, stderr := tabforge(t, dir, append(slices.Clone(base), c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("bench quality %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
