package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	vs := []Variant{{Name: "base"}, {Name: "new"}}
	run := func(v string, value, s float64) CorpusRun { return CorpusRun{Variant: v, Value: value, Seconds: s} }
	fail := func(v string, s float64) CorpusRun {
		return CorpusRun{Variant: v, Seconds: s, Err: "timeout after 2m0s"}
	}
	ds := []CorpusDataset{
		{Name: "win", Metric: "r2", Runs: []CorpusRun{run("base", 0.70, 1), run("new", 0.75, 2)}},              // +0.05
		{Name: "tie", Metric: "auc", Runs: []CorpusRun{run("base", 0.900, 1), run("new", 0.9015, 2)}},          // +0.0015 ≤ tie
		{Name: "loss", Metric: "auc", Runs: []CorpusRun{run("base", 0.80, 1), run("new", 0.77, 2)}},            // -0.03
		{Name: "logloss win", Metric: "logloss", Runs: []CorpusRun{run("base", 0.40, 1), run("new", 0.30, 2)}}, // +0.10 (negated)
		{Name: "new fails", Metric: "r2", Runs: []CorpusRun{run("base", 0.5, 1), fail("new", 120)}},
		{Name: "base fails", Metric: "r2", Runs: []CorpusRun{fail("base", 120), run("new", 0.9, 2)}},
	}
	got := Summarize(ds, vs, DefaultTie)
	// mean delta over the four compared datasets: (0.05 + 0.0015 - 0.03 + 0.10) / 4
	want := []VariantSummary{
		{Variant: "base", Seconds: 1 + 1 + 1 + 1 + 1 + 120, Failures: 1},
		{Variant: "new", Wins: 2, Ties: 1, Losses: 1, Compared: 4, MeanDelta: (0.05 + 0.0015 - 0.03 + 0.10) / 4, Seconds: 2*5 + 120, Failures: 1},
	}
	if len(got) != 2 {
		t.Fatalf("Summarize gave %d rows; want 2", len(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		if d := g.MeanDelta - w.MeanDelta; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s: mean delta %v; want %v", w.Variant, g.MeanDelta, w.MeanDelta)
		}
		g.MeanDelta, w.MeanDelta = 0, 0
		if g != w {
			t.Errorf("summary %+v; want %+v", g, w)
		}
	}

	// A wider tie margin turns the win and the loss into ties.
	if s := Summarize(ds, vs, 0.06)[1]; s.Wins != 1 || s.Ties != 3 || s.Losses != 0 {
		t.Errorf("tie 0.06: %d/%d/%d wins/ties/losses; want 1/3/0", s.Wins, s.Ties, s.Losses)
	}
}

func TestFilterDatasets(t *testing.T) {
	ds := []Dataset{{Name: "r1", Task: "regression"}, {Name: "b1", Task: "binary"}, {Name: "r2", Task: "regression"}, {Name: "r3", Task: "regression"}}
	names := func(ds []Dataset) []string {
		var n []string
		for _, d := range ds {
			n = append(n, d.Name)
		}
		return n
	}
	for _, tc := range []struct {
		task  string
		limit int
		want  []string
	}{
		{"", 0, []string{"r1", "b1", "r2", "r3"}},
		{"regression", 0, []string{"r1", "r2", "r3"}},
		{"regression", 2, []string{"r1", "r2"}},
		{"", 1, []string{"r1"}},
		{"multiclass", 0, nil},
	} {
		if got := names(FilterDatasets(ds, tc.task, tc.limit)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FilterDatasets(%q, %d) = %q; want %q", tc.task, tc.limit, got, tc.want)
		}
	}
}

// TestSubsample: the sample keeps the header, the requested number of
// rows in their original order (fields with commas and newlines intact),
// and is the same for the same seed; a small file is used as it is.
func TestSubsample(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.csv")
	recs := [][]string{{"id", "text"}}
	for i := range 50 {
		recs = append(recs, []string{string(rune('A' + i%26)), "a, \"b\"\nline " + strings.Repeat("x", i)})
	}
	if err := writeCSV(src, recs); err != nil {
		t.Fatal(err)
	}
	read := func(p string) [][]string {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	got, n, err := Subsample(src, filepath.Join(dir, "a.csv"), 10, 7)
	if err != nil || n != 10 {
		t.Fatalf("Subsample = %s, %d, %v; want 10 rows", got, n, err)
	}
	sample := read(got)
	if len(sample) != 11 || !reflect.DeepEqual(sample[0], recs[0]) {
		t.Fatalf("sample has %d records, header %q; want 11 and %q", len(sample), sample[0], recs[0])
	}
	last := -1
	for _, r := range sample[1:] {
		i := strings.Count(r[1], "x") // the source row's index
		if i <= last || !reflect.DeepEqual(r, recs[i+1]) {
			t.Errorf("sampled row %q out of order or changed (after source row %d)", r, last)
		}
		last = i
	}
	again, _, _ := Subsample(src, filepath.Join(dir, "b.csv"), 10, 7)
	if !reflect.DeepEqual(read(again), sample) {
		t.Error("the same seed gave a different sample")
	}
	if p, n, err := Subsample(src, filepath.Join(dir, "c.csv"), 50, 7); p != src || n != 50 || err != nil {
		t.Errorf("Subsample(50 rows, max 50) = %s, %d, %v; want the source itself", p, n, err)
	}
	if _, _, err := Subsample(filepath.Join(dir, "missing.csv"), filepath.Join(dir, "d.csv"), 5, 7); err == nil {
		t.Error("Subsample of a missing file: no error")
	}
}

func TestPrintCorpus(t *testing.T) {
	vs := []Variant{{Name: "base"}, {Name: "lr", Flags: []string{"--set", "model_params={gbdt: {learning_rate: 0.05}}"}}}
	rep := &CorpusReport{Variants: vs, Tie: DefaultTie, Datasets: []CorpusDataset{
		{Name: "mpg", Task: "regression", Metric: "r2", Rows: 100, Runs: []CorpusRun{{Variant: "base", Value: 0.9, Seconds: 1}, {Variant: "lr", Value: 0.95, Seconds: 2}}},
		{Name: "big", Task: "binary", Metric: "auc", Rows: 100, Runs: []CorpusRun{{Variant: "base", Value: 0.8, Seconds: 1}, {Variant: "lr", Err: "timeout after 1s", Seconds: 1}}},
	}}
	rep.Summary = Summarize(rep.Datasets, vs, rep.Tie)
	var b bytes.Buffer
	if err := PrintCorpus(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"0.9500", "failed", "a tie is a difference of at most 0.002",
		`--set 'model_params={gbdt: {learning_rate: 0.05}}'`, "+0.0500", "failures (1):", "big [lr]: timeout after 1s"} {
		if !strings.Contains(out, want) {
			t.Errorf("corpus table lacks %q:\n%s", want, out)
		}
	}
}

// TestCorpusInterrupted: a corpus interrupted before a run starts (its
// context cancelled between two runs) records the run as failed and
// returns the report so far; reading the usage of a process that never
// started panicked the benchmark.
func TestCorpusInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	self, err := os.Executable() // never started: the context is done
	if err != nil {
		t.Fatal(err)
	}
	ds := []Dataset{{Name: "a", File: "a.csv", Target: "y", Task: "regression"}}
	rep, err := Corpus(ctx, self, ds, CorpusOptions{Variants: []Variant{{Name: "base"}, {Name: "other"}}}, io.Discard)
	if !errors.Is(err, context.Canceled) || rep == nil {
		t.Fatalf("Corpus(cancelled) = %v, %v; want the report so far and context.Canceled", rep, err)
	}
	if len(rep.Datasets) != 1 || len(rep.Datasets[0].Runs) != 1 || rep.Datasets[0].Runs[0].Err == "" {
		t.Errorf("report %+v; want one dataset with one failed run", rep.Datasets)
	}
}
