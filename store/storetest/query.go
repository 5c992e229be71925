package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// testQueryRuns checks that the store answers run queries (its own
// RunQuerier, if it has one) exactly as store.SelectRuns does over every
// run's full record: same rows in the same order, same totals, same
// metrics, for filters, every sort key in both directions and paging.
func testQueryRuns(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	FillRuns(t, s, 40, 7)
	runs, err := s.ListRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]store.RunRow, len(runs))
	for i, r := range runs {
		all[i] = store.RowOf(r)
	}
	queries := []store.RunQuery{
		{},
		{Status: store.Failed},
		{Dataset: "data/b.csv"},
		{Best: "gbdt", Limit: 5, Offset: 3},
		{Text: "RUN-00"},
		{Text: "100%_"},
		{Offset: 1000},
	}
	for _, key := range store.RunSortKeys {
		queries = append(queries, store.RunQuery{Sort: key}, store.RunQuery{Sort: key, Asc: true, Limit: 7, Offset: 2})
	}
	for _, q := range queries {
		got, err := store.QueryRuns(ctx, s, q)
		if err != nil {
			t.Fatalf("QueryRuns(%+v): %v", q, err)
		}
		want := store.SelectRuns(slices.Clone(all), q)
		if g, w := rowsText(got.Rows), rowsText(want.Rows); g != w || got.Total != want.Total {
			t.Errorf("QueryRuns(%+v) = %d total\n%s\nwant %d total\n%s", q, got.Total, g, want.Total, w)
		}
		if !slices.Equal(got.Datasets, want.Datasets) || !slices.Equal(got.Models, want.Models) {
			t.Errorf("QueryRuns(%+v) menus %v %v; want %v %v", q, got.Datasets, got.Models, want.Datasets, want.Models)
		}
	}
	if _, err := store.QueryRuns(ctx, s, store.RunQuery{Sort: "no such key"}); err == nil {
		t.Error("QueryRuns with an unknown sort key: no error")
	}
	failed, err := store.QueryRuns(ctx, s, store.RunQuery{Status: store.Failed, Limit: 1000})
	if err != nil || failed.Total != 40/5 || len(failed.Rows) != failed.Total {
		t.Errorf("failed runs = %v, %v; FillRuns makes every fifth run fail", failed, err)
	}
}

func rowsText(rows []store.RunRow) string {
	var out string
	for _, r := range rows {
		cv, test := "-", "-"
		if r.CV != nil {
			cv = fmt.Sprint(*r.CV)
		}
		if r.Test != nil {
			test = fmt.Sprint(*r.Test)
		}
		out += fmt.Sprintf("%s %s %s %s cv=%s test=%s created=%d finished=%d profile=%s\n", r.ID, r.Status, r.Best, r.Metric, cv, test,
			r.Created.UnixNano(), r.Finished.UnixNano(), r.Profile)
	}
	return out
}

// FillRuns puts n synthetic runs in s, seeded: three datasets, every
// fifth run failed (no result), one running, others succeeded with a
// small leaderboard whose metric depends on the task. Some runs share a
// creation time, so ties are ordered by id. Dashboards and benchmarks
// use it too.
func FillRuns(t testing.TB, s store.Runs, n int, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	families := []string{"gbdt", "forest", "linear"}
	for i := range n {
		ds := []string{"data/a.csv", "data/b.csv", "data/c 100%_.csv"}[i%3]
		task, metric := "regression", "r2"
		if i%3 == 1 {
			task, metric = "binary", "roc_auc"
		}
		r := &store.Run{ID: fmt.Sprintf("run-%05d", i), Created: base.Add(time.Duration(i/2) * time.Minute), DatasetPath: ds,
			DatasetHash: fmt.Sprintf("%016x", uint64(i%3)*0x1111), ConfigHash: "c", Config: json.RawMessage(`{"seed":1}`),
			Task: task, Target: "y", Status: store.Succeeded, Profile: []string{"", "default", "research"}[i%3]}
		switch {
		case i%5 == 0:
			r.Status, r.Error, r.Finished = store.Failed, "boom", r.Created.Add(time.Second)
		case i == n-1:
			r.Status = store.Running
		default:
			r.Best = families[rng.IntN(len(families))]
			r.Finished = r.Created.Add(time.Duration(1+rng.IntN(600)) * time.Second)
			cv, test := rng.Float64(), rng.Float64()
			res := map[string]any{"metric": metric, "best": r.Best, "leaderboard": []map[string]any{
				{"model": r.Best, "cv": map[string]float64{metric: cv}, "test": map[string]float64{metric: test}},
				{"model": "baseline", "cv": map[string]float64{metric: cv / 2}, "test": map[string]float64{metric: test / 2}},
			}}
			if i%7 == 3 {
				delete(res["leaderboard"].([]map[string]any)[0]["test"].(map[string]float64), metric)
			}
			r.Result, _ = json.Marshal(res)
		}
		if err := s.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}
