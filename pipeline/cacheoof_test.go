package pipeline

import (
	"bytes"
	"context"
	"encoding/gob"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/cache"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestStepCacheKeepsOOFOnce: a candidate's cache entry names its folds'
// entries instead of copying their out-of-fold predictions (at 1M
// training rows those were 8 MB per candidate, stored twice); a rerun
// served from the cache rebuilds them, so its stacking and voting
// ensembles score as the cold run's; with a fold's entry pruned, that
// candidate is computed again, to the same scores.
func TestStepCacheKeepsOOFOnce(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	cfg := txhousingConfig(t)
	cfg.Models, cfg.CVFolds = []string{"ridge", "tree"}, 3
	cfg.TargetTransform = config.TargetNone
	cfg.EnableAdvancedEnsemble, cfg.UseStacking, cfg.UseVoting = true, true, true
	train := func() *Result {
		t.Helper()
		res, err := Train(ctx, cfg, Options{Cache: cache.New(st, nil), CodeVersion: "test", Runs: st})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cold := train()
	candidates := cachedCandidates(t, st)
	if len(candidates) != len(cfg.Models) {
		t.Fatalf("%d candidate entries in the cache; want %d", len(candidates), len(cfg.Models))
	}
	for _, v := range candidates {
		if v.OOF != nil || len(v.FoldKeys) != cfg.CVFolds {
			t.Fatalf("candidate %s keeps %d bytes of out-of-fold predictions and %d fold keys; want none and %d",
				v.Entry.Model, len(v.OOF), len(v.FoldKeys), cfg.CVFolds)
		}
	}
	sameBoard(t, "cached rerun", train(), cold, 0)
	if err := st.DeleteRecord(ctx, store.CacheKind, candidates[0].FoldKeys[1]); err != nil {
		t.Fatal(err)
	}
	sameBoard(t, "rerun with a fold entry pruned", train(), cold, 1)
}

// cachedCandidates decodes the candidate entries of the step cache in st.
func cachedCandidates(t *testing.T, st store.Records) []cachedCandidateValue {
	t.Helper()
	ctx := context.Background()
	recs, err := st.ListRecords(ctx, store.CacheKind, "")
	if err != nil {
		t.Fatal(err)
	}
	c := cache.New(st, nil)
	var out []cachedCandidateValue
	for _, r := range recs {
		val, ok := c.Get(ctx, r.Key)
		var v cachedCandidateValue
		if ok && gob.NewDecoder(bytes.NewReader(val)).Decode(&v) == nil && len(v.Predictor) > 0 {
			out = append(out, v)
		}
	}
	return out
}

// sameBoard checks that res's leaderboard scores as want's, ensembles
// included, having computed recomputed candidates afresh (the rest from
// the cache).
func sameBoard(t *testing.T, name string, res, want *Result, recomputed int) {
	t.Helper()
	fresh := 0
	for _, e := range res.Leaderboard {
		if !e.Cached && !strings.HasPrefix(e.Model, "ensemble:") {
			fresh++
		}
	}
	if fresh != recomputed {
		t.Errorf("%s: %d candidates computed; want %d", name, fresh, recomputed)
	}
	if len(res.Leaderboard) != len(want.Leaderboard) {
		t.Fatalf("%s: %d leaderboard entries; want %d", name, len(res.Leaderboard), len(want.Leaderboard))
	}
	ensembles := 0
	for i, e := range res.Leaderboard {
		w := want.Leaderboard[i]
		if strings.HasPrefix(e.Model, "ensemble:") {
			ensembles++
		}
		if e.Model != w.Model || e.CV["r2"] != w.CV["r2"] || e.Test["r2"] != w.Test["r2"] {
			t.Errorf("%s entry %d: %s cv %v test %v; cold run %s cv %v test %v", name, i, e.Model, e.CV["r2"], e.Test["r2"], w.Model, w.CV["r2"], w.Test["r2"])
		}
	}
	if ensembles == 0 {
		t.Errorf("%s: no ensemble on the leaderboard to use the out-of-fold predictions", name)
	}
}
