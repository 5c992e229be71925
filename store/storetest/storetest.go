// Package storetest is the conformance suite of store.Store: every
// implementation runs the same tests (runs, records, studies and trials,
// concurrent handles, export and import), as scikit-learn's
// check_estimator does for estimators.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// Factory makes a fresh, empty store for one test and returns a function
// that opens a handle on it; calling that function twice gives two
// handles on the same data, as two processes would have. The suite
// closes every handle it opens.
type Factory func(t *testing.T) (open func() (store.Store, error))

// Run runs the suite against the stores f makes.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() store.Store)
	}{
		{"Runs", testRuns},
		{"RunPrefix", testRunPrefix},
		{"QueryRuns", testQueryRuns},
		{"Records", testRecords},
		{"PutRecords", testPutRecords},
		{"DeleteRecords", testDeleteRecords},
		{"GetRecords", testGetRecords},
		{"SwapRecords", testSwapRecords},
		{"Studies", testStudies},
		{"PutTrial", testPutTrial},
		{"SwapTrial", testSwapTrial},
		{"TuneStudy", testTuneStudy},
		{"ConcurrentHandles", testConcurrent},
		{"CreateRecord", testCreateRecord},
		{"Claim", testClaim},
		{"LeaseFencing", testLeaseFencing},
		{"LeaseRenewFailure", testLeaseRenewFailure},
		{"RestoreLease", testRestoreLease},
		{"ReleaseLease", testReleaseLease},
		{"PutRunFenced", testPutRunFenced},
		{"CreateRun", testCreateRun},
		{"SwapRecordFenced", testSwapRecordFenced},
		{"SwapRecord", testSwapRecord},
		{"PageRecords", testPageRecords},
		{"CountRecords", testCountRecords},
		{"ExportImport", testExportImport},
		{"ExportSnapshot", testSnapshot},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := f(t)
			open := func() store.Store {
				t.Helper()
				s, err := opener()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			tt.fn(t, open)
		})
	}
}

func testRuns(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	created := time.Date(2026, 11, 25, 10, 0, 0, 123, time.UTC)
	in := &store.Run{ID: "abc123", Created: created, Status: store.Running, DatasetPath: "d.csv",
		DatasetHash: "h", ConfigHash: "c", Config: json.RawMessage(`{"seed":42}`), Task: "regression", Target: "y", Profile: "research"}
	if err := s.PutRun(ctx, in); err != nil {
		t.Fatal(err)
	}
	up := *in
	up.Status, up.Finished, up.Best, up.Result, up.ModelPath = store.Succeeded, created.Add(time.Second), "ridge", json.RawMessage(`{"r2":0.9}`), "m.tfm"
	up.Created = created.Add(time.Hour) // a later write keeps the first creation time
	if err := s.PutRun(ctx, &up); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRun(ctx, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Succeeded || got.Best != "ridge" || string(got.Result) != `{"r2":0.9}` || got.ModelPath != "m.tfm" ||
		!got.Created.Equal(created) || !got.Finished.Equal(up.Finished) || string(got.Config) != `{"seed":42}` ||
		got.DatasetHash != "h" || got.Task != "regression" || got.Profile != "research" {
		t.Errorf("GetRun = %+v; want %+v created %v", got, up, created)
	}
	if _, err := s.GetRun(ctx, "zzz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(unknown) err = %v; want ErrNotFound", err)
	}
	if _, err := s.GetRun(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(\"\") err = %v; want ErrNotFound", err)
	}
}

func testRunPrefix(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	for i, id := range []string{"ab1", "ab2", "ab", "c%_"} {
		if err := s.PutRun(ctx, &store.Run{ID: id, Created: time.Unix(int64(i+1), 0), Status: store.Succeeded, Config: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetRun(ctx, "ab"); err != nil {
		t.Errorf("GetRun(exact id that is also a prefix) err = %v", err)
	}
	// SQLite ends a LIKE pattern at a NUL: "ab1\x00junk" found ab1.
	if r, err := s.GetRun(ctx, "ab1\x00junk"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(id with a NUL) = %v, %v; want not found", r, err)
	}
	if err := s.PutRecord(ctx, "log", "ab1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if recs, err := s.ListRecords(ctx, "log", "ab1\x00junk"); err != nil || len(recs) != 0 {
		t.Errorf("ListRecords(prefix with a NUL) = %d records, %v; want none", len(recs), err)
	}
	if _, err := s.GetRun(ctx, "a"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(ambiguous prefix) err = %v; want ambiguous", err)
	}
	if r, err := s.GetRun(ctx, "ab1"); err != nil || r.ID != "ab1" {
		t.Errorf("GetRun(ab1) = %v, %v", r, err)
	}
	if _, err := s.GetRun(ctx, "c%"); err != nil {
		t.Errorf("GetRun(c%%) err = %v", err)
	}
	if _, err := s.GetRun(ctx, "c_"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(c_) matched a wildcard: err = %v", err)
	}
	// Prefixes match case and take no pattern characters, as in Redis:
	// SQLite's LIKE found run ab1 for "AB1".
	for _, id := range []string{"AB1", "A", "c*", "c?", "[a]b", "*"} {
		if r, err := s.GetRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetRun(%q) = %v, %v; want not found", id, r, err)
		}
	}
	for _, key := range []string{"Ab[1]*?", "ab1"} {
		if err := s.PutRecord(ctx, "case", key, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, want := range map[string]int{"AB": 0, "Ab": 1, "ab": 1, "Ab[1]*": 1, "Ab[": 1, "Ab*": 0, "Ab?": 0, "A?": 0, "[": 0} {
		if recs, err := s.ListRecords(ctx, "case", prefix); err != nil || len(recs) != want {
			t.Errorf("ListRecords(%q) = %d records, %v; want %d", prefix, len(recs), err, want)
		}
	}
	// Keys compare as bytes: Redis listed a prefix up to prefix+"\xff"
	// and so missed the keys continuing with that byte.
	for _, key := range []string{"ab", "ab\xfe", "ab\xff", "ab\xff\xffz", "ac", "\xff\xff"} {
		if err := s.PutRecord(ctx, "bytes", key, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, want := range map[string]int{"a": 5, "ab": 4, "ab\xff": 2, "ab\xff\xff": 1, "ab\xff\xff\xff": 0, "\xff": 1, "\xff\xff": 1} {
		if recs, err := s.ListRecords(ctx, "bytes", prefix); err != nil || len(recs) != want {
			t.Errorf("ListRecords(%q) = %d records, %v; want %d", prefix, len(recs), err, want)
		}
	}
	checkListDeleteRuns(ctx, t, s)
}

// checkListDeleteRuns checks the order ListRuns gives testRunPrefix's runs
// and that DeleteRun removes exactly the id it is given.
func checkListDeleteRuns(ctx context.Context, t *testing.T, s store.Store) {
	t.Helper()
	runs, err := s.ListRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ids, want := runIDs(runs), []string{"c%_", "ab", "ab2", "ab1"}; !slices.Equal(ids, want) {
		t.Errorf("ListRuns = %v; want newest first %v", ids, want)
	}
	runs, err = s.ListRuns(ctx, 2)
	if err != nil || len(runs) != 2 || runs[1].ID != "ab" {
		t.Errorf("ListRuns(2) = %v, %v", runs, err)
	}
	// DeleteRun removes exactly the id given (never a prefix match) and
	// a missing run is no error.
	for _, id := range []string{"ab", "no-such-run"} {
		if err := s.DeleteRun(ctx, id); err != nil {
			t.Fatalf("DeleteRun(%s): %v", id, err)
		}
	}
	runs, err = s.ListRuns(ctx, 0)
	if ids, want := runIDs(runs), []string{"c%_", "ab2", "ab1"}; err != nil || !slices.Equal(ids, want) {
		t.Errorf("after DeleteRun(ab), ListRuns = %v, %v; want %v", ids, err, want)
	}
	if _, err := s.GetRun(ctx, "ab"); err == nil {
		t.Error("GetRun(ab) after its deletion found a run")
	}
}

func runIDs(runs []*store.Run) []string {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return ids
}

func testRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	for _, kv := range [][2]string{{"b/2", "two"}, {"a/1", "one"}, {"b/1", "uno"}, {"b_1", "underscore"}, {"b%", "percent"}} {
		if err := s.PutRecord(ctx, "k", kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRecord(ctx, "k", "b/1", []byte("one again")); err != nil {
		t.Fatal(err)
	}
	binary := []byte{0, 1, 2, 255, '\n'}
	if err := s.PutRecord(ctx, "bin", "x", binary); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "empty", "e", nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRecords(ctx, "k", "b/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "b/1" || string(got[0].Value) != "one again" || got[1].Key != "b/2" || got[0].Kind != "k" {
		t.Errorf("ListRecords(b/) = %v; want b/1=one again, b/2=two", got)
	}
	all, err := s.ListRecords(ctx, "k", "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range all {
		keys = append(keys, r.Key)
	}
	if want := []string{"a/1", "b%", "b/1", "b/2", "b_1"}; !slices.Equal(keys, want) {
		t.Errorf("ListRecords(all) keys = %v; want %v", keys, want)
	}
	r, err := s.GetRecord(ctx, "k", "a/1")
	if err != nil || string(r.Value) != "one" || r.Updated.IsZero() {
		t.Errorf("GetRecord(a/1) = %v, %v; want one", r, err)
	}
	if r, err := s.GetRecord(ctx, "bin", "x"); err != nil || !bytes.Equal(r.Value, binary) {
		t.Errorf("GetRecord(bin) = %v, %v; want %v", r, err, binary)
	}
	if r, err := s.GetRecord(ctx, "empty", "e"); err != nil || len(r.Value) != 0 {
		t.Errorf("GetRecord(empty) = %v, %v", r, err)
	}
	kinds, err := s.Kinds(ctx)
	if err != nil || !slices.Equal(kinds, []string{"bin", "empty", "k"}) {
		t.Errorf("Kinds = %v, %v; want [bin empty k]", kinds, err)
	}
	if err := s.DeleteRecord(ctx, "k", "a/1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecord(ctx, "k", "never"); err != nil {
		t.Errorf("deleting a missing record: %v", err)
	}
	if _, err := s.GetRecord(ctx, "k", "a/1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecord after delete err = %v; want ErrNotFound", err)
	}
	if _, err := s.GetRecord(ctx, "other", "b/2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("kinds are not separate: err = %v", err)
	}
	if err := s.DeleteRecord(ctx, "bin", "x"); err != nil {
		t.Fatal(err)
	}
	if kinds, _ := s.Kinds(ctx); slices.Contains(kinds, "bin") {
		t.Errorf("Kinds after deleting the last bin record = %v", kinds)
	}
}

func testPutRecords(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	when := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	var recs []*store.Record
	for i := range 300 {
		recs = append(recs, &store.Record{Kind: "batch", Key: fmt.Sprintf("k%04d", i), Value: []byte(fmt.Sprint(i)), Updated: when})
	}
	if err := s.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRecords(ctx, "batch", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("ListRecords after PutRecords: %d records; want %d", len(got), len(recs))
	}
	for i, r := range got {
		if r.Key != recs[i].Key || !bytes.Equal(r.Value, recs[i].Value) || !r.Updated.Equal(when) {
			t.Fatalf("record %d = %+v; want %+v", i, r, recs[i])
		}
	}
}

func testStudies(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	id, err := s.CreateStudy(ctx, "st", tune.Maximize)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.CreateStudy(ctx, "st", tune.Maximize); err != nil || again != id {
		t.Errorf("CreateStudy again = %d, %v; want %d", again, err, id)
	}
	if _, err := s.CreateStudy(ctx, "st", tune.Minimize); err == nil {
		t.Error("CreateStudy with another direction succeeded")
	}
	other, err := s.CreateStudy(ctx, "other", tune.Minimize)
	if err != nil || other == id {
		t.Fatalf("second study id %d (first %d), %v", other, id, err)
	}
	t0, t1 := testTrialLifecycle(t, s, id, other)
	checkStoredTrials(t, s, id, t0, t1)
	studies, err := s.ListStudies(ctx)
	if err != nil || len(studies) != 2 || studies[0].Name != "other" || studies[1].Name != "st" || studies[1].ID != id ||
		studies[1].Direction != tune.Maximize || studies[1].Created.IsZero() {
		t.Errorf("ListStudies = %+v, %v", studies, err)
	}
}

// testTrialLifecycle creates two trials of study id (and one of study
// other), records parameters and values, and finishes one and fails
// the other, checking that each illegal state change is refused.
func testTrialLifecycle(t *testing.T, s store.Store, id, other int64) (t0, t1 int64) {
	t.Helper()
	ctx := context.Background()
	fd := tune.FloatDist(0, 1, false)
	t0, n0, err := s.CreateTrial(ctx, id, tune.FrozenTrial{State: tune.Running, RetryOf: -1, Params: map[string]float64{"x": 0.25}, Distributions: map[string]tune.Distribution{"x": fd}})
	if err != nil || n0 != 0 {
		t.Fatalf("CreateTrial = %d, %d, %v; want number 0", t0, n0, err)
	}
	t1, n1, err := s.CreateTrial(ctx, id, tune.FrozenTrial{State: tune.Waiting, RetryOf: 0})
	if err != nil || n1 != 1 {
		t.Fatalf("CreateTrial = %d, %d, %v; want number 1", t1, n1, err)
	}
	if _, n, err := s.CreateTrial(ctx, other, tune.FrozenTrial{State: tune.Running, RetryOf: -1}); err != nil || n != 0 {
		t.Errorf("first trial of the other study: number %d, %v; want 0", n, err)
	}
	if _, _, err := s.CreateTrial(ctx, id, tune.FrozenTrial{State: tune.Complete}); !errors.Is(err, tune.ErrStateConflict) {
		t.Errorf("CreateTrial(complete) err = %v; want ErrStateConflict", err)
	}
	if err := s.SetTrialParam(ctx, t0, "k", tune.CategoricalDist("a", "b"), 1); err != nil {
		t.Fatal(err)
	}
	for step, v := range []float64{0.5, math.NaN(), 0.75} {
		if err := s.SetIntermediateValue(ctx, t0, step, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetTrialParam(ctx, t1, "x", fd, 0.5); !errors.Is(err, tune.ErrStateConflict) {
		t.Errorf("SetTrialParam on a waiting trial: %v; want ErrStateConflict", err)
	}
	if err := s.FinishTrial(ctx, t0, tune.Complete, 0.8, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishTrial(ctx, t0, tune.Fail, math.NaN(), "again"); !errors.Is(err, tune.ErrStateConflict) {
		t.Errorf("finishing a finished trial: %v; want ErrStateConflict", err)
	}
	if err := s.FinishTrial(ctx, t1, tune.Running, 0, ""); !errors.Is(err, tune.ErrStateConflict) {
		t.Errorf("FinishTrial(running) err = %v; want ErrStateConflict", err)
	}
	if err := s.ClaimTrial(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimTrial(ctx, t1); !errors.Is(err, tune.ErrStateConflict) {
		t.Errorf("claiming twice: %v; want ErrStateConflict", err)
	}
	if err := s.FinishTrial(ctx, t1, tune.Fail, math.NaN(), "boom"); err != nil {
		t.Fatal(err)
	}
	return t0, t1
}

// checkStoredTrials reads back the trials testTrialLifecycle left.
func checkStoredTrials(t *testing.T, s store.Store, id, t0, t1 int64) {
	t.Helper()
	ctx := context.Background()
	trials, err := s.Trials(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 2 {
		t.Fatalf("Trials = %+v; want 2", trials)
	}
	a, b := trials[0], trials[1]
	if a.ID != t0 || a.Number != 0 || a.State != tune.Complete || a.Value != 0.8 || a.Params["x"] != 0.25 || a.Params["k"] != 1 ||
		a.Distributions["x"].Kind != tune.Float || len(a.Distributions["k"].Choices) != 2 || a.RetryOf != -1 ||
		a.Intermediate[0] != 0.5 || !math.IsNaN(a.Intermediate[1]) || a.Intermediate[2] != 0.75 || a.Start.IsZero() || a.Finish.Before(a.Start) {
		t.Errorf("trial 0 = %+v", a)
	}
	if b.ID != t1 || b.Number != 1 || b.State != tune.Fail || !math.IsNaN(b.Value) || b.Error != "boom" || b.RetryOf != 0 || b.Start.IsZero() {
		t.Errorf("trial 1 = %+v", b)
	}
}

func testPutTrial(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	s := open()
	if err := s.PutTrial(ctx, "missing", tune.FrozenTrial{Number: 0, State: tune.Complete}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutTrial into a missing study: %v; want ErrNotFound", err)
	}
	created := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	id, err := s.PutStudy(ctx, store.Study{Name: "p", Direction: tune.Minimize, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 5, 6, 8, 0, 0, 1, time.UTC)
	tr := tune.FrozenTrial{Number: 4, State: tune.Pruned, Value: 1.5, RetryOf: -1, Error: "",
		Params: map[string]float64{"x": 2}, Distributions: map[string]tune.Distribution{"x": tune.IntDist(1, 9, false)},
		Intermediate: map[int]float64{0: 3, 1: 1.5}, Start: start, Finish: start.Add(time.Minute)}
	for range 2 { // replaying a write changes nothing
		if err := s.PutTrial(ctx, "p", tr); err != nil {
			t.Fatal(err)
		}
	}
	tr.Intermediate = map[int]float64{0: 3}
	tr.State = tune.Complete
	if err := s.PutTrial(ctx, "p", tr); err != nil {
		t.Fatal(err)
	}
	trials, err := s.Trials(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 1 || trials[0].Number != 4 || trials[0].State != tune.Complete || len(trials[0].Intermediate) != 1 ||
		!trials[0].Start.Equal(start) || !trials[0].Finish.Equal(tr.Finish) || trials[0].Params["x"] != 2 {
		t.Fatalf("Trials after PutTrial = %+v", trials)
	}
	if _, n, err := s.CreateTrial(ctx, id, tune.FrozenTrial{State: tune.Running, RetryOf: -1}); err != nil || n != 5 {
		t.Errorf("CreateTrial after PutTrial(4): number %d, %v; want 5", n, err)
	}
	studies, err := s.ListStudies(ctx)
	if err != nil || len(studies) != 1 || !studies[0].Created.Equal(created) {
		t.Errorf("ListStudies = %+v, %v; want created %v", studies, err, created)
	}
}

// testTuneStudy runs a real TPE study with two workers, then resumes it
// from a second handle, as a second process would.
func testTuneStudy(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	obj := func(ctx context.Context, tr *tune.Trial) (float64, error) {
		x := tr.SuggestFloat("x", -3, 3, false)
		tr.Report(x*x+1, 0)
		return x * x, nil
	}
	for i, budget := range []int{10, 15} {
		s := open()
		st, err := tune.NewStudy(ctx, "shared", tune.Config{Storage: s, Sampler: tune.TPESampler{StartupTrials: 3}, Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Optimize(ctx, obj, tune.Budget{MaxTrials: budget, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != budget {
			t.Errorf("session %d: total %d; want %d", i, res.Total, budget)
		}
	}
	h := open()
	id, err := h.CreateStudy(ctx, "shared", tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := h.Trials(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 15 {
		t.Errorf("%d trials; want 15", len(trials))
	}
	for i, tr := range trials {
		if tr.Number != i || tr.State != tune.Complete {
			t.Errorf("trial %d: number %d, state %s (%s); want number %d complete", i, tr.Number, tr.State, tr.Error, i)
		}
		if x := tr.Params["x"]; math.Abs(tr.Value-x*x) > 1e-12 || tr.Intermediate[0] != x*x+1 {
			t.Errorf("trial %d value %v, reported %v for x %v", i, tr.Value, tr.Intermediate, x)
		}
	}
}

// testConcurrent writes runs and records from two handles at once:
// nothing may be lost.
func testConcurrent(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	handles := []store.Store{open(), open()}
	const per = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4*per)
	for w, s := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("w%d-%03d", w, i)
				if err := s.PutRun(ctx, &store.Run{ID: id, Created: time.Now(), Status: store.Succeeded, Config: json.RawMessage(`{}`)}); err != nil {
					errs <- err
				}
				if err := s.PutRecord(ctx, "log", id, []byte(id)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, err := handles[0].ListRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := handles[1].ListRecords(ctx, "log", "w")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*per || len(recs) != 2*per {
		t.Errorf("stored %d runs and %d records; want %d each", len(runs), len(recs), 2*per)
	}
}

func testPing(t *testing.T, open func() store.Store) {
	s := open()
	if err := s.Ping(context.Background()); err != nil {
		t.Error(err)
	}
	if s.URL() == "" {
		t.Error("URL() is empty")
	}
}
