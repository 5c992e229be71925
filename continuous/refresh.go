package continuous

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// Refresh is the decision of a champion updated by continued boosting
// on the new data instead of being kept as it is (see Policy.Refresh).
const Refresh = "refresh"

// RefreshResult describes a refresh: the check that justified it and
// the version it made.
type RefreshResult struct {
	// Version is the refreshed version (the champion's trees and the new
	// rounds), promoted in the champion's place.
	Version string `json:"version"`
	// Rounds is the number of boosting rounds added; Rows the rows of
	// the new data they were fitted on (all of them).
	Rounds int `json:"rounds"`
	Rows   int `json:"rows"`
	// CheckRows is the half of the newest rows (every other one in time
	// order) that the check scored both models on, after boosting the
	// champion on all other rows; ChampionScore and RefreshedScore are their scores there.
	CheckRows      int     `json:"check_rows"`
	ChampionScore  float64 `json:"champion_score"`
	RefreshedScore float64 `json:"refreshed_score"`
	Paired         *Paired `json:"paired,omitempty"`
	// Error says why the check could not be made (the scores are then
	// unset and the champion kept).
	Error string `json:"error,omitempty"`
	// why says why the check failed ("" when it passed).
	why string
	// x is the new data the check read, which the refresh boosts on.
	x *frame.Frame
}

// refreshSource is what a refresh starts from: the champion's boosted
// trees, and the log-target wrapper around them when it has one.
type refreshSource struct {
	trees *gbdt.Model
	log   *model.LogTargetModel
}

// refreshable returns p's boosted model when p is a single gradient
// boosted model (possibly fitted on a log target); ensembles, routed
// predictors and other families cannot be continued.
func refreshable(p *pipeline.Predictor) (refreshSource, bool) {
	if len(p.Members) > 0 || p.Routes != nil || p.Model == nil {
		return refreshSource{}, false
	}
	m := p.Model
	var s refreshSource
	if lt, ok := m.(*model.LogTargetModel); ok {
		s.log, m = lt, lt.Inner
	}
	g, ok := m.(*gbdt.Model)
	s.trees = g
	return s, ok && g.NumTrees() > 0
}

// rounds is the number of rounds a refresh adds: the share of the
// champion's rounds, at least one.
func (s refreshSource) rounds(share float64) int {
	per := s.trees.NumTrees() / max(1, s.trees.NumGroups())
	return max(1, int(math.Ceil(share*float64(per))))
}

// continued returns a copy of p whose model is s's trees boosted rounds
// more rounds on the rows of x, from their current predictions.
func (s refreshSource) continued(ctx context.Context, p *pipeline.Predictor, x *frame.Frame, rounds int) (*pipeline.Predictor, error) {
	rows, y, err := targetRows(p, x)
	if err != nil {
		return nil, err
	}
	if s.log != nil {
		for i, v := range y {
			if !(v >= 0) {
				return nil, fmt.Errorf("target %v below 0 for a log-target model", v)
			}
			y[i] = math.Log1p(v)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("target column %q has no values", p.Target.Name)
	}
	x = x.Take(rows)
	if len(p.Chain) > 0 {
		if x, err = p.Chain.Transform(x); err != nil {
			return nil, fmt.Errorf("advanced features: %w", err)
		}
	}
	mat, err := p.Design.Matrix(x)
	if err != nil {
		return nil, err
	}
	d := &model.Dataset{X: mat, Y: y, Task: p.Target.Task, FeatureNames: p.Design.FeatureNames(), Categorical: p.Design.Categorical()}
	if d.Task.IsClassification() {
		d.NumClasses = len(p.Target.Classes)
	}
	g, err := gbdt.Continue(ctx, s.trees, d, rounds, model.FitOptions{})
	if err != nil {
		return nil, err
	}
	out := *p
	out.Model = g
	if s.log != nil {
		// The smearing factor and bounds stay the champion's: the new
		// rounds correct its residuals, they do not change the scale.
		out.Model = &model.LogTargetModel{Inner: g, Smear: s.log.Smear, Lo: s.log.Lo, Hi: s.log.Hi}
	}
	return &out, nil
}

// refresh tries to update the champion by continued boosting on the new
// data version, whose newest rows (the held-out ones) it has not learnt
// from, for the price of a few rounds instead of a challenger's
// training. The rounds fit the champion's residuals on all rows, not on
// the newest alone: the older rows, already fitted, keep the new trees
// from chasing one period's noise, while the newest rows, where the
// residuals are, steer them (on the synthetic sales, seed 1, boosting on
// the newest period alone gained less than half as much).
//
// The update must first prove itself as a challenger would: the
// champion boosted on all rows but every other one of the newest (in
// time order) must beat the champion on those by the policy's margins.
// The check's rows interleave with the boosting rows rather than follow
// them, since the halves of one period differ by calendar (a promotion
// in its first days, a month's end): a time split judges the rounds by
// how well the period's first half predicts its second, and refuses
// updates that the next period, with the whole calendar again, rewards
// (on the synthetic sales, seed 2, a time split refreshed 2 of 11
// periods and left continuous 3.1% under always; interleaved, 4 and
// 1.1%). Then the champion boosted on all rows is registered (lineage:
// the champion is its parent) and promoted, and d's decision is Refresh;
// otherwise d is left as it was (keep) with the check's outcome in its
// reason and Refresh. A champion that cannot be continued (not a single
// boosted model) is left alone.
func (run *retrainRun) refresh(ctx context.Context) error {
	src, ok := refreshable(run.champP)
	if !ok || len(run.holdout) < 2 {
		return nil
	}
	start := time.Now()
	defer func() { run.d.TrainSeconds += time.Since(start).Seconds() }()
	r, err := checkRefresh(ctx, src, run.champP, run.cfg, run.data, run.holdout, run.pol, run.d.Metric)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The refresh is an extra the decision can do without: a check
		// that fails keeps the champion and says why.
		run.d.Refresh = &RefreshResult{Error: err.Error(), why: "the check failed: " + err.Error()}
		run.d.Reason += "; not refreshed: " + run.d.Refresh.why
		return nil
	}
	if why := refreshLoses(r, run.pol, run.d.Metric, run.d.ChallengerVersion == ""); why != "" {
		r.why = why
		run.d.Reason += "; not refreshed: " + why
		run.d.Refresh = r
		return nil
	}
	refreshed, err := src.continued(ctx, run.champP, r.x, r.Rounds)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	refreshed.Dataset = run.hash
	if r.Version, err = registerRefresh(ctx, run.env, run.champ, refreshed, run.cfg, run.hash, r.Rounds); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	run.d.Decision, run.d.Stage, run.d.Refresh = Refresh, run.pol.Stage, r
	if run.d.Stage == "" {
		run.d.Stage = registry.Production
	}
	run.d.Reason = fmt.Sprintf("%s; refreshed with %d boosting rounds on all %d rows (boosted on all but every other newest row, its %s on those %d is %.4g against the champion's %.4g)",
		run.d.Reason, r.Rounds, r.Rows, run.d.Metric, r.CheckRows, r.RefreshedScore, r.ChampionScore)
	reason := fmt.Sprintf("retrain: %s; refreshed %s, parent %s", run.d.Reason, r.Version, run.champ.Version)
	if err := promoteDecided(ctx, run.env, run.champ, r.Version, run.d, registry.PromoteOptions{Reason: reason, Force: !run.champ.Deployable}); err != nil {
		return err
	}
	return record(ctx, run.env, run.champ, run.d) // the refresh, or the keep production's move made it
}

// checkRefresh boosts the champion on data but every other newest row
// of holdout and scores it, and the champion, on those rows. The result
// keeps the data read (x) for the refresh itself.
func checkRefresh(ctx context.Context, src refreshSource, champP *pipeline.Predictor, cfg *config.Config, data string, holdout []int, pol Policy, metric string) (*RefreshResult, error) {
	x, rep, err := champP.ReadInput(data, pipeline.ReadOptions(cfg))
	if err == nil {
		err = rep.Err(false)
	}
	if err != nil {
		return nil, fmt.Errorf("on %s: %w", data, err)
	}
	// The check's rows: every other newest row in time order; the
	// boosting rows: all others.
	var newer []int
	for i, j := range timeOrder(x.Take(holdout), cfg.TimeColumn) {
		if i%2 == 1 {
			newer = append(newer, holdout[j])
		}
	}
	slices.Sort(newer)
	r := &RefreshResult{Rounds: src.rounds(pol.Refresh), Rows: x.NumRows(), CheckRows: len(newer), x: x}
	boost := complement(x.NumRows(), newer)
	checked, err := src.continued(ctx, champP, x.Take(boost), r.Rounds)
	if err != nil {
		return nil, inFile(err, boost)
	}
	champOut, err := predictRows(champP, x.Take(newer))
	if err != nil {
		return nil, fmt.Errorf("champion: %w", inFile(err, newer))
	}
	newOut, err := predictRows(checked, x.Take(newer))
	if err != nil {
		return nil, inFile(err, newer)
	}
	if r.ChampionScore, err = champOut.metric(metric, nil); err != nil {
		return nil, err
	}
	if r.RefreshedScore, err = newOut.metric(metric, nil); err != nil {
		return nil, err
	}
	p, err := paired(champOut, newOut, metric, uint64(len(newer)))
	if err != nil {
		return nil, err
	}
	r.Paired = &p
	return r, nil
}

// refreshLoses says why the refresh check does not justify a refresh,
// or "": the boosted champion must beat the champion by the policy's
// margins (and, when MinWins is set, on that share of paired resamples).
func refreshLoses(r *RefreshResult, pol Policy, metric string, untrained bool) string {
	gain := r.RefreshedScore - r.ChampionScore
	if !eval.Higher(metric) {
		gain = -gain
	}
	need := max(pol.MinAbsolute, pol.MinRelative*math.Abs(r.ChampionScore))
	switch {
	case math.IsNaN(gain):
		// One check row, or one class among them: NaN compares false with
		// every margin, so without this case the refresh went in unchecked.
		return fmt.Sprintf("boosted on all but every other newest row, its %s on those %d is %.4g against the champion's %.4g: undefined there (too few rows, or one class), so the check cannot tell",
			metric, r.CheckRows, r.RefreshedScore, r.ChampionScore)
	case r.Paired != nil && r.Paired.ChallengerWins < pol.MinWins:
		return fmt.Sprintf("boosted on all but every other newest row, it wins %.0f%% of the paired resamples of those %d, below the %.0f%% required",
			100*r.Paired.ChallengerWins, r.CheckRows, 100*pol.MinWins)
	case gain <= 0 || gain < need:
		return fmt.Sprintf("boosted on all but every other newest row, its %s on those %d is %.4g against the champion's %.4g (%.4g needed, %.4g gained)",
			metric, r.CheckRows, r.RefreshedScore, r.ChampionScore, need, gain)
	case untrained && pol.OnDemand && pol.RefreshOrTrain && gain > pol.Decay*math.Abs(r.ChampionScore):
		return fmt.Sprintf("boosted on all but every other newest row, its %s on those %d is %.4g against the champion's %.4g: the champion is more than %.0f%% off the newest rows, too far for a refresh",
			metric, r.CheckRows, r.RefreshedScore, r.ChampionScore, 100*pol.Decay)
	}
	return ""
}

// registerRefresh saves p as a version of the champion's name and
// returns it. Its identity is the new data's hash and a configuration
// hash made of the champion's version and the rounds added, so the
// same refresh of the same champion on the same data is one version;
// it keeps the champion's configuration (pointed at data), run, test
// metrics (the decay reference of the next retrain) and deployability.
func registerRefresh(ctx context.Context, env Env, champ *registry.Model, p *pipeline.Predictor, cfg *config.Config, hash string, rounds int) (string, error) {
	sum := sha256.Sum256([]byte("refresh\x00" + champ.Version + "\x00" + strconv.Itoa(rounds)))
	m := *champ
	m.Version, m.Runs, m.Stage, m.Aliases = "", nil, "", nil
	m.DatasetHash, m.ConfigHash, m.CodeVersion = hash, hex.EncodeToString(sum[:8]), env.CodeVersion
	m.DatasetPath = pipeline.AbsPath(cfg.Data)
	version, err := registry.ID(m.Name, m.Identity)
	if err != nil {
		return "", err
	}
	if old, err := env.Registry.Get(ctx, version); err == nil {
		return old.Version, nil
	}
	bytes, err := p.Marshal()
	if err != nil {
		return "", err
	}
	if m.Config, err = json.Marshal(cfg); err != nil {
		return "", err
	}
	reg, _, err := pipeline.RegisterArtifact(ctx, env.Registry, env.Artifacts, version, bytes, func(ref artifact.Ref) (*registry.Model, bool, error) {
		m.Artifact = ref
		return env.Registry.Register(ctx, m)
	})
	if err != nil {
		return "", err
	}
	return reg.Version, nil
}

// refreshedFrom returns the version v was refreshed from, or "" when v
// was not made by a refresh (its first retrain decision in s).
func refreshedFrom(s *registry.Summary, v string) string {
	if rt, ok := s.Retrained[v]; ok && rt.Decision == Refresh {
		return rt.Parent
	}
	return ""
}

// complement returns the indices of [0, n) not in sorted idx.
func complement(n int, idx []int) []int {
	out := make([]int, 0, n-len(idx))
	j := 0
	for i := range n {
		if j < len(idx) && idx[j] == i {
			j++
			continue
		}
		out = append(out, i)
	}
	return out
}
