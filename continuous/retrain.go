// Package continuous runs tabforge's continuous-learning loop: a new
// version of a model's data triggers a drift check and a retrain that
// starts from the champion's configuration, and the challenger replaces
// the champion only when it is better on the same, latest period.
package continuous

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// Env holds what Retrain works with.
type Env struct {
	Registry    *registry.Registry
	Artifacts   *artifact.Store
	CodeVersion string
	// Dir keeps Retrain's files: the held-out rows of each data version
	// and the challengers' runs. It must persist between retrains, since
	// the held-out rows' file is part of the challenger's configuration
	// and so of its version id.
	Dir string
	// Runs records the challengers' runs; nil does not record them. The
	// champion's run, when found there, gives every family's configuration
	// to warm-start the challenger's tuning from (else the champion's own
	// model gives its family's).
	Runs store.Runs
	// Studies keeps the challengers' tuning studies; nil keeps them in
	// memory for the run.
	Studies tune.Storage
	// Meta advises the challenger's run from past experiments when its
	// configuration has meta_learning on (after the champion's
	// configuration), and Knowledge is told what it evaluated; nil for
	// neither.
	Meta      pipeline.MetaAdvisor
	Knowledge pipeline.KnowledgeRecorder
}

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

// Decision is the outcome of Retrain; it encodes to the JSON of
// `tabforge retrain --json`.
type Decision struct {
	Decision          string `json:"decision"` // "promote" or "keep"
	Reason            string `json:"reason"`
	ChampionVersion   string `json:"champion_version"`
	ChallengerVersion string `json:"challenger_version,omitempty"`
	Metric            string `json:"metric,omitempty"`
	// ChampionScore and ChallengerScore are the models' Metric on the
	// held-out rows; NaN (null in JSON) when not measured: a keep on no
	// new data, or no challenger trained.
	ChampionScore   float64 `json:"champion_score"`
	ChallengerScore float64 `json:"challenger_score"`
	HoldoutRows     int     `json:"holdout_rows,omitempty"`
	// RefitRows is the number of rows the challenger's saved model was
	// refitted on after being scored (the held-out rows included); 0 when
	// it was not refitted.
	RefitRows int `json:"refit_rows,omitempty"`
	// WarmStart names the configurations the challenger's tuning tried
	// first, per family (the champion's first), when tuning is on.
	WarmStart map[string]string `json:"warm_start,omitempty"`
	// Trigger says why an on-demand policy trained a challenger.
	Trigger string `json:"trigger,omitempty"`
	// TrainSeconds is the wall time of training the challenger (0 when
	// none was trained).
	TrainSeconds float64 `json:"train_seconds"`
	Paired       *Paired `json:"paired,omitempty"`
	// Refresh describes the update of a Refresh decision, or the check
	// of one that was kept.
	Refresh *RefreshResult `json:"refresh,omitempty"`
	Stage   registry.Stage `json:"stage,omitempty"`
	Drift   *drift.Report  `json:"drift,omitempty"`
	// DriftNote says why Drift is missing when the newest rows were
	// held out: the champion's training data, which they are compared
	// with, could not be read (moved or deleted since).
	DriftNote string `json:"drift_note,omitempty"`
	// rules are the policy's rules that decided, named first in Reason.
	rules []string
	// moved is set when production moved off the champion while the
	// retrain ran, and a promotion was kept out (see promoteDecided).
	moved bool
}

// The decisions.
const (
	Promote = "promote"
	Keep    = "keep"
)

// errChampionLoad marks a champion that could not be loaded (its
// artifact missing, damaged, or in another artifact store): a fault of the
// registry or the artifact store, never of the data file being retrained
// on, so watch does not record that file as failed.
var errChampionLoad = errors.New("champion")

// Retrain retrains the model registered as name on the data file data:
// the same data as the champion's (by content hash) is "keep, no new
// data", and data with no row newer than the champion's (its rows
// reordered, or older rows backfilled) a keep that says so; otherwise it
// holds out the newest rows, reports their drift
// against the champion's training data, scores the champion on them,
// trains a challenger with the champion's configuration on the other
// rows (unless the policy is on demand and nothing calls for one),
// scores it on the same rows, and promotes it when it wins by the
// policy's margins.
func Retrain(ctx context.Context, env Env, name, data string, pol Policy) (*Decision, error) {
	if err := pol.Check(); err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	champ, err := env.Registry.Production(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	// Scores not measured stay NaN, null in JSON: a 0 would read as a
	// score (an r2 of 0) on a keep that scored nothing.
	d := &Decision{Decision: Keep, ChampionVersion: champ.Version, ChampionScore: math.NaN(), ChallengerScore: math.NaN()}
	cfg, err := championConfig(champ, name, data)
	if err != nil {
		return nil, err
	}
	x, err := frame.ReadFile(data, pipeline.ReadOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	hash := x.Hash()
	if hash == champ.DatasetHash {
		d.Reason = "no new data"
		return d, nil
	}
	if err := checkTimeColumn(x, cfg.TimeColumn, data); err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	if x.NumRows() < 2 {
		return nil, fmt.Errorf("retrain %s: %s has %d rows; a challenger needs rows to train on and rows to be scored on", name, data, x.NumRows())
	}
	holdout, ref, stale := holdoutRows(champ, cfg, pol, x)
	if stale {
		// Scored on rows it was trained or tested on, the champion looks
		// better than it is; on older rows alone, both would be judged
		// on the past. Neither says which model predicts what comes next.
		d.Reason = fmt.Sprintf("no row newer than the champion's training data: none of the %d rows of %s is after its newest time, so none can judge a challenger; the champion is kept until newer rows arrive",
			x.NumRows(), filepath.Base(data))
		return d, nil
	}
	d.HoldoutRows = len(holdout)
	champP, err := pipeline.LoadRegistered(ctx, env.Artifacts, champ)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w: %w", name, errChampionLoad, err)
	}
	d.Drift = driftReport(ctx, ref, champP, cfg, x.Take(holdout))
	if ref == nil {
		d.DriftNote = fmt.Sprintf("no drift report: the champion's training data %s could not be read (moved or deleted since it trained?)", champ.DatasetPath)
	}
	d.Metric = pipeline.PrimaryMetric(champP.Target.Task)
	champOut, err := scoreOn(champP, data, pipeline.ReadOptions(cfg), holdout, d.Metric, &d.ChampionScore)
	if u := (*UnseenClassError)(nil); errors.As(err, &u) {
		// No score of the champion's covers a class it has no probability
		// for, so no challenger can be weighed against it.
		return nil, fmt.Errorf("retrain %s: champion: %w; retrain compares models on the champion's classes: for a new class, train a model on %s (tabforge train) and promote it", name, err, data)
	}
	if err != nil {
		return nil, fmt.Errorf("retrain %s: champion: %w", name, err)
	}
	if math.IsNaN(d.ChampionScore) {
		// No decision can rest on it: nothing is recorded.
		return nil, fmt.Errorf("retrain %s: the champion's %s on the newest %d rows is undefined (one row, or one class); hold out more rows (--holdout) or retrain on more data", name, d.Metric, d.HoldoutRows)
	}
	if pol.OnDemand {
		if out, done, err := onDemand(ctx, env, name, champ, champP, cfg, x, data, holdout, hash, pol, d); done {
			return out, err
		}
	}
	res, chalP, err := challenge(ctx, env, champ, champP, cfg, pol, holdout, hash, d)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: challenger: %w", name, err)
	}
	chalOut, err := scoreOn(chalP, data, pipeline.ReadOptions(cfg), holdout, d.Metric, &d.ChallengerScore)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: challenger: %w", name, err)
	}
	p, err := paired(champOut, chalOut, d.Metric, uint64(len(holdout)))
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	d.Paired = &p
	checked := d.Refresh != nil // a refresh checked already, and failed
	if d, err = decide(ctx, env, champ, res, pol, d); err != nil || d.Decision != Keep || pol.Refresh <= 0 || d.ChallengerVersion == champ.Version || checked {
		return d, err
	}
	// The champion stays, but has not learnt from the newest rows: a
	// refresh may still teach it them.
	if err := refresh(ctx, env, champ, champP, cfg, data, holdout, hash, pol, d); err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	return d, nil
}

// holdoutRows returns the newest rows of x that champion and challenger
// are scored on, and the champion's training data read with x's schema
// (nil when it cannot be read). The policy's share is held out, but no row
// the champion trained on when enough rows are newer than its data. stale
// reports that no row of x is newer than the champion's data (which is
// then known): every row is one the champion saw, or older.
func holdoutRows(champ *registry.Model, cfg *config.Config, pol Policy, x *frame.Frame) (holdout []int, ref *frame.Frame, stale bool) {
	k := pol.holdoutRows(x.NumRows())
	ref = championData(champ, cfg, x)
	if ref != nil && ref.Hash() == champ.DatasetHash {
		m, ok := rowsAfter(ref, x, cfg.TimeColumn)
		if ok && m == 0 {
			return nil, ref, true
		}
		if ok && m < k {
			k = m
		}
	}
	return newestRows(x, cfg.TimeColumn, k), ref, false
}

// onDemand applies an on-demand policy before any challenger is trained:
// it looks for a reason to train one (the champion's decay, drift
// between the newest rows and those before, the champion's age) and,
// with none, refreshes the champion if the policy says so or records
// the keep. done reports that Retrain ends here, returning out and err;
// otherwise a challenger is to be trained and d.Trigger says why.
func onDemand(ctx context.Context, env Env, name string, champ *registry.Model, champP *pipeline.Predictor, cfg *config.Config, x *frame.Frame, data string, holdout []int, hash string, pol Policy, d *Decision) (out *Decision, done bool, err error) {
	if d.Trigger = needed(champ, d, pol.Decay); d.Trigger == "" && pol.OnDrift {
		if d.Trigger = recentDrift(ctx, champP, cfg, x, holdout); d.Trigger != "" {
			d.rules = append(d.rules, ruleOnDrift)
		}
	}
	if d.Trigger == "" {
		d.Trigger, err = aged(ctx, env, champ, pol.MaxAge)
		if err != nil {
			return nil, true, fmt.Errorf("retrain %s: %w", name, err)
		}
	}
	if d.Trigger == "" {
		// "within" would misread a champion doing better than on its test
		// rows, as it often does (the backtests' refreshes mostly are).
		d.Reason = fmt.Sprintf("on demand: the champion's %s on the newest %d rows, %.4g, is no more than %.0f%% worse than its test score %.4g", d.Metric, d.HoldoutRows, d.ChampionScore, 100*pol.Decay, champ.Metrics[d.Metric])
		if pol.Refresh > 0 {
			if err := refresh(ctx, env, champ, champP, cfg, data, holdout, hash, pol, d); err != nil {
				return nil, true, fmt.Errorf("retrain %s: %w", name, err)
			}
			if d.Decision == Refresh || d.moved {
				return d, true, nil // refresh recorded its decision
			}
			if pol.RefreshOrTrain && d.Refresh != nil {
				d.Trigger = "the champion's refresh did not check out (" + d.Refresh.why + ")"
				d.rules = append(d.rules, ruleRefreshOrTrain)
			}
		}
		if d.Trigger == "" {
			return d, true, record(ctx, env, champ, d)
		}
		d.Reason = "" // the challenger's decision gives it; d.Refresh keeps the failed check
	}
	return nil, false, nil
}

// needed says why the newest rows call for a challenger, or "" when
// they do not: the champion's score on them decayed from its test score
// by more than decay (a share of its magnitude). Drift is reported, not
// acted on: one period against the champion's whole history drifts in
// every time-like feature (year, month, seasonal counts) every period
// (on Texas housing, 3 to 4 of 6 features each month of 2010), and the
// newest rows have their targets, so the champion's score on them says
// directly whether it still predicts them.
func needed(champ *registry.Model, d *Decision, decay float64) string {
	ref, ok := champ.Metrics[d.Metric]
	if !ok {
		return "the champion has no test " + d.Metric
	}
	loss, moved := ref-d.ChampionScore, "fell"
	if !eval.Higher(d.Metric) {
		loss, moved = -loss, "rose" // a loss (logloss, rmse) that grows is the decay
	}
	if loss > decay*math.Abs(ref) {
		return fmt.Sprintf("the champion's %s %s from %.4g to %.4g", d.Metric, moved, ref, d.ChampionScore)
	}
	return ""
}

// recentDrift says why the newest rows of x (holdout) call for a
// challenger, or "": they drift from the as many rows just before them
// on the champion's input features (time column and target left out).
// A comparison that fails, or has no rows before, calls for none.
func recentDrift(ctx context.Context, p *pipeline.Predictor, cfg *config.Config, x *frame.Frame, holdout []int) string {
	order := timeOrder(x, cfg.TimeColumn)
	end := len(order) - len(holdout)
	prev := slices.Clone(order[max(0, end-len(holdout)):end])
	if len(prev) == 0 {
		return ""
	}
	slices.Sort(prev)
	var cols []string
	for _, f := range p.Schema {
		if f.Name != cfg.Target && !timePart(cfg.TimeColumn, f.Name) {
			cols = append(cols, f.Name)
		}
	}
	r, err := drift.Compare(ctx, x.Take(prev), x.Take(holdout), drift.Options{Columns: cols})
	if err != nil || !r.DatasetDrift {
		return ""
	}
	return fmt.Sprintf("the newest %d rows drift from the %d before them (%d of %d features)", len(holdout), len(prev), r.Drifted, r.Compared)
}

// aged says why the champion is too old to keep without a challenger,
// or "": it has seen maxAge new data versions since the training of its
// model (its retrain decisions, and those of the versions it was
// refreshed from: a refresh adds rounds, it does not retrain), or
// maxAge is 0. It reads the name's registry.Summary, one record, not
// the history, which may be long or pruned.
func aged(ctx context.Context, env Env, champ *registry.Model, maxAge int) (string, error) {
	if maxAge <= 0 {
		return "", nil
	}
	s, err := env.Registry.Summary(ctx, champ.Name)
	if err != nil {
		return "", err
	}
	age := 0
	for v, seen := champ.Version, map[string]bool{}; v != "" && !seen[v]; v = refreshedFrom(s, v) {
		seen[v] = true
		age += s.Retrains[v]
	}
	if age < maxAge {
		return "", nil
	}
	return fmt.Sprintf("the champion has seen %d new data versions since its promotion (max age %d)", age, maxAge), nil
}

// record keeps d in the name's history: a retrain event of the
// challenger (if any) with the champion as its parent.
func record(ctx context.Context, env Env, champ *registry.Model, d *Decision) error {
	version := d.ChallengerVersion
	if d.Decision == Refresh {
		version = d.Refresh.Version
	}
	e := registry.Event{Name: champ.Name, Action: registry.ActionRetrain, Version: version, Parent: champ.Version, Reason: d.Decision + ": " + d.Reason}
	_, err := env.Registry.Record(ctx, e)
	return err
}

// tied says whether a challenger that gains gain (negative: it loses)
// over the champion ties it within the noise of the paired comparison p
// (see TieWins).
func (pol Policy) tied(gain float64, p *Paired) bool {
	return gain < 0 && pol.TieWins > 0 && p != nil && p.ChallengerWins >= pol.TieWins
}

// decide applies the policy to the scores in d, promotes a winner and
// records the decision in the registry's history.
func decide(ctx context.Context, env Env, champ *registry.Model, res *pipeline.Result, pol Policy, d *Decision) (*Decision, error) {
	gain := d.ChallengerScore - d.ChampionScore
	if !eval.Higher(d.Metric) {
		gain = -gain
	}
	need := max(pol.MinAbsolute, pol.MinRelative*math.Abs(d.ChampionScore))
	tied := pol.tied(gain, d.Paired)
	if tied {
		gain = 0
	}
	switch {
	case d.ChallengerVersion == champ.Version:
		d.Reason = "the challenger is the champion (same data, configuration and code)"
		return d, nil
	case math.IsNaN(gain):
		// NaN compares false with every margin below and would fall through
		// to a promotion: a challenger whose score cannot be computed (its
		// predictions are not numbers) must not replace a scored champion.
		d.Reason = fmt.Sprintf("the challenger's %s on the newest %d rows is %.4g against the champion's %.4g; an undefined score is no win",
			d.Metric, d.HoldoutRows, d.ChallengerScore, d.ChampionScore)
	case !res.Deployable && len(blocking(res.Gates, d)) > 0:
		d.Reason = "the challenger failed its quality gates: " + strings.Join(blocking(res.Gates, d), "; ")
	case d.Paired != nil && d.Paired.ChallengerWins < pol.MinWins:
		d.Reason = fmt.Sprintf("the challenger wins %.0f%% of the paired resamples of the newest %d rows, below the %.0f%% required",
			100*d.Paired.ChallengerWins, d.HoldoutRows, 100*pol.MinWins)
	case gain < need || gain < 0 || (gain == 0 && pol.KeepHoldout):
		d.Reason = fmt.Sprintf("the challenger's %s %.4g does not beat the champion's %.4g by the margin (%.4g needed, %.4g gained) on the newest %d rows",
			d.Metric, d.ChallengerScore, d.ChampionScore, need, gain, d.HoldoutRows)
	default:
		d.Decision, d.Stage = Promote, pol.Stage
		if d.Stage == "" {
			d.Stage = registry.Production
		}
		d.Reason = fmt.Sprintf("the challenger's %s %.4g beats the champion's %.4g on the newest %d rows", d.Metric, d.ChallengerScore, d.ChampionScore, d.HoldoutRows)
		if gain == 0 {
			d.Reason = fmt.Sprintf("the challenger's %s %.4g ties the champion's on the newest %d rows, and it learnt from them", d.Metric, d.ChallengerScore, d.HoldoutRows)
		}
		if tied {
			d.Reason = fmt.Sprintf("the challenger's %s %.4g ties the champion's %.4g on the newest %d rows within noise (it wins %.0f%% of the paired resamples, %.0f%% needed for a tie), and it learnt from them",
				d.Metric, d.ChallengerScore, d.ChampionScore, d.HoldoutRows, 100*d.Paired.ChallengerWins, 100*pol.TieWins)
			d.rules = append(d.rules, ruleTie)
		}
		if !res.Deployable {
			d.Reason += fmt.Sprintf("; it misses the %s floor there, which the champion misses too", d.Metric)
		}
	}
	if len(d.rules) > 0 {
		d.Reason = strings.Join(d.rules, ", ") + ": " + d.Reason
	}
	if d.Decision == Promote {
		reason := fmt.Sprintf("retrain: %s; challenger %s, parent %s", d.Reason, d.ChallengerVersion, champ.Version)
		// A challenger past blocking() with failed gates failed only floors
		// the champion fails worse on the same rows: it is forced in.
		if err := promoteDecided(ctx, env, champ, d.ChallengerVersion, d, registry.PromoteOptions{Reason: reason, Force: !res.Deployable}); err != nil {
			return nil, err
		}
	}
	if err := record(ctx, env, champ, d); err != nil {
		return nil, err
	}
	return d, nil
}

// promoteDecided moves version to d's stage, unless production has moved
// off the champion d was decided against while the retrain ran (someone
// promoted or rolled back meanwhile): that choice stands and d becomes a
// keep that says so.
func promoteDecided(ctx context.Context, env Env, champ *registry.Model, version string, d *Decision, o registry.PromoteOptions) error {
	if d.Stage == registry.Production {
		o.Expect = champ.Version
	}
	_, err := env.Registry.Promote(ctx, version, d.Stage, o)
	if errors.Is(err, registry.ErrProductionChanged) {
		d.Decision, d.Stage, d.moved = Keep, "", true
		d.Reason += "; not promoted: " + err.Error()
		return nil
	}
	return err
}

// blocking are the challenger's failed gates that keep it out: all but
// a floor on the decision's metric (min_r2_threshold) that the champion
// misses by as much or more on the same newest rows. Such a floor, judged on one
// short period, says the period is hard, not that the challenger is
// worse than what is deployed: replacing the champion improves things.
func blocking(gates pipeline.Gates, d *Decision) []string {
	var out pipeline.Gates
	for _, g := range gates {
		if !g.Passed && !(g.Metric == d.Metric && !g.Max && g.Detail == "" && eval.Higher(d.Metric) && d.ChampionScore <= g.Value) {
			out = append(out, g)
		}
	}
	return out.Failures()
}
