package ui

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// objectiveStudy puts a minimising study of n seeded trials in st whose
// objective depends strongly on learning_rate (log scale), weakly on
// depth and not at all on subsample or booster; every tenth trial is
// pruned. (uibench.FillStudy makes the same study; it cannot be
// imported here.)
func objectiveStudy(t testing.TB, st store.Store, name string, n int, seed uint64) int64 {
	ctx := context.Background()
	id, err := st.CreateStudy(ctx, name, tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	dists := map[string]tune.Distribution{"learning_rate": tune.FloatDist(0.001, 0.5, true), "depth": tune.IntDist(2, 12, false),
		"subsample": tune.FloatDist(0.5, 1, false), "booster": tune.CategoricalDist("gbtree", "dart")}
	start := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		lr := math.Exp(math.Log(0.001) + rng.Float64()*(math.Log(0.5)-math.Log(0.001)))
		depth := float64(2 + rng.IntN(11))
		l := math.Log10(lr) + 1.3
		tr := tune.FrozenTrial{Number: i, State: tune.Complete, Value: 0.2 + l*l + 0.01*depth + 0.02*rng.NormFloat64(), RetryOf: -1,
			Params:        map[string]float64{"learning_rate": lr, "depth": depth, "subsample": 0.5 + 0.5*rng.Float64(), "booster": float64(rng.IntN(2))},
			Distributions: dists, Start: start, Finish: start.Add(time.Second)}
		if i%10 == 9 {
			tr.State = tune.Pruned
		}
		if err := st.PutTrial(ctx, name, tr); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestImportanceRanks: on a study whose objective depends strongly on
// learning_rate, weakly on depth and not at all on subsample or
// booster, importance ranks them in that order, and the unrelated
// parameters explain little.
func TestImportanceRanks(t *testing.T) {
	st := openSQLite(t)
	id := objectiveStudy(t, st, "s", 2000, 5)
	trials, err := st.Trials(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"booster", "depth", "learning_rate", "subsample"}
	rows := importance(tune.Scored(trials), axes(trials, names))
	if len(rows) != 4 || rows[0].Name != "learning_rate" || rows[1].Name != "depth" {
		t.Fatalf("importance %+v; want learning_rate, then depth first", rows)
	}
	var sum float64
	for _, r := range rows {
		sum += r.Share
		if (r.Name == "subsample" || r.Name == "booster") && r.Eta2 > 0.02 {
			t.Errorf("%s explains %.3f of the variance; it does not enter the objective", r.Name, r.Eta2)
		}
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("shares sum to %v; want 1", sum)
	}
}

// TestStudyPlotsBounded: a 10,000-trial study's page draws every
// complete trial in the slice plots but at most maxLines parallel
// lines, and stays small (dots are deduplicated per pixel).
func TestStudyPlotsBounded(t *testing.T) {
	st := openSQLite(t)
	id := objectiveStudy(t, st, "big", 10_000, 1)
	ts := serve(t, st, Options{})
	code, body := get(t, ts.URL, "/studies/"+itoa(id))
	if code != 200 {
		t.Fatalf("study page %d", code)
	}
	for _, want := range []string{`id="importance"`, `id="parallel"`, `class="slice"`, "1000 of 9000 complete trials"} {
		if !strings.Contains(body, want) {
			t.Errorf("study page has no %q", want)
		}
	}
	// Each line ends on the objective axis, at x = 840.
	if lines := strings.Count(body, "L840 "); lines > maxLines || lines < maxLines/2 {
		t.Errorf("%d parallel lines; want at most %d (identical ones drawn once)", lines, maxLines)
	}
	if len(body) > 2<<20 {
		t.Errorf("study page is %d bytes", len(body))
	}
}
