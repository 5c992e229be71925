package continuous

import (
	"fmt"
	"math"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/registry"
)

// Policy says when a challenger replaces the champion. The zero value
// trains a challenger on every new data version and promotes to
// production any challenger that is better at all on the newest 20% of
// the rows; DefaultPolicy is the policy tabforge runs.
type Policy struct {
	// Holdout is the share of the newest rows (by the champion's time
	// column, else file order) both models are scored on; the challenger
	// does not train on them. Rows sharing a time stay on one side, so
	// the cut goes to the nearest time boundary and the share held out
	// may be a little larger or smaller. When fewer rows than that are
	// newer than the champion's training data (its file unchanged;
	// without a time column, the rows appended after its rows), only
	// those are held out: the champion is never scored on rows it
	// trained on. When none is newer, Retrain keeps the champion without
	// a challenger. 0 means 0.2.
	Holdout float64
	// HoldoutRows, when positive, is the number of newest rows instead
	// (a backtest holds out exactly its latest period).
	HoldoutRows int
	// OnDemand trains a challenger only when the newest rows call for
	// one: the champion scores worse on them than on its own test rows
	// by more than Decay (a share of that score's magnitude). Otherwise
	// the decision is keep, at the cost of scoring the champion only.
	// False trains a challenger on any new data.
	OnDemand bool
	Decay    float64
	// MaxAge, with OnDemand, also trains a challenger once the champion
	// has seen MaxAge new data versions since its promotion without being
	// replaced (retrain decisions with it as the parent), however well it
	// still scores: a champion that decays slowly, within Decay each
	// time, is never refreshed otherwise, while every version adds rows
	// it has not learnt from. 0 means no age limit.
	MaxAge int
	// MinAbsolute and MinRelative are the margins the challenger must
	// beat the champion by, as MLflow's MetricThreshold: in metric units,
	// and as a share of the champion's score's magnitude.
	MinAbsolute, MinRelative float64
	// MinWins is the least share of paired bootstrap resamples of the
	// held-out rows the challenger must win (see Paired); 0 means none.
	MinWins float64
	// TieWins, when positive, counts a challenger that scores below the
	// champion on the newest rows but wins at least this share of their
	// paired resamples as tied with it: the newest rows cannot tell the
	// two apart, and the challenger promoted is refitted on those rows
	// while the champion kept has not learnt them (a refresh learns them
	// in part). A tie is promoted when the margins are 0 and the holdout
	// is not kept out, as an exact tie is. 0 means only an exact tie.
	TieWins float64
	// OnDrift, with OnDemand, also trains a challenger when the newest
	// rows drift (dataset drift, the time column left out) from the as
	// many rows just before them: the market changed within the last
	// period, which a refresh, correcting the champion's residuals, does
	// not learn as a refit does. The reference is the previous period,
	// not the champion's training data as in the drift report: after a
	// change, a long history keeps drifting from every new period (on
	// the synthetic sales, 9 of 11 features each month after the drift
	// month), which would train a challenger every period.
	OnDrift bool
	// RefreshOrTrain, with OnDemand and Refresh, trains a challenger
	// when the champion would be kept but its refresh does not check
	// out: kept as it is, it has not learnt the newest rows at all. The
	// check also fails, then, when the refresh gains more than Decay (a
	// share of the champion's score) on the check's rows: the champion
	// is that far off the newest rows, and a tenth of its rounds learns
	// only part of what a refit does (on the synthetic sales, refreshes
	// that gained 12-17% there ended 0.013-0.04 r2 under a refit the
	// next period, those that gained under 5% within about 0.01).
	RefreshOrTrain bool
	// Stage is where a winning challenger goes; "" means production.
	Stage registry.Stage
	// KeepHoldout leaves the held-out newest rows out of a promoted
	// challenger. By default (false) the challenger runs with refit_all:
	// it is judged by its fit on the other rows, and the version promoted
	// is then refitted on all of them, the newest included.
	KeepHoldout bool
	// Refresh, when positive, updates a champion that would be kept (on
	// demand without a challenger, or after a challenger that lost) by
	// continued boosting instead: Refresh times its number of boosting
	// rounds more rounds, fitted on all the new data's rows from its
	// predictions, so that it learns the newest rows it has not seen. The
	// update must pass a check first (see refresh) and is then its own
	// decision, Refresh. A tenth of the rounds costs about a tenth of a
	// challenger's training, so the champion follows a market that moves
	// every period between challengers. Only a single gradient boosted
	// model can be refreshed; 0 means never.
	Refresh float64
	// Configure, when set, changes the challenger's configuration after
	// it is copied from the champion's (tests use it for a weak one).
	Configure func(*config.Config)
}

// DefaultPolicy is the policy `tabforge retrain`, `watch` and the
// continuous strategy of `backtest` run unless told otherwise, the one
// the README's backtests measure (on the synthetic sales, seeds 1-5,
// within 1% of retraining every period at 0.76-0.86 of its training
// time): a challenger only on demand (a champion decayed by 5%, a
// drifting newest period, a champion that has seen one new version, or
// a refresh of a tenth of its rounds that does not check out), and a
// challenger within the paired noise of the champion (it wins 5% of the
// resamples) promoted, as it learnt the newest rows.
func DefaultPolicy() Policy {
	return Policy{Holdout: 0.2, OnDemand: true, Decay: 0.05, MaxAge: 1, Refresh: 0.1, TieWins: 0.05, OnDrift: true, RefreshOrTrain: true}
}

// Check reports a policy value out of its range: shares outside [0, 1)
// or [0, 1], negative margins, decay, age or refresh, and NaN or ±Inf
// anywhere.
// Zero values mean the defaults or "off", as the fields say.
func (p Policy) Check() error {
	for _, v := range []struct {
		name     string
		value    float64
		max      float64
		maxIsOut bool
	}{
		{"holdout", p.Holdout, 1, true}, {"decay", p.Decay, math.Inf(1), false},
		{"min-absolute", p.MinAbsolute, math.Inf(1), false}, {"min-relative", p.MinRelative, math.Inf(1), false},
		{"min-wins", p.MinWins, 1, false}, {"tie-wins", p.TieWins, 1, false}, {"refresh", p.Refresh, math.Inf(1), false},
	} {
		if math.IsNaN(v.value) || math.IsInf(v.value, 0) || v.value < 0 || v.value > v.max || (v.maxIsOut && v.value == v.max) {
			// Say the range: "out of range" alone left the user guessing
			// whether --min-wins 2 meant too many or a percentage.
			want := "a finite number, 0 or more"
			switch {
			case v.maxIsOut:
				want = fmt.Sprintf("a share from 0 to below %v", v.max)
			case !math.IsInf(v.max, 1):
				want = fmt.Sprintf("a share from 0 to %v", v.max)
			}
			return fmt.Errorf("policy: %s %v is out of range: want %s", v.name, v.value, want)
		}
	}
	// Each named alone: "max-age -1 and holdout rows 0 must not be
	// negative" blamed a value the user never gave.
	if p.MaxAge < 0 {
		return fmt.Errorf("policy: max-age %d is out of range: want 0 (no limit) or more", p.MaxAge)
	}
	if p.HoldoutRows < 0 {
		return fmt.Errorf("policy: holdout rows %d is out of range: want 0 (use the holdout share) or more", p.HoldoutRows)
	}
	return nil
}

// The policy's rules named in a decision's reason when they decide it;
// the names are those of the command-line flags that set them.
const (
	ruleTie            = "tie-wins"
	ruleOnDrift        = "on-drift"
	ruleRefreshOrTrain = "refresh-or-train"
)

// holdoutRows is how many of n rows the policy holds out: at least one,
// and at most all but one.
func (p Policy) holdoutRows(n int) int {
	k := p.HoldoutRows
	if k <= 0 {
		share := p.Holdout
		if share <= 0 || share >= 1 {
			share = 0.2
		}
		k = int(math.Ceil(share * float64(n)))
	}
	return max(1, min(k, n-1))
}

// tied says whether a challenger that gains gain (negative: it loses)
// over the champion ties it within the noise of the paired comparison p
// (see TieWins).
func (pol Policy) tied(gain float64, p *Paired) bool {
	return gain < 0 && pol.TieWins > 0 && p != nil && p.ChallengerWins >= pol.TieWins
}
