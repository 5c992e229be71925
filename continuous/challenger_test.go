package continuous

import (
	"context"
	"encoding/json"
	"github.com/tabforge/tabforge/store/storetest"
	"math"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/tune"
)

// TestRetrainWarmStart: the champion is a ridge model with alpha 37 (a
// value no default and no sampler would try first); the challenger tunes
// ridge's alpha, and its study's first trial is the champion's alpha.
func TestRetrainWarmStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, arts := storetest.Local(t, dir)
	reg := registry.New(st)
	env := Env{Registry: reg, Artifacts: arts, CodeVersion: "test-code", Dir: filepath.Join(dir, "continuous"), Runs: st, Studies: st}
	before, after := salesFiles(t, dir)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name, cfg.TimeColumn = before, "order_quantity", "sales", "order_date"
	cfg.Drop = []string{"order_number", "procured_date", "ship_date", "delivery_date"}
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"ridge"}, 0, filepath.Join(dir, "runs")
	cfg.ModelParams = map[string]map[string]any{"ridge": {"alpha": 37.0}}
	cfg.MinR2Threshold, cfg.MinBusinessAccuracy = -1, 0
	res, err := pipeline.Train(ctx, cfg, pipeline.Options{Runs: st,
		Registrar: pipeline.StoreRegistrar{Registry: reg, Artifacts: arts, CodeVersion: "test-code"}})
	if err != nil {
		t.Fatal(err)
	}
	champ := res.Registered.Model.Version
	if _, err := reg.Promote(ctx, champ, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}

	tuned := Policy{Configure: func(c *config.Config) {
		c.ModelParams, c.EnableHyperparameterTuning, c.MaxEvals, c.CVFolds = nil, true, 3, 2
	}}
	d, err := Retrain(ctx, env, "sales", after, tuned)
	if err != nil {
		t.Fatal(err)
	}
	if d.WarmStart["ridge"] != "champion "+champ {
		t.Errorf("warm start %v; want ridge from the champion %s", d.WarmStart, champ)
	}
	chal, err := reg.Get(ctx, d.ChallengerVersion)
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.GetRun(ctx, chal.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var cr pipeline.Result
	if err := json.Unmarshal(run.Result, &cr); err != nil {
		t.Fatal(err)
	}
	if len(cr.Leaderboard) == 0 || cr.Leaderboard[0].Tuning == nil {
		t.Fatalf("challenger leaderboard %+v; want a tuned ridge", cr.Leaderboard)
	}
	study, err := tune.NewStudy(ctx, cr.Leaderboard[0].Tuning.Study, tune.Config{Direction: tune.Maximize, Storage: st})
	if err != nil {
		t.Fatal(err)
	}
	trials, err := study.Trials(ctx)
	if err != nil || len(trials) != 3 {
		t.Fatalf("challenger study: %d trials, %v; want 3", len(trials), err)
	}
	if a := trials[0].Params["alpha"]; math.Abs(a-37) > 1e-9 {
		t.Errorf("first trial alpha %v; want the champion's 37", a)
	}
	if a := trials[1].Params["alpha"]; math.Abs(a-37) < 1e-9 {
		t.Errorf("second trial alpha %v; want the sampler's own", a)
	}
}

// TestChampionStarts: a study of another sampler, or of a family the
// champion's run did not have, gets no start; the champion's
// parameters outside the study's space are clamped into it.
func TestChampionStarts(t *testing.T) {
	c := championStarts{version: "v1", params: map[string]map[string]any{"ridge": {"alpha": 1e9}}}
	space := tune.SpaceFor("ridge", "regression")
	for _, tc := range []struct {
		family, sampler string
		want            int
	}{{"ridge", "tpe", 1}, {"ridge", "grid", 0}, {"gbdt", "tpe", 0}} {
		got, err := c.Starts(context.Background(), pipeline.StartQuery{Family: tc.family, Sampler: tc.sampler, Space: space})
		if err != nil || len(got) != tc.want {
			t.Errorf("Starts(%s, %s) = %v, %v; want %d starts", tc.family, tc.sampler, got, err, tc.want)
		}
	}
	got, _ := c.Starts(context.Background(), pipeline.StartQuery{Family: "ridge", Sampler: "tpe", Space: space})
	if a := got[0].Params["alpha"]; a != 1e3 || got[0].From != "champion v1" {
		t.Errorf("start %+v; want alpha clamped to 1000, from champion v1", got[0])
	}
}
