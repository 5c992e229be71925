package ui

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// putValues puts a minimising study of complete trials with values vs.
func putValues(t *testing.T, st store.Store, name string, vs []float64) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := st.CreateStudy(ctx, name, tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	dists := map[string]tune.Distribution{"a": {Kind: tune.Float, Low: 0, High: 1}}
	start := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i, v := range vs {
		tr := tune.FrozenTrial{Number: i, State: tune.Complete, Value: v, RetryOf: -1, Params: map[string]float64{"a": float64(i) / 10},
			Distributions: dists, Start: start, Finish: start.Add(time.Second)}
		if err := st.PutTrial(ctx, name, tr); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestStudyChartNonFinite: trials scored ±Inf (a diverged fit's RMSE or
// log loss) are in the table, and the best-so-far line stays a drawable
// SVG path: it read "M60.0 +Inf", which the browser refuses to draw.
func TestStudyChartNonFinite(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
	}{
		{"first +Inf", []float64{math.Inf(1), 1, 2}},
		{"-Inf later", []float64{1, 2, math.Inf(-1), 0.5}},
		{"NaN and Inf", []float64{math.NaN(), math.Inf(1), 3, math.Inf(-1)}},
	}
	st := openSQLite(t)
	ts := serve(t, st, Options{})
	number := regexp.MustCompile(`^(?:[MHV]-?[0-9]+(?:\.[0-9]+)?(?: -?[0-9]+(?:\.[0-9]+)?)?)+$`)
	for i, tt := range tests {
		id := putValues(t, st, "study-"+itoa(int64(i)), tt.values)
		code, body := get(t, ts.URL, "/studies/"+itoa(id))
		if code != http.StatusOK {
			t.Errorf("%s: GET study = %d", tt.name, code)
			continue
		}
		m := regexp.MustCompile(`<path class="best" d="([^"]*)"/>`).FindStringSubmatch(body)
		if m == nil || !number.MatchString(m[1]) {
			t.Errorf("%s: best-so-far path %q; want finite coordinates", tt.name, m)
		}
	}
}

// TestEventsNonFinite: a running run whose tuning's best so far is +Inf
// (its only trial diverged) still gets a JSON progress event; the
// stream sent "data: " with nothing, which the page's JSON.parse threw on,
// every second, for every running run.
func TestEventsNonFinite(t *testing.T) {
	st := openSQLite(t)
	run := &store.Run{ID: "live", Created: time.Now(), Status: store.Running, DatasetHash: "d1", ConfigHash: "c1",
		Config: json.RawMessage(`{"enable_hyperparameter_tuning":true,"max_evals":5}`)}
	if err := st.PutRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	putValues(t, st, "train/d1/c1/linear", []float64{math.Inf(1)})
	ts := serve(t, st, Options{})
	line := firstEvent(t, ts.URL)
	var got []runProgress
	if err := json.Unmarshal([]byte(line), &got); err != nil || len(got) != 1 || got[0].ID != "live" || got[0].Trials != 1 {
		t.Errorf("event data %q (%v); want the live run with its 1 trial", line, err)
	}
}
