// Package continuous runs tabforge's continuous-learning loop: a new
// version of a model's data triggers a drift check and a retrain that
// starts from the champion's configuration, and the challenger replaces
// the champion only when it is better on the same, latest period.
package continuous

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
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
	// Runs records the challengers' runs; nil does not record them.
	Runs store.Runs
}

// Policy says when a challenger replaces the champion. The zero value
// promotes to production any challenger that is better at all on the
// newest 20% of the rows.
type Policy struct {
	// Holdout is the share of the newest rows (by the champion's time
	// column, else file order) both models are scored on; the challenger
	// does not train on them. 0 means 0.2.
	Holdout float64
	// MinAbsolute and MinRelative are the margins the challenger must
	// beat the champion by, as MLflow's MetricThreshold: in metric units,
	// and as a share of the champion's score's magnitude.
	MinAbsolute, MinRelative float64
	// MinWins is the least share of paired bootstrap resamples of the
	// held-out rows the challenger must win (see Paired); 0 means none.
	MinWins float64
	// Stage is where a winning challenger goes; "" means production.
	Stage registry.Stage
	// Configure, when set, changes the challenger's configuration after
	// it is copied from the champion's (tests use it for a weak one).
	Configure func(*config.Config)
}

func (p Policy) holdout() float64 {
	if p.Holdout <= 0 || p.Holdout >= 1 {
		return 0.2
	}
	return p.Holdout
}

// Decision is the outcome of Retrain; it encodes to the JSON of
// `tabforge retrain --json`.
type Decision struct {
	Decision          string         `json:"decision"` // "promote" or "keep"
	Reason            string         `json:"reason"`
	ChampionVersion   string         `json:"champion_version"`
	ChallengerVersion string         `json:"challenger_version,omitempty"`
	Metric            string         `json:"metric,omitempty"`
	ChampionScore     float64        `json:"champion_score"`
	ChallengerScore   float64        `json:"challenger_score"`
	HoldoutRows       int            `json:"holdout_rows,omitempty"`
	Paired            *Paired        `json:"paired,omitempty"`
	Stage             registry.Stage `json:"stage,omitempty"`
	Drift             *drift.Report  `json:"drift,omitempty"`
}

// The decisions.
const (
	Promote = "promote"
	Keep    = "keep"
)

// Retrain retrains the model registered as name on the data file data:
// the same data as the champion's (by content hash) is "keep, no new
// data"; otherwise it reports drift against the champion's training
// data, trains a challenger with the champion's configuration on all but
// the newest rows, scores both on those rows, and promotes the challenger
// when it wins by the policy's margins.
func Retrain(ctx context.Context, env Env, name, data string, pol Policy) (*Decision, error) {
	champ, err := env.Registry.Production(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	d := &Decision{Decision: Keep, ChampionVersion: champ.Version}
	cfg, err := championConfig(champ, name, data)
	if err != nil {
		return nil, err
	}
	x, err := frame.ReadFile(data, readOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	hash := x.Hash()
	if hash == champ.DatasetHash {
		d.Reason = "no new data"
		return d, nil
	}
	d.Drift = driftReport(ctx, champ, cfg, x)
	holdout := newestRows(x, cfg.TimeColumn, pol.holdout())
	if cfg.TestRows, err = writeRows(env.Dir, hash, holdout); err != nil {
		return nil, err
	}
	cfg.Out = filepath.Join(env.Dir, "runs")
	if pol.Configure != nil {
		pol.Configure(cfg)
	}
	res, err := pipeline.Train(ctx, cfg, pipeline.Options{Runs: env.Runs,
		Registrar: pipeline.StoreRegistrar{Registry: env.Registry, Artifacts: env.Artifacts, CodeVersion: env.CodeVersion}})
	var gate *pipeline.GateError
	if err != nil && !errors.As(err, &gate) {
		return nil, fmt.Errorf("retrain %s: challenger: %w", name, err)
	}
	if res.Registered == nil {
		return nil, fmt.Errorf("retrain %s: the challenger was not registered", name)
	}
	d.ChallengerVersion, d.Metric, d.HoldoutRows = res.Registered.Model.Version, res.Metric, len(holdout)
	if err := score(ctx, env, data, readOptions(cfg), champ, res, holdout, d); err != nil {
		return nil, fmt.Errorf("retrain %s: %w", name, err)
	}
	return decide(ctx, env, champ, res, pol, d)
}

// decide applies the policy to the scores in d, promotes a winner and
// records the decision in the registry's history.
func decide(ctx context.Context, env Env, champ *registry.Model, res *pipeline.Result, pol Policy, d *Decision) (*Decision, error) {
	gain := d.ChallengerScore - d.ChampionScore
	if !eval.Higher(d.Metric) {
		gain = -gain
	}
	need := max(pol.MinAbsolute, pol.MinRelative*math.Abs(d.ChampionScore))
	switch {
	case d.ChallengerVersion == champ.Version:
		d.Reason = "the challenger is the champion (same data, configuration and code)"
		return d, nil
	case !res.Deployable:
		d.Reason = "the challenger failed its quality gates"
	case d.Paired != nil && d.Paired.ChallengerWins < pol.MinWins:
		d.Reason = fmt.Sprintf("the challenger wins %.0f%% of the paired resamples of the newest %d rows, below the %.0f%% required",
			100*d.Paired.ChallengerWins, d.HoldoutRows, 100*pol.MinWins)
	case !(gain > 0 && gain >= need):
		d.Reason = fmt.Sprintf("the challenger's %s %.4g does not beat the champion's %.4g by the margin (%.4g needed, %.4g gained) on the newest %d rows",
			d.Metric, d.ChallengerScore, d.ChampionScore, need, gain, d.HoldoutRows)
	default:
		d.Decision, d.Stage = Promote, pol.Stage
		if d.Stage == "" {
			d.Stage = registry.Production
		}
		d.Reason = fmt.Sprintf("the challenger's %s %.4g beats the champion's %.4g on the newest %d rows", d.Metric, d.ChallengerScore, d.ChampionScore, d.HoldoutRows)
	}
	e := registry.Event{Name: champ.Name, Action: registry.ActionRetrain, Version: d.ChallengerVersion, Parent: champ.Version, Reason: d.Decision + ": " + d.Reason}
	if _, err := env.Registry.Record(ctx, e); err != nil {
		return nil, err
	}
	if d.Decision == Promote {
		reason := fmt.Sprintf("retrain: %s; challenger %s, parent %s", d.Reason, d.ChallengerVersion, champ.Version)
		if _, err := env.Registry.Promote(ctx, d.ChallengerVersion, d.Stage, registry.PromoteOptions{Reason: reason}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// championConfig is the champion's configuration, pointed at data.
func championConfig(champ *registry.Model, name, data string) (*config.Config, error) {
	cfg := config.Default()
	if len(champ.Config) == 0 {
		return nil, fmt.Errorf("retrain %s: version %s has no recorded configuration", name, champ.Version)
	}
	if err := json.Unmarshal(champ.Config, cfg); err != nil {
		return nil, fmt.Errorf("retrain %s: version %s's configuration: %w", name, champ.Version, err)
	}
	cfg.Data, cfg.Name, cfg.TestRows, cfg.AsOf = data, name, "", ""
	return cfg, nil
}

// readOptions read a data file as the pipeline does for cfg.
func readOptions(cfg *config.Config) frame.ReadOptions {
	comma, _ := config.ParseSep(cfg.Sep)
	o := frame.ReadOptions{Comma: comma}
	for col, k := range cfg.Schema {
		if kind, err := frame.ParseKind(string(k)); err == nil {
			if o.Schema == nil {
				o.Schema = map[string]frame.Kind{}
			}
			o.Schema[col] = kind
		}
	}
	return o
}

// driftReport compares x with the champion's training data, or returns
// nil when that file cannot be read any more.
func driftReport(ctx context.Context, champ *registry.Model, cfg *config.Config, x *frame.Frame) *drift.Report {
	opts := readOptions(cfg)
	opts.Schema, opts.SchemaOptional = x.KindMap(), true
	ref, err := frame.ReadFile(champ.DatasetPath, opts)
	if err != nil {
		return nil
	}
	r, err := drift.Compare(ctx, ref, x, drift.Options{Target: cfg.Target})
	if err != nil {
		return nil
	}
	return r
}

// newestRows returns the indices of the newest share of x's rows by the
// time column (ties and file order kept stable), or the last rows.
func newestRows(x *frame.Frame, timeColumn string, share float64) []int {
	n := x.NumRows()
	k := max(1, int(math.Ceil(share*float64(n))))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if c, ok := x.Lookup(timeColumn); ok && c.Kind != frame.Categorical {
		slices.SortStableFunc(idx, func(a, b int) int {
			va, vb := c.Num[a], c.Num[b]
			switch {
			case va < vb || (math.IsNaN(va) && !math.IsNaN(vb)):
				return -1
			case va > vb || (!math.IsNaN(va) && math.IsNaN(vb)):
				return 1
			}
			return 0
		})
	}
	out := slices.Clone(idx[n-k:])
	slices.Sort(out)
	return out
}

// writeRows writes the held-out rows of the data version hash to a file
// in dir and returns its path.
func writeRows(dir, hash string, rows []int) (string, error) {
	path := filepath.Join(dir, "holdout", hash[:16]+".rows")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("retrain: %w", err)
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strconv.Itoa(r))
		b.WriteByte('\n')
	}
	if err := atomicfile.WriteFile(path, []byte(b.String())); err != nil {
		return "", fmt.Errorf("retrain: %w", err)
	}
	return path, nil
}

// score evaluates the champion and the challenger on the held-out rows,
// whole and in paired bootstrap resamples.
func score(ctx context.Context, env Env, data string, opts frame.ReadOptions, champ *registry.Model, res *pipeline.Result, holdout []int, d *Decision) error {
	champP, err := pipeline.LoadRegistered(ctx, env.Artifacts, champ)
	if err != nil {
		return fmt.Errorf("champion: %w", err)
	}
	chalP, err := pipeline.LoadPredictor(res.ModelPath, pipeline.Families())
	if err != nil {
		return fmt.Errorf("challenger: %w", err)
	}
	var outs [2]*outputs
	for i, p := range []*pipeline.Predictor{champP, chalP} {
		who := [2]string{"champion", "challenger"}[i]
		x, rep, err := p.ReadInput(data, opts)
		if err == nil {
			err = rep.Err(false)
		}
		if err != nil {
			return fmt.Errorf("%s on %s: %w", who, data, err)
		}
		if outs[i], err = predictRows(p, x.Take(holdout)); err != nil {
			return fmt.Errorf("%s on the newest rows: %w", who, err)
		}
	}
	if d.ChampionScore, err = outs[0].metric(d.Metric, nil); err != nil {
		return fmt.Errorf("champion: %w", err)
	}
	if d.ChallengerScore, err = outs[1].metric(d.Metric, nil); err != nil {
		return fmt.Errorf("challenger: %w", err)
	}
	p, err := paired(outs[0], outs[1], d.Metric, uint64(len(holdout)))
	if err != nil {
		return err
	}
	d.Paired = &p
	return nil
}
