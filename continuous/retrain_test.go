package continuous

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/synth"
)

// salesFiles writes synthetic sales orders of 2022 (before the shift) and
// of 2022 to mid-2023 (shifted from January 2023) to dir.
func salesFiles(t *testing.T, dir string) (before, after string) {
	t.Helper()
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	f, err := synth.Sales(context.Background(), synth.SalesParams{Rows: 18_000, Seed: 7, Months: 18, DriftAt: at})
	if err != nil {
		t.Fatal(err)
	}
	ord, _ := f.Lookup("order_date")
	var old []int
	for i, v := range ord.Num {
		if v < float64(at.Unix()) {
			old = append(old, i)
		}
	}
	before, after = filepath.Join(dir, "sales_2022.csv"), filepath.Join(dir, "sales_2023.csv")
	for path, x := range map[string]*frame.Frame{before: f.Take(old), after: f} {
		if err := atomicfile.Write(path, func(w io.Writer) error { return frame.WriteCSV(w, x) }); err != nil {
			t.Fatal(err)
		}
	}
	return before, after
}

// withChampion registers and promotes a gbdt champion of 2022's orders
// in a fresh store and returns the retrain environment, the champion's
// data, the newer data and the champion's version.
func withChampion(t *testing.T) (env Env, before, after, champ string) {
	t.Helper()
	dir := t.TempDir()
	before, after, champ = trainChampion(t, dir)
	return openEnv(t, dir, filepath.Join(dir, "artifacts")), before, after, champ
}

// trainChampion writes salesFiles to dir, registers and promotes a gbdt
// champion of 2022's orders in a store there, and closes the store, so
// that dir can be copied to start several cases from one champion.
func trainChampion(t *testing.T, dir string) (before, after, champ string) {
	t.Helper()
	before, after = salesFiles(t, dir)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name, cfg.TimeColumn = before, "order_quantity", "sales", "order_date"
	cfg.Drop = []string{"order_number", "procured_date", "ship_date", "delivery_date"}
	cfg.Models, cfg.CVFolds = []string{"gbdt"}, 0
	// Poisson counts of a few units: r2 near 0.3 is the best any model does.
	cfg.MinR2Threshold, cfg.MinBusinessAccuracy = 0, 0
	return before, after, registerChampion(t, dir, cfg)
}

// registerChampion trains cfg (its runs under dir), registers and
// promotes the model as cfg.Name in a store in dir, closes the store and
// returns the champion's version.
func registerChampion(t *testing.T, dir string, cfg *config.Config) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	defer arts.Close()
	reg := registry.New(st)
	cfg.Out = filepath.Join(dir, "runs")
	res, err := pipeline.Train(ctx, cfg, pipeline.Options{Runs: st,
		Registrar: pipeline.StoreRegistrar{Registry: reg, Artifacts: arts, CodeVersion: "test-code"}})
	if err != nil {
		t.Fatal(err)
	}
	champ := res.Registered.Model.Version
	if _, err := reg.Promote(ctx, champ, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	return champ
}

// openEnv opens the store trainChampion left in dir and the artifact
// store at arts as a retrain environment, closed when t ends.
func openEnv(t *testing.T, dir, arts string) Env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	as, err := artifact.Open(ctx, arts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	return Env{Registry: registry.New(st), Artifacts: as, CodeVersion: "test-code", Dir: filepath.Join(dir, "continuous"), Runs: st}
}

// TestRetrain trains a champion on 2022's orders, then retrains on data
// that runs on into the shifted 2023: the challenger, which saw some of
// the shift, wins on the newest rows and is promoted; retraining on the
// same file again keeps it (no new data); a deliberately weak challenger
// (a linear model with almost no features) is kept out.
func TestRetrain(t *testing.T) {
	ctx := context.Background()
	env, before, after, champ := withChampion(t)
	reg := env.Registry

	// Unchanged data: nothing to do.
	d, err := Retrain(ctx, env, "sales", before, Policy{})
	if err != nil || d.Decision != Keep || d.Reason != "no new data" || d.ChallengerVersion != "" {
		t.Fatalf("retrain on the champion's data = %+v, %v; want keep, no new data", d, err)
	}

	// Three rows of 2023 hold out one: its R² is undefined, and no
	// decision is made or recorded on it.
	lines, err := os.ReadFile(after)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.SplitAfter(string(lines), "\n")
	three := filepath.Join(t.TempDir(), "three.csv")
	if err := os.WriteFile(three, []byte(all[0]+strings.Join(all[len(all)-4:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	before3, _ := reg.History(ctx, "sales")
	if d, err := Retrain(ctx, env, "sales", three, Policy{}); err == nil || !strings.Contains(err.Error(), "undefined") {
		t.Errorf("retrain on 3 rows = %+v, %v; want an undefined-score error", d, err)
	}
	if after3, _ := reg.History(ctx, "sales"); len(after3) != len(before3) {
		t.Errorf("history grew from %d to %d events on an undefined score", len(before3), len(after3))
	}

	// A weak challenger loses.
	weak := Policy{Configure: func(c *config.Config) {
		c.Models, c.MinR2Threshold = []string{"ridge"}, -10 // weak, but past the gates
		c.Drop = append(c.Drop, "sales_channel", "warehouse", "sales_team", "customer", "store", "region", "state", "product", "discount", "unit_price", "unit_cost")
	}}
	d, err = Retrain(ctx, env, "sales", after, weak)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("weak: %+v", *d)
	if d.Decision != Keep || d.ChallengerVersion == "" || d.ChallengerVersion == champ || d.ChallengerScore >= d.ChampionScore || !strings.Contains(d.Reason, "does not beat") {
		t.Errorf("weak challenger: %+v; want keep for a worse score", d)
	}
	if !drifted(d, "warehouse") || !drifted(d, "unit_price") {
		t.Errorf("drift against the champion's data: %+v; want warehouse and unit_price drifted", d.Drift)
	}
	if p, _ := reg.Production(ctx, "sales"); p.Version != champ {
		t.Errorf("production is %s after a kept challenger; want the champion %s", p.Version, champ)
	}

	if d.Paired == nil || d.Paired.ChallengerWins != 0 || d.Paired.GainHigh >= 0 {
		t.Errorf("weak challenger's paired comparison %+v; want no resample won", d.Paired)
	}
	// With the champion's training data moved away there is nothing to
	// compare the newest rows with, and the decision says so (the drift
	// line went missing without a word).
	if err := os.Rename(before, before+".moved"); err != nil {
		t.Fatal(err)
	}
	if d, err := Retrain(ctx, env, "sales", after, weak); err != nil || d.Drift != nil || !strings.Contains(d.DriftNote, before) {
		t.Errorf("retrain with the champion's data moved = %+v, %v; want no drift report and a note naming %s", d, err, before)
	}
	if err := os.Rename(before+".moved", before); err != nil {
		t.Fatal(err)
	}

	// The champion's configuration on the new data wins, in nearly every
	// paired resample of the newest rows.
	d, err = Retrain(ctx, env, "sales", after, Policy{MinWins: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("retrain: %+v", *d)
	if d.Decision != Promote || d.Metric != "r2" || d.ChallengerScore <= d.ChampionScore || d.HoldoutRows < 3550 || d.HoldoutRows > 3650 {
		t.Fatalf("retrain after the shift = %+v; want promote with a better r2 on the newest 20%% of 18000 rows (3600, to the nearer end of the day the cut falls in)", d)
	}
	// The promoted model learnt from every row, the held-out newest too.
	if d.RefitRows != 18_000 {
		t.Errorf("the promoted challenger was refitted on %d rows; want all 18000, the newest included", d.RefitRows)
	}
	if p := d.Paired; p == nil || p.Resamples != resamples || p.ChallengerWins < 0.95 || p.GainLow <= 0 || p.GainHigh < p.GainLow {
		t.Errorf("paired comparison %+v; want the challenger ahead in ≥ 95%% of %d resamples", p, resamples)
	}
	if p, _ := reg.Production(ctx, "sales"); p.Version != d.ChallengerVersion {
		t.Errorf("production is %s; want the challenger %s", p.Version, d.ChallengerVersion)
	}
	// Now the new file is the champion's data: nothing to do.
	if d, err := Retrain(ctx, env, "sales", after, Policy{}); err != nil || d.Decision != Keep || d.Reason != "no new data" {
		t.Errorf("retrain again = %+v, %v; want keep, no new data", d, err)
	}
	// Both decisions are in the history, each challenger with its parent.
	h, err := reg.History(ctx, "sales")
	if err != nil {
		t.Fatal(err)
	}
	var decisions []string
	for _, e := range h {
		if e.Action == registry.ActionRetrain {
			if e.Parent != champ || e.Version == "" {
				t.Errorf("retrain event %+v; want parent %s", e, champ)
			}
			decisions = append(decisions, strings.SplitN(e.Reason, ":", 2)[0])
		}
	}
	if strings.Join(decisions, ",") != "keep,keep,promote" {
		t.Errorf("retrain decisions in the history: %v; want keep (weak), keep (weak, data moved), promote", decisions)
	}
	if _, err := os.Stat(env.Dir); err != nil {
		t.Error(err)
	}
}

func drifted(d *Decision, col string) bool {
	if d.Drift == nil {
		return false
	}
	for _, c := range d.Drift.Columns {
		if c.Name == col {
			return c.Drifted
		}
	}
	return false
}
