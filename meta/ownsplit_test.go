package meta

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

// TestAdviseRunOwnSplit checks that a run advised by the user's own
// records of its data file uses only those scored on its split: a run
// with another seed splits other test rows off, and the first run's
// folds held them. Each backend records a tuned run with seed 42, then
// asks for warm starts as later runs would, over the shipped knowledge
// base as the CLI does. The advisor ranks by neighbours alone so that
// the nearest dataset, the file itself when its records count, gives a
// start whatever the surrogate thinks of its configurations.
func TestAdviseRunOwnSplit(t *testing.T) {
	const file = "ggplot2_mpg.csv"
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			ctx := context.Background()
			kb, err := WithShipped(st)
			if err != nil {
				t.Fatal(err)
			}
			first := ownSplitRun(t, st, nil, 42, 6)
			if first.Meta != nil {
				t.Fatalf("first run Meta = %+v; want meta_learning off", first.Meta)
			}
			tests := []struct {
				name     string
				seed     uint64
				maxEvals int                // another value is another study, asking for starts afresh
				prepare  func(t *testing.T) // before the run
				wantOwn  bool
			}{
				// Its folds held test rows of seed 8's split.
				{name: "other seed", seed: 8, maxEvals: 12},
				// The same rows: resuming or rerunning with more trials may
				// start where the first run got to. Seed 8's records
				// (replacing seed 42's of the same configuration) stay
				// hidden.
				{name: "same seed", seed: 42, maxEvals: 12, wantOwn: true},
				// Records written before evaluations carried their split
				// may have come from any split.
				{name: "records without a split", seed: 42, maxEvals: 18, prepare: func(t *testing.T) { stripSplits(t, st) }},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					if tc.prepare != nil {
						tc.prepare(t)
					}
					res := ownSplitRun(t, st, Advisor{KB: kb, Ranker: RankNeighbours}, tc.seed, tc.maxEvals)
					if res.Meta == nil || res.Meta.Mode != pipeline.MetaWarmStart || len(res.Meta.Tried) == 0 {
						t.Fatalf("Meta = %+v; want a warm start", res.Meta)
					}
					own := 0
					for _, c := range res.Meta.Tried {
						if c.From == file {
							own++
						}
					}
					if got := own > 0; got != tc.wantOwn {
						t.Errorf("%d of %d starts from the run's own file %s; want some: %v", own, len(res.Meta.Tried), file, tc.wantOwn)
					}
					// With none of its evaluations left, the file takes no
					// neighbour's place.
					near := slices.ContainsFunc(res.Meta.Neighbours, func(n pipeline.MetaNeighbor) bool { return n.Name == file })
					if near != tc.wantOwn {
						t.Errorf("neighbours %+v; want %s among them: %v", res.Meta.Neighbours, file, tc.wantOwn)
					}
				})
			}
			// Hiding is the advisor's: every record still loads.
			evals, err := (&KB{Records: st}).allEvals(ctx)
			if err != nil || len(evals) == 0 {
				t.Fatalf("allEvals = %d datasets, %v; want the runs' evaluations", len(evals), err)
			}
		})
	}
}

// ownSplitRun trains gbdt, tuned for maxEvals trials, on mpg with seed, recording into st,
// advised by adv (nil: meta_learning off).
func ownSplitRun(t *testing.T, st store.Store, adv pipeline.MetaAdvisor, seed uint64, maxEvals int) *pipeline.Result {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "corpus", "ggplot2_mpg.csv"), "hwy"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.Seed = []string{"gbdt"}, 3, t.TempDir(), seed
	cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.MetaLearning = true, maxEvals, adv != nil
	res, err := pipeline.Train(context.Background(), cfg, pipeline.Options{Runs: st, Studies: st, Knowledge: &KB{Records: st}, Meta: adv})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// stripSplits rewrites st's evaluations as a store written before they
// recorded their split holds them.
func stripSplits(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	recs, err := st.ListRecords(ctx, KindEval, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		delete(v, "split")
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutRecord(ctx, r.Kind, r.Key, b); err != nil {
			t.Fatal(err)
		}
	}
}
