package meta

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/unitrec"
	"github.com/tabforge/tabforge/pipeline"
)

// queryRecorder is a pipeline.MetaAdvisor that keeps the table a run
// asks about and advises nothing.
type queryRecorder struct{ table *pipeline.TrainingTable }

func (q *queryRecorder) AdviseRun(_ context.Context, mq pipeline.MetaQuery) (*pipeline.MetaAdvice, error) {
	q.table = mq.Table
	return &pipeline.MetaAdvice{}, nil
}

// queryFeatures are the meta-features a train run of d asks the
// knowledge base about, computed with o.
func queryFeatures(t *testing.T, d CorpusDataset, family string, o Options) *Features {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Task, cfg.Out = d.File, d.Target, d.TimeColumn, config.Task(d.Task), t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.MetaLearning = []string{family}, 0, true
	rec := &queryRecorder{}
	if _, err := pipeline.Train(t.Context(), cfg, pipeline.Options{Meta: rec}); err != nil {
		t.Fatal(err)
	}
	if rec.table == nil {
		t.Fatal("the run never asked for advice")
	}
	f, err := Compute(t.Context(), rec.table, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBuildRecordsQueryFeatures checks that a built knowledge base
// describes a dataset by the meta-features a train run on its file asks
// about: those of the training part after the run's holdout split (by
// time with a time column). The build computed them on the whole file,
// test rows included, so records and queries described different rows
// (the class balance of a temporal table's earlier 80% is not the
// file's).
func TestBuildRecordsQueryFeatures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "corpus")
	cases := []struct {
		d      CorpusDataset
		family string
	}{
		{CorpusDataset{File: filepath.Join(dir, "ggplot2_mpg.csv"), Target: "hwy", Task: "regression"}, "ridge"},
		{CorpusDataset{File: filepath.Join(dir, "palmerpenguins_penguins.csv"), Target: "species", Task: "multiclass", TimeColumn: "year"}, "logistic"},
	}
	o := Options{LandmarkRows: 300}
	for _, c := range cases {
		t.Run(filepath.Base(c.d.File), func(t *testing.T) {
			kb := &KB{Records: newMemRecords(), Options: o}
			rep, err := Build(t.Context(), kb, []CorpusDataset{c.d}, BuildOptions{MaxRows: 120, Folds: 2, Jobs: 1})
			if err != nil || rep.Scored != 1 {
				t.Fatalf("Build = %+v, %v; want the dataset scored", rep, err)
			}
			f, err := frame.ReadFile(c.d.File, frame.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			d, err := kb.Dataset(t.Context(), DatasetKey(f.Hash(), c.d.Target))
			if err != nil {
				t.Fatal(err)
			}
			want := queryFeatures(t, c.d, c.family, o).Values
			got := d.Features.Values
			if len(got) != len(want) {
				t.Errorf("recorded %d meta-features; the query has %d", len(got), len(want))
			}
			for name, w := range want {
				if g, ok := got[name]; !ok || g != w {
					t.Errorf("recorded %s = %v (present %v); the query's is %v", name, g, ok, w)
				}
			}
		})
	}
}

// TestBuildRefreshFeatures: on a knowledge base whose meta-features
// describe whole files (as builds recorded them before), a build with
// RefreshFeatures recomputes them on the training part, as a new build
// records them, and keeps every evaluation without scoring again; in
// process and as units alike. A build without it leaves them as they
// are.
func TestBuildRefreshFeatures(t *testing.T) {
	corpus := []CorpusDataset{
		{File: filepath.Join("..", "testdata", "corpus", "ggplot2_mpg.csv"), Target: "hwy", Task: "regression"},
		{File: filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), Target: "species", Task: "multiclass", TimeColumn: "year"},
	}
	o := BuildOptions{MaxRows: 120, Folds: 2, Jobs: 1}
	opts := Options{LandmarkRows: 300}
	fresh := &KB{Records: newMemRecords(), Options: opts}
	if _, err := Build(t.Context(), fresh, corpus, o); err != nil {
		t.Fatal(err)
	}
	want := evalsText(t, fresh)
	for _, units := range []bool{false, true} {
		kb := &KB{Records: newMemRecords(), Options: opts}
		if _, _, err := kb.Import(t.Context(), snapshotOf(t, fresh)); err != nil {
			t.Fatal(err)
		}
		wholeFileFeatures(t, kb, corpus)
		stale := evalsText(t, kb)
		if stale == want {
			t.Fatal("whole-file meta-features equal the training part's: the test cannot tell them apart")
		}
		bo := o
		if units {
			bo.Executor, bo.CodeVersion = &unitrec.Recorder{Local: pipeline.Local{Workers: 1}}, "test build"
		}
		if rep, err := Build(t.Context(), kb, corpus, bo); err != nil || rep.Skipped != 2 || evalsText(t, kb) != stale {
			t.Errorf("units %v: build without RefreshFeatures = %+v, %v; want both skipped, meta-features unchanged", units, rep, err)
		}
		bo.RefreshFeatures = true
		rep, err := Build(t.Context(), kb, corpus, bo)
		if err != nil || rep.Skipped != 2 || rep.Refreshed != 2 || rep.Scored != 0 {
			t.Errorf("units %v: refreshing build = %+v, %v; want 2 refreshed and skipped, none scored", units, rep, err)
		}
		if got := evalsText(t, kb); got != want {
			t.Errorf("units %v: refreshed knowledge base:\n%s\nwant a fresh build's:\n%s", units, got, want)
		}
	}
}

// snapshotOf is kb's snapshot.
func snapshotOf(t *testing.T, kb *KB) *Snapshot {
	t.Helper()
	s, err := kb.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wholeFileFeatures replaces the meta-features kb records for each
// corpus dataset with those of its whole file, test rows included.
func wholeFileFeatures(t *testing.T, kb *KB, corpus []CorpusDataset) {
	t.Helper()
	for _, d := range corpus {
		f, err := frame.ReadFile(d.File, frame.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := kb.Dataset(t.Context(), DatasetKey(f.Hash(), d.Target))
		if err != nil {
			t.Fatal(err)
		}
		whole, err := pipeline.LoadTrainingTable(f, buildConfig(d, BuildOptions{}))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Features, err = Compute(t.Context(), whole, kb.Options); err != nil {
			t.Fatal(err)
		}
		if err := kb.PutDataset(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
	}
}
