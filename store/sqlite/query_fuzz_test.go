package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// FuzzQueryRuns checks the runs page's SQL against store.SelectRuns, the
// in-memory answer other stores give: the same filters (the dashboard's
// search box, dataset and model filters), order and window must select
// the same runs, whatever the user types and whatever a run's dataset
// path, target or metric holds.
func FuzzQueryRuns(f *testing.F) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(f.TempDir(), "q.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	fixed := []*store.Run{
		queryRun("aa11", 1, "data/Ames.csv", "Sale_Price", "gbdt", 0.9),
		queryRun("ab22", 2, "data/credit_50%.csv", "default_", "ridge", math.NaN()),
		queryRun("bc33", 3, `C:\data\Éte.csv`, "Ünits", "", -1e300),
		queryRun("cd44", 4, "", "y", "forest", 0.5),
	}
	for _, r := range fixed {
		if err := s.PutRun(ctx, r); err != nil {
			f.Fatal(err)
		}
	}
	f.Add("", "", "", uint8(0), false, uint8(0), uint8(0), "x.csv", "y", 0.1)
	f.Add("ames", "", "", uint8(6), true, uint8(0), uint8(2), "x.csv", "y", 0.1)
	f.Add("50%", "data/Ames.csv", "gbdt", uint8(7), false, uint8(1), uint8(0), "a_b", "T", 1.0)
	f.Add("_", "ab", "", uint8(1), true, uint8(0), uint8(0), `a\b`, "%", math.Inf(1))
	f.Add("éte", "", "", uint8(8), false, uint8(0), uint8(0), "ÉTÉ", "İ", -0.0)
	f.Add("a\x00b", "a\x00", "", uint8(2), false, uint8(0), uint8(0), "a\x00bc", "y", 2.0)
	f.Fuzz(func(t *testing.T, text, dataset, best string, sortKey uint8, asc bool, offset, limit uint8, path, target string, cv float64) {
		r := queryRun("zz99", 5, path, target, "gbdt", cv)
		if err := s.PutRun(ctx, r); err != nil {
			t.Skipf("PutRun: %v", err) // a value the store refuses is not a query problem
		}
		q := store.RunQuery{Text: text, Dataset: dataset, Best: best, Asc: asc, Offset: int(offset % 8), Limit: int(limit % 8)}
		if k := int(sortKey) % (len(store.RunSortKeys) + 1); k > 0 {
			q.Sort = store.RunSortKeys[k-1]
		}
		got, err := s.QueryRuns(ctx, q)
		if q.Check() != nil {
			if err == nil {
				t.Fatalf("QueryRuns(%+v) accepted a query Check refuses", q)
			}
			return
		}
		if err != nil {
			t.Fatalf("QueryRuns(%+v): %v", q, err)
		}
		runs, err := s.ListRuns(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]store.RunRow, len(runs))
		for i, r := range runs {
			rows[i] = store.RowOf(r)
		}
		want := store.SelectRuns(rows, q)
		if g, w := pageText(got), pageText(want); g != w {
			t.Fatalf("QueryRuns(%+v) with run path %q target %q cv %v:\n got %s\nwant %s", q, path, target, cv, g, w)
		}
	})
}

// queryRun is a finished run whose leaderboard leader scored cv in r2; a
// non-finite cv is written as null, as package pipeline writes it.
func queryRun(id string, created int64, path, target, best string, cv float64) *store.Run {
	v := "null"
	if !math.IsNaN(cv) && !math.IsInf(cv, 0) {
		v = strconv.FormatFloat(cv, 'g', -1, 64)
	}
	res := fmt.Sprintf(`{"metric":"r2","leaderboard":[{"cv":{"r2":%s},"test":{"r2":0.5}}]}`, v)
	return &store.Run{ID: id, Created: time.Unix(created, 0), Finished: time.Unix(created+int64(len(path)), 0), Status: store.Succeeded,
		DatasetPath: path, DatasetHash: "h" + id, Config: json.RawMessage(`{}`), Task: "regression", Target: target, Best: best,
		Result: json.RawMessage(res)}
}

// pageText is what a page shows: the total, each row's id and headline
// metric, and the filter choices.
func pageText(p *store.RunPage) string {
	ids := make([]string, len(p.Rows))
	for i, r := range p.Rows {
		ids[i] = fmt.Sprintf("%s:%v/%v", r.ID, deref(r.CV), deref(r.Test))
	}
	return fmt.Sprintf("total %d rows %v datasets %q models %q", p.Total, ids, slices.Clip(p.Datasets), p.Models)
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
