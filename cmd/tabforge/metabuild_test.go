package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/model"
)

// TestMetaBuild builds a knowledge base from the two-table corpus of
// testdata through the CLI, checks every design configuration was scored
// on both, then runs the build again: both tables are known, so it
// resumes with nothing to do and leaves the file as it was, and with
// --refresh-features it recomputes the meta-features and keeps the scores.
func TestMetaBuild(t *testing.T) {
	out := filepath.Join(t.TempDir(), "kb.json.gz")
	build := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"meta", "build", "--corpus", testdata("corpus"), "--out", out, "--jobs", "2"}, &stdout, &stderr); code != 0 {
			t.Fatalf("meta build: exit %d\n%s", code, stderr.String())
		}
		return stdout.String()
	}
	if got := build(); !strings.Contains(got, "2 dataset(s) scored, 0 already known, 0 failed") {
		t.Errorf("first build: %q", got)
	}
	s, err := meta.ReadSnapshotFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := len(meta.Design(model.Regression)) + len(meta.Design(model.Multiclass))
	if len(s.Datasets) != 2 || len(s.Evals) != want {
		t.Errorf("snapshot has %d datasets and %d evaluations; want 2 and %d", len(s.Datasets), len(s.Evals), want)
	}
	if got := build(); !strings.Contains(got, "0 dataset(s) scored, 2 already known, 0 failed") {
		t.Errorf("resumed build: %q", got)
	}
	// --refresh-features recomputes the meta-features a file holds and
	// keeps its scores: features overwritten by hand come back as built.
	built := s.Datasets[0].Features.Values
	s.Datasets[0].Features.Values = map[string]float64{"rows": 1}
	if err := s.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"meta", "build", "--corpus", testdata("corpus"), "--out", out, "--refresh-features"}, &stdout, &stderr); code != 0 {
		t.Fatalf("meta build --refresh-features: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 with meta-features recomputed") {
		t.Errorf("refresh build: %q", stdout.String())
	}
	r, err := meta.ReadSnapshotFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Evals) != want || !maps.Equal(r.Datasets[0].Features.Values, built) {
		t.Errorf("after --refresh-features: %d evaluations (want %d), features %v; want those built, %v", len(r.Evals), want, r.Datasets[0].Features.Values, built)
	}
	// meta eval on the shipped knowledge base, tuning one corpus table
	// cold and warm.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"meta", "eval", "--corpus", testdata("corpus"), "--limit", "1", "--trials", "4"}, &stdout, &stderr); code != 0 {
		t.Fatalf("meta eval: exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"best family", "cold vs warm TPE, 4 trials each", "BEST@4"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("meta eval output lacks %q:\n%s", want, stdout.String())
		}
	}
	// --only tunes the named table alone: the second in the manifest here,
	// which --limit 1 leaves out.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"meta", "eval", "--corpus", testdata("corpus"), "--only", "palmerpenguins_penguins.csv", "--trials", "2", "-v"}, &stdout, &stderr); code != 0 {
		t.Fatalf("meta eval --only: exit %d\n%s", code, stderr.String())
	}
	_, got, _ := strings.Cut(stdout.String(), "cold vs warm TPE") // the zero-shot table before it lists every known dataset
	if !strings.Contains(got, "palmerpenguins_penguins.csv") || strings.Contains(got, "ggplot2_mpg.csv") || !strings.Contains(got, "of 1 compared datasets") {
		t.Errorf("meta eval --only palmerpenguins_penguins.csv tuned other tables or none:\n%s", stdout.String())
	}
	// -v gives each table's normalised cold/warm scores, the terms of the
	// means, at every checkpoint (one here: 2 trials).
	if !strings.Contains(got, "@2 COLD/WARM") || !regexp.MustCompile(`palmerpenguins_penguins\.csv .* [01]\.\d{3}/[01]\.\d{3}`).MatchString(got) {
		t.Errorf("meta eval -v lacks the per-table normalised scores:\n%s", got)
	}
}

// TestTrainMetaLearningJSON trains on a corpus table with meta_learning
// on: the shipped knowledge base has similar tables, so untuned families
// start from their configurations (zero-shot) and --json says so. The
// shipped record of the table itself (scored with its holdout rows) is
// left out.
func TestTrainMetaLearningJSON(t *testing.T) {
	dir := t.TempDir()
	code, stdout, errs := cli(t, dir, "train", "--data", testdata("corpus/ggplot2_mpg.csv"), "--target", "hwy", "--models", "gbdt,ridge",
		"--cv-folds", "3", "--profile", "development", "--set", "meta_learning=true", "--out", filepath.Join(dir, "models"), "--json")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	var res struct {
		Meta *struct {
			Mode       string `json:"mode"`
			Far        bool   `json:"far"`
			Neighbours []struct {
				Name     string  `json:"name"`
				Distance float64 `json:"distance"`
			} `json:"neighbours"`
			Tried []struct {
				Family string `json:"family"`
				Use    string `json:"use"`
			} `json:"tried"`
		} `json:"meta"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("train --json: %v\n%s", err, stdout)
	}
	m := res.Meta
	if m == nil || m.Mode != "zero-shot" || m.Far || len(m.Neighbours) != 5 {
		t.Fatalf("meta = %+v; want zero-shot from 5 near datasets", m)
	}
	for _, n := range m.Neighbours {
		if n.Name == "ggplot2_mpg.csv" || n.Distance <= 0 {
			t.Errorf("neighbour %+v: the shipped record of the table itself advised its run", n)
		}
	}
	if len(m.Tried) != 2 {
		t.Errorf("tried = %+v; want a configuration for gbdt and ridge", m.Tried)
	}
}

// TestMetaBuildNewerOut: resuming an --out that holds a member this build
// does not know (a newer tabforge's) fails before anything is scored and
// leaves the file as it was, instead of rewriting it without the member.
func TestMetaBuildNewerOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "kb.json.gz")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"version":1,"datasets":[],"evals":[],"portfolio":["gbdt"]}`))
	zw.Close()
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"meta", "build", "--corpus", testdata("corpus"), "--out", out}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), `"portfolio"`) || !strings.Contains(stderr.String(), "newer") {
		t.Errorf("meta build --out (newer file): exit %d, stderr %q; want a failure naming the member", code, stderr.String())
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Errorf("the newer file was changed (%v)", err)
	}
}
