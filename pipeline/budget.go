package pipeline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/internal/cputime"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/split"
)

// Family budget (config family_budget): on large data each untuned
// family's cross-validation and final fit should take about the time
// its share of the data warrants, not whatever the family's cost curve
// makes of it.
const (
	// pilotRows is the size of the sample a family is timed on.
	pilotRows = 2_000
	// budgetMinRows is the fewest training rows the budget applies to:
	// below it every family fits in seconds and the pilot fit would cost
	// more than it saves.
	budgetMinRows = 4 * pilotRows
)

// BudgetInfo says how the family budget treated a candidate that would
// have exceeded it.
type BudgetInfo struct {
	// Seconds is the family's budget.
	Seconds float64 `json:"budget_seconds"`
	// Estimated is the estimated cost of the family's cross-validation
	// and final fit on every training row, from a timed fit on a sample.
	Estimated float64 `json:"estimated_seconds"`
	// Action is "cv_subsampled" (each fold trained on CVRows rows and
	// validated on all its rows; the final fit saw every training row) or
	// "stopped" (the family was not trained).
	Action string `json:"action"`
	CVRows int    `json:"cv_rows,omitempty"`
	Reason string `json:"reason"`
}

// Budget actions.
const (
	budgetSubsampled = "cv_subsampled"
	budgetStopped    = "stopped"
)

// overBudgetError stops a family whose final fit alone would exceed its
// budget.
type overBudgetError struct{ info *BudgetInfo }

func (e *overBudgetError) Error() string { return "stopped by family_budget: " + e.info.Reason }

// familyBudget is the budget of one family on p: cfg.FamilyBudget up to
// a million training cells (rows × columns), growing in proportion
// beyond; 0 when there is none.
func familyBudget(cfg *config.Config, p *prepared) time.Duration {
	if cfg.FamilyBudget <= 0 || len(p.train) < budgetMinRows {
		return 0
	}
	cells := float64(len(p.train)) * float64(max(1, p.x.NumCols()))
	return time.Duration(float64(cfg.FamilyBudget) * max(1, cells/1e6))
}

// withinBudget fits the untuned learner of family name within its budget:
// it times a fit on pilotRows training rows (CPU time where available), scales the time up to the
// family's cross-validation passes and final fit (n log n in the rows,
// which bounds the families' growth), and when that exceeds the budget
// returns a copy of p whose folds train on as many rows as fit in it,
// with what it did. A family whose final fit alone would exceed the
// budget gets an *overBudgetError. Without a budget, or within it, it
// returns p and nil.
func withinBudget(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string,
	l model.Learner, spec features.DesignSpec, workers int) (*prepared, *BudgetInfo, error) {
	budget := familyBudget(cfg, p)
	if budget == 0 || cfg.EnableHyperparameterTuning || len(p.folds) == 0 {
		return p, nil, nil
	}
	perm := rand.New(rand.NewPCG(cfg.Seed, 0xb0d6)).Perm(len(p.train))
	pilot := split.Take(p.train, perm[:pilotRows])
	// The pilot is timed in CPU time where the system reports it: a
	// short fit's wall time on a shared machine is mostly other
	// processes' load, and the decision should not depend on it.
	t0 := time.Now()
	c0, cpu := cputime.Used()
	if _, err := fitScore(ctx, l, spec, p, "", pilot, split.Take(p.train, perm[pilotRows:pilotRows+50]), model.FitOptions{Workers: workers}); err != nil {
		return nil, nil, fmt.Errorf("budget pilot fit: %w", err)
	}
	unit := time.Since(t0)
	if c1, ok := cputime.Used(); cpu && ok {
		unit = c1 - c0
	}
	plan := planBudget(unit.Seconds(), cvPasses(cfg, p, fam), p.folds, len(p.train), budget.Seconds())
	if plan.Action != "" && len(p.metaAlternatives[fam.Name]) > 0 {
		// Over its budget, a family checks the knowledge base's first
		// configuration alone rather than thin every fold further to
		// afford the alternatives: they were measured on 3,000-row
		// samples, where no budget binds.
		p = p.withoutAlternatives(fam.Name)
		o.Logger.Info("zero-shot alternatives skipped to keep the time budget", "model", name)
		plan = planBudget(unit.Seconds(), cvPasses(cfg, p, fam), p.folds, len(p.train), budget.Seconds())
	}
	if plan.Action == "" {
		return p, nil, nil
	}
	if plan.Action == budgetStopped {
		o.Logger.Warn("family stopped by its time budget", "model", name, "reason", plan.Reason)
		return nil, plan, &overBudgetError{info: plan}
	}
	o.Logger.Warn("family cross-validated on a subsample to keep its time budget", "model", name, "reason", plan.Reason)
	return p.thinFolds(plan.CVRows, cfg.Seed), plan, nil
}

// planBudget plans a family's cross-validation (passes passes over folds)
// and final fit on n rows within budget seconds, from the seconds unit
// a fit on pilotRows rows took. Within the budget it returns an empty
// plan; otherwise the most training rows per fold that keep it, or
// "stopped" when the final fit leaves no room for pilotRows-row folds.
func planBudget(unit float64, passes int, folds []split.Fold, n int, budget float64) *BudgetInfo {
	cost := func(rows int) float64 { return unit * scale(rows) }
	cv, largest := 0.0, 0
	for _, f := range folds {
		cv += cost(len(f.Train))
		largest = max(largest, len(f.Train))
	}
	final := cost(n)
	est := float64(passes)*cv + final
	if est <= budget {
		return &BudgetInfo{}
	}
	info := &BudgetInfo{Seconds: round(budget, 1), Estimated: round(est, 1)}
	// The most fold training rows s with passes × folds × cost(s) within
	// what the final fit leaves of the budget.
	left := budget - final
	s := 0
	for lo, hi := pilotRows, largest; lo <= hi; {
		mid := (lo + hi) / 2
		if float64(passes*len(folds))*cost(mid) <= left {
			s, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	if s == 0 {
		info.Action = budgetStopped
		info.Reason = fmt.Sprintf("estimated %.1f s (final fit %.1f s) exceeds the budget of %.1f s even with %d-row CV folds",
			est, final, budget, pilotRows)
		return info
	}
	info.Action, info.CVRows = budgetSubsampled, s
	info.Reason = fmt.Sprintf("estimated %.1f s exceeds the budget of %.1f s: each CV fold trains on %d of its rows", est, budget, s)
	return info
}

// scale is the cost of fitting rows rows relative to pilotRows rows:
// n log n, the growth of sorting-based trees, above the linear growth
// of histogram boosting and the linear families.
func scale(rows int) float64 {
	return float64(rows) / pilotRows * math.Log(float64(rows)) / math.Log(pilotRows)
}

// cvPasses is about how many cross-validations an untuned family runs
// on p: one, another when the knowledge base's configuration is checked
// against the static one and one per alternative configuration checked
// beside it (zeroShotChecks), and under target_transform auto one more per
// alternative target (the log, a time trend), plus the chosen one in full
// on data large enough for the choice to be made on a subsample.
func cvPasses(cfg *config.Config, p *prepared, fam model.Family) int {
	n := 1
	if p.static != nil {
		n += 1 + len(p.metaAlternatives[fam.Name])
	}
	if alts := targetAlternatives(cfg, p, fam); p.task == model.Regression && cfg.TargetTransform == config.TargetAuto && len(alts) > 0 {
		n += len(alts)
		if len(p.train) > decideRows {
			n++
		}
	}
	return n
}

// thinFolds returns a copy of p whose folds train on a seeded random n of
// their training rows (in order; folds with fewer keep all) and validate
// on all their rows, so every training row keeps its out-of-fold
// prediction. Its folds have their own memo keys.
func (p *prepared) thinFolds(n int, seed uint64) *prepared {
	q := *p
	q.foldTag = p.foldTag + fmt.Sprintf("budget%d:", n)
	q.split = p.split + "|" + q.foldTag
	q.folds = make([]split.Fold, len(p.folds))
	rng := rand.New(rand.NewPCG(seed, 0xf01d))
	for i, f := range p.folds {
		q.folds[i] = f
		if len(f.Train) <= n {
			continue
		}
		keep := make([]bool, len(f.Train))
		for _, j := range rng.Perm(len(f.Train))[:n] {
			keep[j] = true
		}
		train := make([]int, 0, n)
		for j, r := range f.Train {
			if keep[j] {
				train = append(train, r)
			}
		}
		q.folds[i].Train = train
	}
	return &q
}
