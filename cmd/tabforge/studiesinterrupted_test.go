package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// TestStudiesShowInterruptedTrial: studies show tells a trial cut short
// (Ctrl-C, a deadline; recorded fail, as interrupted, and retried) from
// one that failed of itself; the text showed both as fail.
func TestStudiesShowInterruptedTrial(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := tune.Config{Sampler: tune.RandomSampler{}, Storage: st, Seed: 3}
	optimize := func(ctx context.Context, trials int, objective func(context.Context, *tune.Trial) (float64, error)) {
		t.Helper()
		s, err := tune.NewStudy(ctx, "cut", cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.Optimize(ctx, objective, tune.Budget{MaxTrials: trials}) //nolint:errcheck // the trials' states are checked below
	}
	// Trial 0 is cut short by its context; its retry, trial 1, fails of
	// itself; trial 2 completes.
	cctx, cancel := context.WithCancel(ctx)
	optimize(cctx, 1, func(ctx context.Context, tr *tune.Trial) (float64, error) {
		tr.SuggestFloat("x", 0, 1, false)
		cancel()
		return 0, ctx.Err()
	})
	optimize(ctx, 2, func(_ context.Context, tr *tune.Trial) (float64, error) {
		tr.SuggestFloat("x", 0, 1, false)
		if tr.Number() == 1 {
			return 0, errors.New("boom")
		}
		return 0.5, nil
	})
	st.Close()

	code, out, errs := tabforge(t, dir, "studies", "show", "cut")
	if code != 0 {
		t.Fatalf("studies show: exit %d\n%s", code, errs)
	}
	want := map[string]string{"0": "interrupted", "1": "fail", "2": "complete"}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || want[f[0]] == "" {
			continue
		}
		if f[1] != want[f[0]] && !(f[1] == "*" && len(f) > 2 && f[2] == want[f[0]]) {
			t.Errorf("trial %s shows as %q; want %s\n%s", f[0], line, want[f[0]], out)
		}
		delete(want, f[0])
	}
	if len(want) != 0 {
		t.Errorf("studies show has no row for trials %v:\n%s", want, out)
	}
	code, out, errs = tabforge(t, dir, "studies", "show", "cut", "--json")
	var view struct {
		Trials []trialRow `json:"trials"`
	}
	if err := json.Unmarshal([]byte(out), &view); code != 0 || err != nil || len(view.Trials) != 3 {
		t.Fatalf("studies show --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	for _, r := range view.Trials {
		if r.Interrupted != (r.Number == 0) {
			t.Errorf("--json trial %d (%s): interrupted %v; want it only for trial 0", r.Number, r.State, r.Interrupted)
		}
	}
}
