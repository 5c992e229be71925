package continuous

import (
	"context"
	"strings"
	"testing"
)

// TestRetrainRules retrains a champion of 2022's orders with
// DefaultPolicy's rules on and off, each case in a fresh store:
//   - tie-wins: on the champion's data less one row, the challenger
//     (its configuration, trained without the newest rows) scores a
//     little below the champion there but wins some paired resamples;
//     the tie promotes it, and without the rule it is kept (and the
//     champion refreshed instead);
//   - refresh-or-train: on data running into the shifted 2023 the
//     champion scores no worse than on its test rows, so on demand only
//     its refresh is tried, and it gains more than the 5% decay on the
//     check rows: the rule trains a challenger instead, which wins;
//     without the rule the refresh is made.
func TestRetrainRules(t *testing.T) {
	tie, tieOff := DefaultPolicy(), DefaultPolicy()
	tie.OnDemand, tieOff.OnDemand = false, false // a challenger on any new data
	tieOff.TieWins = 0
	// No drift trigger: the newest rows of 2023 drift from the months
	// before them, which spans the shift, and would call a challenger
	// before any refresh is tried.
	rot, rotOff := DefaultPolicy(), DefaultPolicy()
	rot.OnDrift, rotOff.OnDrift = false, false
	rotOff.RefreshOrTrain = false
	for _, tc := range []struct {
		name      string
		pol       Policy
		newData   bool // the shifted data, else the champion's less a row
		decision  string
		challenge bool   // a challenger was trained
		reason    string // the reason's start (the rule named), or ""
		trigger   string // in the trigger
	}{
		{"tie-wins", tie, false, Promote, true, "tie-wins: ", ""},
		{"tie-wins off", tieOff, false, Refresh, true, "", ""}, // kept, then refreshed
		{"refresh-or-train", rot, true, Promote, true, "refresh-or-train: ", "refresh did not check out"},
		{"refresh-or-train off", rotOff, true, Refresh, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			env, before, after, champ := withChampion(t)
			data := after
			if !tc.newData {
				data = dropLastRow(t, before)
			}
			d, err := Retrain(ctx, env, "sales", data, tc.pol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", *d)
			if d.Decision != tc.decision || (d.ChallengerVersion != "") != tc.challenge {
				t.Fatalf("decision %s, challenger %q (%s); want %s, a challenger %v", d.Decision, d.ChallengerVersion, d.Reason, tc.decision, tc.challenge)
			}
			if tc.reason != "" && !strings.HasPrefix(d.Reason, tc.reason) {
				t.Errorf("reason %q; want it to start with %q", d.Reason, tc.reason)
			}
			if tc.reason == "" && (strings.HasPrefix(d.Reason, ruleTie+": ") || strings.HasPrefix(d.Reason, ruleRefreshOrTrain+": ")) {
				t.Errorf("reason %q names a rule that is off", d.Reason)
			}
			if !strings.Contains(d.Trigger, tc.trigger) {
				t.Errorf("trigger %q; want %q in it", d.Trigger, tc.trigger)
			}
			switch tc.name {
			case "tie-wins", "tie-wins off":
				// The setup: a challenger below the champion, within noise.
				if d.Paired == nil || d.ChallengerScore >= d.ChampionScore || d.Paired.ChallengerWins < DefaultPolicy().TieWins {
					t.Fatalf("challenger %.4g against the champion's %.4g, paired %+v; want it below, winning at least %.0f%% of the resamples",
						d.ChallengerScore, d.ChampionScore, d.Paired, 100*DefaultPolicy().TieWins)
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
