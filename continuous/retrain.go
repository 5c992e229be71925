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

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
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
	x, err := pipeline.ReadRecorded(data, pipeline.ReadOptions(cfg), champ.DatasetHash)
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
	run := &retrainRun{env: env, name: name, data: data, pol: pol, champ: champ, cfg: cfg, x: x, hash: hash, holdout: holdout, d: d}
	champOut, err := run.scoreChampion(ctx, ref)
	if err != nil {
		return nil, err
	}
	if pol.OnDemand {
		if out, done, err := run.onDemand(ctx); done {
			return out, err
		}
	}
	return run.contest(ctx, champOut)
}

// retrainRun is what the steps of one Retrain share: the registered
// model and data file it retrains on, its policy, the champion, the
// champion's configuration on the data, the data read, its content
// hash, the newest rows both models are scored on, and the decision
// being made.
type retrainRun struct {
	env     Env
	name    string
	data    string
	pol     Policy
	champ   *registry.Model
	champP  *pipeline.Predictor // the champion loaded, by scoreChampion
	cfg     *config.Config
	x       *frame.Frame
	hash    string
	holdout []int
	d       *Decision
}

// scoreChampion loads the champion's model, reports the drift of the
// held-out rows of x against its training data ref (nil: d says why
// there is no report), and scores it on them into d. A champion that
// cannot be scored there, or whose score is undefined, ends the retrain:
// no challenger can be weighed against it.
func (run *retrainRun) scoreChampion(ctx context.Context, ref *frame.Frame) (*outputs, error) {
	champP, err := pipeline.LoadRegistered(ctx, run.env.Artifacts, run.champ)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w: %w", run.name, errChampionLoad, err)
	}
	run.champP = champP
	run.d.Drift = driftReport(ctx, ref, run.champP, run.cfg, run.x.Take(run.holdout))
	if ref == nil {
		run.d.DriftNote = fmt.Sprintf("no drift report: the champion's training data %s could not be read (moved or deleted since it trained?)", run.champ.DatasetPath)
	}
	run.d.Metric = pipeline.PrimaryMetric(run.champP.Target.Task)
	champOut, err := scoreOn(run.champP, run.data, pipeline.ReadOptions(run.cfg), run.holdout, run.d.Metric, &run.d.ChampionScore)
	if u := (*UnseenClassError)(nil); errors.As(err, &u) {
		// No score of the champion's covers a class it has no probability
		// for, so no challenger can be weighed against it.
		return nil, fmt.Errorf("retrain %s: champion: %w; retrain compares models on the champion's classes: for a new class, train a model on %s (tabforge train) and promote it", run.name, err, run.data)
	}
	if err != nil {
		return nil, fmt.Errorf("retrain %s: champion: %w", run.name, err)
	}
	if math.IsNaN(run.d.ChampionScore) {
		// No decision can rest on it: nothing is recorded.
		return nil, fmt.Errorf("retrain %s: the champion's %s on the newest %d rows is undefined (one row, or one class); hold out more rows (--holdout) or retrain on more data", run.name, run.d.Metric, run.d.HoldoutRows)
	}
	return champOut, nil
}

// contest trains a challenger on the rows not held out, scores it on the
// held-out rows beside the champion's outputs champOut, and decides by
// the policy whether it replaces the champion. A champion kept that way
// is refreshed when the policy says so, unless a refresh was checked
// before the challenger was trained or the challenger is the champion.
func (run *retrainRun) contest(ctx context.Context, champOut *outputs) (*Decision, error) {
	res, chalP, err := run.challenge(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: challenger: %w", run.name, err)
	}
	chalOut, err := scoreOn(chalP, run.data, pipeline.ReadOptions(run.cfg), run.holdout, run.d.Metric, &run.d.ChallengerScore)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: challenger: %w", run.name, err)
	}
	p, err := paired(champOut, chalOut, run.d.Metric, uint64(len(run.holdout)))
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w", run.name, err)
	}
	run.d.Paired = &p
	checked := run.d.Refresh != nil // a refresh checked already, and failed
	if run.d, err = decide(ctx, run.env, run.champ, res, run.pol, run.d); err != nil || run.d.Decision != Keep || run.pol.Refresh <= 0 || run.d.ChallengerVersion == run.champ.Version || checked {
		return run.d, err
	}
	// The champion stays, but has not learnt from the newest rows: a
	// refresh may still teach it them.
	if err := run.refresh(ctx); err != nil {
		return nil, fmt.Errorf("retrain %s: %w", run.name, err)
	}
	return run.d, nil
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
