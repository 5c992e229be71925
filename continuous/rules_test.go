package continuous

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/registry"
)

// TestRetrainRules retrains a champion of 2022's orders with
// DefaultPolicy's rules on and off, each case in a copy of the store
// the champion was trained in once (the artifacts restored in place, as
// the registry records where they are stored):
//   - a losing challenger: on data running into the shifted 2023, a
//     weak challenger (a linear model with almost no features) loses
//     clearly on the newest rows, wins no paired resample, so the tie
//     rule does not promote it; it is kept and the champion refreshed
//     instead (TestDecideTie promotes a challenger that ties within
//     noise);
//   - refresh-or-train: on data running into the shifted 2023 the
//     champion scores no worse than on its test rows, so on demand only
//     its refresh is tried, and it gains more than the 5% decay on the
//     check rows: the rule trains a challenger instead, which wins;
//     without the rule the refresh is made;
//   - on-drift: on the orders up to February 2023, holding out 2023's,
//     the champion is within its decay, but the shifted newest rows
//     drift from as many rows before them (of late 2022): the rule trains
//     a challenger, which wins; without it no drift triggers one (the
//     failed refresh does).
func TestRetrainRules(t *testing.T) {
	trained, pristine := t.TempDir(), t.TempDir()
	_, _, champ := trainChampion(t, trained)
	arts := filepath.Join(trained, "artifacts")
	if err := os.CopyFS(pristine, os.DirFS(trained)); err != nil {
		t.Fatal(err)
	}
	losing := DefaultPolicy()
	losing.OnDemand = false // a challenger on any new data
	losing.Configure = func(c *config.Config) {
		c.Models, c.MinR2Threshold = []string{"ridge"}, -10 // weak, but past the gates
		c.Drop = append(c.Drop, "sales_channel", "warehouse", "sales_team", "customer", "store", "region", "state", "product", "discount", "unit_price", "unit_cost")
	}
	rot, rotOff := DefaultPolicy(), DefaultPolicy()
	rotOff.RefreshOrTrain = false
	drifting, driftOff := DefaultPolicy(), DefaultPolicy()
	driftOff.OnDrift = false
	for _, tc := range []struct {
		name      string
		pol       Policy
		data      string // "after" or "early" (to February 2023)
		decision  string // "" for any
		challenge bool   // a challenger was trained
		reason    string // the reason's start (the rule named), or ""
		off       string // a rule switched off, not to be named
		trigger   string // in the trigger
	}{
		{"losing challenger", losing, "after", Refresh, true, "", ruleTie, ""}, // kept, then refreshed
		{"refresh-or-train", rot, "after", Promote, true, "refresh-or-train: ", "", "refresh did not check out"},
		{"refresh-or-train off", rotOff, "after", Refresh, false, "", ruleRefreshOrTrain, ""},
		{"on-drift", drifting, "early", Promote, true, "on-drift: ", "", "drift from"},
		{"on-drift off", driftOff, "early", "", false, "", ruleOnDrift, ""}, // refresh-or-train fires
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(pristine)); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(arts); err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(arts, os.DirFS(filepath.Join(pristine, "artifacts"))); err != nil {
				t.Fatal(err)
			}
			env := openEnv(t, dir, arts)
			after := filepath.Join(dir, "sales_2023.csv")
			data, pol := after, tc.pol
			if tc.data == "early" {
				data, pol.HoldoutRows = early2023(t, after)
			}
			d, err := Retrain(ctx, env, "sales", data, pol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", *d)
			if (tc.decision != "" && d.Decision != tc.decision) || (tc.challenge && d.ChallengerVersion == "") {
				t.Fatalf("decision %s, challenger %q (%s); want %s, a challenger %v", d.Decision, d.ChallengerVersion, d.Reason, tc.decision, tc.challenge)
			}
			if tc.reason != "" && !strings.HasPrefix(d.Reason, tc.reason) {
				t.Errorf("reason %q; want it to start with %q", d.Reason, tc.reason)
			}
			if rules, _, ok := strings.Cut(d.Reason, ": "); tc.off != "" && ok && strings.Contains(rules, tc.off) {
				t.Errorf("reason %q names %s, which is off", d.Reason, tc.off)
			}
			if tc.off == ruleOnDrift && strings.Contains(d.Trigger, "drift from") {
				t.Errorf("trigger %q with on-drift off", d.Trigger)
			}
			if !strings.Contains(d.Trigger, tc.trigger) {
				t.Errorf("trigger %q; want %q in it", d.Trigger, tc.trigger)
			}
			switch tc.name {
			case "losing challenger":
				// The setup: a challenger below the champion, beyond noise.
				if d.Paired == nil || d.ChallengerScore >= d.ChampionScore || d.Paired.ChallengerWins >= DefaultPolicy().TieWins {
					t.Fatalf("challenger %.4g against the champion's %.4g, paired %+v; want it below, winning under %.0f%% of the resamples",
						d.ChallengerScore, d.ChampionScore, d.Paired, 100*DefaultPolicy().TieWins)
				}
			case "refresh-or-train off":
				// The champion scores no worse here than on its test rows; the
				// reason used to say it was "within 5%" of them.
				if !strings.Contains(d.Reason, "is no more than 5% worse than its test score") {
					t.Errorf("reason %q; want the champion no more than 5%% worse than its test score", d.Reason)
				}
			case "refresh-or-train":
				if d.Refresh == nil || d.Refresh.Version != "" || d.ChallengerScore <= d.ChampionScore {
					t.Errorf("refresh %+v, challenger %.4g against %.4g; want the refresh not made and a better challenger", d.Refresh, d.ChallengerScore, d.ChampionScore)
				}
			}
			prod, err := env.Registry.Production(ctx, "sales")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{Promote: d.ChallengerVersion, Keep: champ}[d.Decision]; want != "" && prod.Version != want {
				t.Errorf("production is %s after %s; want %s", prod.Version, d.Decision, want)
			}
			h, err := env.Registry.History(ctx, "sales")
			if err != nil {
				t.Fatal(err)
			}
			if e := h[len(h)-1]; tc.reason != "" && !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("the history's last event %+v does not name the rule %q", e, tc.reason)
			}
		})
	}
}

// early2023 writes the orders of after (see salesFiles) up to February
// 2023 next to it and returns the file and the number of 2023's orders.
func early2023(t *testing.T, after string) (path string, newest int) {
	t.Helper()
	x, err := frame.ReadFile(after, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ord, _ := x.Lookup("order_date")
	shift, end := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	var rows []int
	for i, v := range ord.Num {
		if v < float64(end) {
			rows = append(rows, i)
			if v >= float64(shift) {
				newest++
			}
		}
	}
	path = filepath.Join(filepath.Dir(after), "sales_to_2023-02.csv")
	if err := atomicfile.Write(path, func(w io.Writer) error { return frame.WriteCSV(w, x.Take(rows)) }); err != nil {
		t.Fatal(err)
	}
	return path, newest
}

// TestNeededSaysHowTheScoreMoved: the decay trigger says a loss rose and
// a score fell. It said "logloss fell from 0.5755 to 0.6489" of a
// champion whose logloss had grown (survival_pbc).
func TestNeededSaysHowTheScoreMoved(t *testing.T) {
	for _, tc := range []struct {
		metric      string
		test, score float64
		want        string
	}{
		{"logloss", 0.5755, 0.6489, "the champion's logloss rose from 0.5755 to 0.6489"},
		{"rmse", 10, 12, "the champion's rmse rose from 10 to 12"},
		{"r2", 0.8, 0.6, "the champion's r2 fell from 0.8 to 0.6"},
		{"logloss", 0.5755, 0.5, ""},
	} {
		champ := &registry.Model{Metrics: map[string]float64{tc.metric: tc.test}}
		if got := needed(champ, &Decision{Metric: tc.metric, ChampionScore: tc.score}, 0.05); got != tc.want {
			t.Errorf("needed with %s %v on test, %v now = %q; want %q", tc.metric, tc.test, tc.score, got, tc.want)
		}
	}
}
