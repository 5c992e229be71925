package meta

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// backends opens each real store the knowledge base must work on:
// SQLite in a temporary directory, and Redis ($TABFORGE_TEST_REDIS, or a
// private redis-server started for the test).
func backends() []struct {
	name string
	open func(t *testing.T) store.Store
} {
	return []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"sqlite", openSQLite},
		{"redis", func(t *testing.T) store.Store {
			st, err := redis.Open(context.Background(), redistest.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	}
}

func openSQLite(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// trainInto runs a real training run on a corpus table, recording into kb.
func trainInto(t *testing.T, st store.Store, kb *KB, file, target string, models []string, tuned bool) *pipeline.Result {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "corpus", file), target
	cfg.Models, cfg.CVFolds, cfg.Out = models, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.MaxEvals = tuned, 3
	res, err := pipeline.Train(context.Background(), cfg, pipeline.Options{Runs: st, Studies: st, Knowledge: kb})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, "knowledge base not updated") {
			t.Fatal(w)
		}
	}
	return res
}

// TestKnowledgeBaseGrows trains on two corpus tables and checks that
// each run adds its dataset and every configuration it evaluated: the
// tuning trials, the untuned candidates and the ensembles.
func TestKnowledgeBaseGrows(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			kb := &KB{Records: st, Options: Options{LandmarkRows: 300}}

			res := trainInto(t, st, kb, "palmerpenguins_penguins.csv", "species", []string{"logistic"}, true)
			key := DatasetKey(res.DatasetHash, "species")
			d, err := kb.Dataset(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			// The run's training rows, not the file's 344: what a query asks about.
			if d.Task != "multiclass" || d.Features.Values[Rows] != float64(res.TrainRows) || res.TrainRows >= 344 || d.Metric != res.Metric {
				t.Errorf("dataset record %+v", d)
			}
			evals, err := kb.Evals(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			tuning := res.Leaderboard[0].Tuning
			if tuning == nil || len(evals) != tuning.Trials {
				t.Fatalf("%d evaluations after a run of %+v trials", len(evals), tuning)
			}
			for _, e := range evals {
				if e.Source != pipeline.SourceTrial || e.Family != "logistic" || e.Study != tuning.Study || len(e.Folds) != 3 || e.Seconds <= 0 || math.IsNaN(e.Score) {
					t.Errorf("trial evaluation %+v", e)
				}
				if mean := (e.Folds[0] + e.Folds[1] + e.Folds[2]) / 3; math.Abs(mean-e.Score) > 1e-9 {
					t.Errorf("score %v is not the mean of its folds %v", e.Score, e.Folds)
				}
			}

			res2 := trainInto(t, st, kb, "ggplot2_mpg.csv", "hwy", []string{"ridge", "tree"}, false)
			all, err := kb.Datasets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 {
				t.Fatalf("%d datasets after two runs on two tables", len(all))
			}
			evals2, err := kb.Evals(ctx, DatasetKey(res2.DatasetHash, "hwy"))
			if err != nil {
				t.Fatal(err)
			}
			sources := map[string]int{}
			for _, e := range evals2 {
				sources[e.Source]++
			}
			ens := 0
			for _, e := range res2.Leaderboard {
				if e.Error == "" && e.Model != "ridge" && e.Model != "tree" {
					ens++
				}
			}
			if sources[pipeline.SourceCandidate] != 2 || sources[pipeline.SourceEnsemble] != ens {
				t.Errorf("second run recorded %v; want 2 candidates and %d ensembles", sources, ens)
			}
			// The penguins records are untouched by the second run.
			if again, _ := kb.Evals(ctx, key); len(again) != len(evals) {
				t.Errorf("first dataset has %d evaluations, had %d", len(again), len(evals))
			}
		})
	}
}

// TestKnowledgeBaseExportImport moves a knowledge base through store
// export and import and checks both kinds arrive.
func TestKnowledgeBaseExportImport(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	kb := &KB{Records: src, Options: Options{LandmarkRows: 300}}
	res := trainInto(t, src, kb, "ggplot2_mpg.csv", "hwy", []string{"ridge"}, false)
	var buf bytes.Buffer
	if _, err := store.Export(ctx, src, &buf, false); err != nil {
		t.Fatal(err)
	}
	dst := openSQLite(t)
	if _, err := store.Import(ctx, dst, &buf); err != nil {
		t.Fatal(err)
	}
	key := DatasetKey(res.DatasetHash, "hwy")
	want, _ := kb.Evals(ctx, key)
	kb2 := &KB{Records: dst}
	got, err := kb2.Evals(ctx, key)
	if err != nil || len(got) != len(want) || len(got) == 0 {
		t.Fatalf("imported %d evaluations (%v); exported %d", len(got), err, len(want))
	}
	d, err := kb2.Dataset(ctx, key)
	if err != nil || d.Features.Values[Rows] != float64(res.TrainRows) {
		t.Fatalf("imported dataset %+v, %v", d, err)
	}
}

func TestScoresJSONKeepsNaN(t *testing.T) {
	in := Scores{0.5, math.NaN(), 0.75}
	b, err := in.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[0.5,null,0.75]" {
		t.Errorf("MarshalJSON = %s", b)
	}
	var out Scores
	if err := out.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0] != 0.5 || !math.IsNaN(out[1]) || out[2] != 0.75 {
		t.Errorf("round trip = %v", out)
	}
}
