package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// TestStudiesNonFiniteJSON: a trial scored ±Inf (a diverged fit's RMSE
// or log loss) made studies list --json and studies show --json fail with
// "json: unsupported value: +Inf" and print nothing. Such a value, and a
// best that is one, are null (left out), as eval writes undefined
// metrics; the text table still says +Inf.
func TestStudiesNonFiniteJSON(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	dists := map[string]tune.Distribution{"a": {Kind: tune.Float, Low: 0, High: 1}}
	start := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for name, vs := range map[string][]float64{"diverged": {math.Inf(1)}, "mixed": {math.Inf(1), 2, math.Inf(-1)}} {
		if _, err := st.CreateStudy(ctx, name, tune.Minimize); err != nil {
			t.Fatal(err)
		}
		for i, v := range vs {
			tr := tune.FrozenTrial{Number: i, State: tune.Complete, Value: v, RetryOf: -1, Params: map[string]float64{"a": 0.5},
				Distributions: dists, Start: start, Finish: start.Add(time.Second)}
			if err := st.PutTrial(ctx, name, tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()
	code, out, errs := cli(t, dir, "studies", "list", "--json")
	var list []struct {
		Name string   `json:"name"`
		Best *float64 `json:"best"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 {
		t.Fatalf("studies list --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	for _, s := range list {
		if s.Best != nil {
			t.Errorf("study %s: best %v; want null (its best is ±Inf)", s.Name, *s.Best)
		}
	}
	code, out, errs = cli(t, dir, "studies", "show", "mixed", "--json")
	var show struct {
		Trials []struct {
			Value *float64 `json:"value"`
		} `json:"trials"`
	}
	if err := json.Unmarshal([]byte(out), &show); code != 0 || err != nil || len(show.Trials) != 3 || show.Trials[0].Value != nil || show.Trials[1].Value == nil || *show.Trials[1].Value != 2 {
		t.Errorf("studies show --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	if code, out, _ := cli(t, dir, "studies", "show", "mixed"); code != 0 || !strings.Contains(out, "+Inf") || !strings.Contains(out, "-Inf") {
		t.Errorf("studies show: exit %d\n%s; want +Inf and -Inf in the table", code, out)
	}
}
