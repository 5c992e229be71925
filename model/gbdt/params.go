package gbdt

import (
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
)

// Objective names a training loss. The zero value picks one from the task:
// SquaredError for regression, BinaryLogistic for binary and MultiSoftmax
// for multiclass classification.
type Objective string

// Objectives.
const (
	// SquaredError is ½(y−ŷ)²; XGBoost's reg:squarederror.
	SquaredError Objective = "squared_error"
	// AbsoluteError is |y−ŷ|; leaves are refreshed to the weighted median
	// of their residuals, like XGBoost's reg:absoluteerror.
	AbsoluteError Objective = "absolute_error"
	// Huber is the pseudo-Huber loss δ²(√(1+((y−ŷ)/δ)²)−1) with δ =
	// Params.HuberSlope; XGBoost's reg:pseudohubererror.
	Huber Objective = "huber"
	// BinaryLogistic is the log loss of a sigmoid on the margin; the model
	// predicts the probability of class 1. XGBoost's binary:logistic.
	BinaryLogistic Objective = "binary_logistic"
	// MultiSoftmax is the multiclass log loss of a softmax over one margin
	// per class (one tree per class per round); the model predicts class
	// probabilities. XGBoost's multi:softprob.
	MultiSoftmax Objective = "multi_softmax"
)

// UnmarshalText accepts the objective names above and rejects others, so
// a bad name fails when parameters are loaded, not deep inside training.
func (o *Objective) UnmarshalText(b []byte) error {
	switch v := Objective(b); v {
	case "", SquaredError, AbsoluteError, Huber, BinaryLogistic, MultiSoftmax:
		*o = v
		return nil
	}
	return fmt.Errorf("gbdt: unknown objective %q (allowed: squared_error, absolute_error, huber, binary_logistic, multi_softmax)", b)
}

// GrowPolicy is the order in which a tree's nodes are split. The zero
// value means Depthwise.
type GrowPolicy string

// Grow policies.
const (
	// Depthwise splits every splittable node of a level before the next
	// level, up to MaxDepth (XGBoost's default).
	Depthwise GrowPolicy = "depthwise"
	// Lossguide always splits the leaf with the largest gain next, up to
	// MaxLeaves (LightGBM's leaf-wise growth, XGBoost's lossguide).
	Lossguide GrowPolicy = "lossguide"
)

// UnmarshalText accepts "depthwise", "lossguide" or "".
func (g *GrowPolicy) UnmarshalText(b []byte) error {
	switch v := GrowPolicy(b); v {
	case "", Depthwise, Lossguide:
		*g = v
		return nil
	}
	return fmt.Errorf("gbdt: unknown grow_policy %q (allowed: depthwise, lossguide)", b)
}

// Params are the hyperparameters of gradient boosting. The zero value is
// usable: every field says what zero means, and the defaults are XGBoost
// 1.7's except where noted. Params is plain data (a Learner): copying it
// clones it, and Fit never modifies it.
//
// Columns flagged in model.Dataset.Categorical are split like numeric
// columns, on their ordinal codes (each code its own bin when there are
// fewer codes than bins), unless CategoricalSplits is set.
type Params struct {
	// NEstimators is the number of boosting rounds; 0 means 100.
	NEstimators int `json:"n_estimators,omitempty"`
	// LearningRate (eta) shrinks every leaf value; 0 means 0.3.
	LearningRate float64 `json:"learning_rate,omitempty"`
	// MaxDepth limits tree depth; 0 means 6; a negative value means no
	// limit (allowed only with Lossguide and MaxLeaves > 0).
	MaxDepth int `json:"max_depth,omitempty"`
	// MaxLeaves limits leaves per tree; 0 means no limit for Depthwise and
	// 31 for Lossguide (LightGBM's default).
	MaxLeaves int `json:"max_leaves,omitempty"`
	// GrowPolicy is Depthwise (default) or Lossguide.
	GrowPolicy GrowPolicy `json:"grow_policy,omitempty"`
	// MaxBin is the number of histogram bins per feature, counting the bin
	// that holds missing values; 0 means 256, the maximum; at least 2.
	MaxBin int `json:"max_bin,omitempty"`
	// MinChildWeight is the smallest hessian sum a child may have; 0 means
	// 1; a negative value means 0 (no limit).
	MinChildWeight float64 `json:"min_child_weight,omitempty"`
	// Lambda is the L2 penalty on leaf values; 0 means 1; a negative value
	// means 0 (no penalty).
	Lambda float64 `json:"lambda,omitempty"`
	// Alpha is the L1 penalty on leaf values (soft-thresholding of gradient
	// sums); 0 means none.
	Alpha float64 `json:"alpha,omitempty"`
	// Gamma is the minimum gain (loss reduction) of a split; 0 means none.
	Gamma float64 `json:"gamma,omitempty"`
	// Subsample is the fraction of rows drawn (without replacement,
	// Bernoulli per row) for each round; 0 means 1 (all rows).
	Subsample float64 `json:"subsample,omitempty"`
	// ColsampleBytree is the fraction of features drawn for each tree;
	// 0 means 1 (all features).
	ColsampleBytree float64 `json:"colsample_bytree,omitempty"`
	// Objective is the loss; "" picks it from the task.
	Objective Objective `json:"objective,omitempty"`
	// HuberSlope is δ of the Huber objective; 0 means 1 (XGBoost's
	// huber_slope). Scale it to the target: δ is in target units.
	HuberSlope float64 `json:"huber_slope,omitempty"`
	// BaseScore is the initial prediction, in target units (a probability
	// for BinaryLogistic). 0 means estimated from the training target:
	// the weighted mean for squared_error, the weighted median for
	// absolute_error and huber, the positive rate for binary_logistic
	// (XGBoost 2's behaviour; XGBoost 1.7 used 0.5), and 0 margins for
	// multi_softmax.
	BaseScore float64 `json:"base_score,omitempty"`
	// EarlyStoppingRounds stops boosting when the validation metric has not
	// improved for this many rounds and keeps the best round's trees; 0
	// means no early stopping. It needs a validation set: Train's valid
	// argument, or ValidationFraction for Fit.
	EarlyStoppingRounds int `json:"early_stopping_rounds,omitempty"`
	// ValidationFraction is the share of training rows Fit holds out as
	// the validation set for early stopping (the latest rows when the
	// dataset has times, cut at the nearest time boundary so the share
	// can differ; else a seeded random draw); it is used only when
	// EarlyStoppingRounds > 0 and must be < 0.5. 0 means no internal split.
	ValidationFraction float64 `json:"validation_fraction,omitempty"`
	// Refit, with early stopping in Fit, trains again on all the rows for
	// the number of rounds early stopping found, scaled up by the share
	// of rows the first fit held out (more data supports more rounds).
	// The held-out rows then also shape the model. false keeps the
	// early-stopped model.
	Refit bool `json:"refit,omitempty"`
	// PooledStopRates are rounds per training row that early stopping found
	// on other fits of the same data (the cross-validation folds, see
	// model.PoolStopRates); Refit trains for their mean together with the
	// rate it finds itself. They follow from the data and the other
	// parameters, so they stay out of the encoding (and cache keys).
	PooledStopRates []float64 `json:"-"`
	// CategoricalSplits splits the columns flagged in
	// model.Dataset.Categorical by category sets instead of thresholds:
	// categories are ordered by G/(H+10) in each node and the best prefix
	// of at most 32 goes left (LightGBM's partition-based splits with its
	// default cat_smooth 10, cat_l2 10, max_cat_threshold 32 and
	// min_data_per_group 100, as a hessian sum). It
	// applies to flagged columns whose values are integer codes in
	// [0, 255) with fewer distinct codes than max_bin; others stay
	// ordinal. At prediction a code not in a node's set (an unseen one,
	// say −1) goes right; NaN takes the learned default direction. Models
	// with such splits cannot be exported to XGBoost JSON. false (the
	// default) keeps XGBoost's numeric splits.
	CategoricalSplits bool `json:"categorical_splits,omitempty"`
	// Seed seeds row and column sampling and the binning sample.
	Seed uint64 `json:"seed,omitempty"`
}

var _ model.Learner = Params{}

// config holds Params with every default resolved and checked.
type config struct {
	rounds         int
	eta            float64
	maxDepth       int // 0 = no limit
	maxLeaves      int // 0 = no limit
	policy         GrowPolicy
	maxBin         int
	minChildWeight float64
	lambda         float64
	alpha          float64
	gamma          float64
	subsample      float64
	colsample      float64
	objective      Objective
	huberSlope     float64
	baseScore      float64 // 0 = auto
	earlyStop      int
	catSplits      bool
	seed           uint64
	// minGain is the least gain of a split in the fit under way (see
	// minGain); boost sets it from the training targets.
	minGain float64
}

// resolve fills in defaults for task and validates the result. On an
// error the config, defaults filled in, is returned too.
func (p Params) resolve(task model.Task) (config, error) {
	c := p.withDefaults(task)
	return c, c.check(p, task)
}

// withDefaults copies p into a config and fills in the default of every
// field left zero; a negative max_depth means no limit, a negative
// min_child_weight or lambda means 0. The objective's default depends on
// task.
func (p Params) withDefaults(task model.Task) config {
	c := config{
		rounds: p.NEstimators, eta: p.LearningRate, maxDepth: p.MaxDepth, maxLeaves: p.MaxLeaves,
		policy: p.GrowPolicy, maxBin: p.MaxBin, minChildWeight: p.MinChildWeight, lambda: p.Lambda,
		alpha: p.Alpha, gamma: p.Gamma, subsample: p.Subsample, colsample: p.ColsampleBytree,
		objective: p.Objective, huberSlope: p.HuberSlope, baseScore: p.BaseScore,
		earlyStop: p.EarlyStoppingRounds, catSplits: p.CategoricalSplits, seed: p.Seed,
	}
	def := func(v *float64, d float64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	if c.rounds == 0 {
		c.rounds = 100
	}
	if c.eta == 0 {
		c.eta = 0.3
	}
	if c.policy == "" {
		c.policy = Depthwise
	}
	switch {
	case c.maxDepth == 0:
		c.maxDepth = 6
	case c.maxDepth < 0:
		c.maxDepth = 0
	}
	if c.maxLeaves == 0 && c.policy == Lossguide {
		c.maxLeaves = 31
	}
	if c.maxBin == 0 {
		c.maxBin = 256
	}
	def(&c.minChildWeight, 1)
	def(&c.lambda, 1)
	if c.subsample == 0 {
		c.subsample = 1
	}
	if c.colsample == 0 {
		c.colsample = 1
	}
	if c.huberSlope == 0 {
		c.huberSlope = 1
	}
	if c.objective == "" {
		switch task {
		case model.Regression:
			c.objective = SquaredError
		case model.Binary:
			c.objective = BinaryLogistic
		case model.Multiclass:
			c.objective = MultiSoftmax
		}
	}
	return c
}

// check validates a config withDefaults made from p for task. Errors
// name the parameter and quote p's value, as the user wrote it, not the
// default it was replaced by.
func (c config) check(p Params, task model.Task) error {
	bad := func(name string, v any, want string) error {
		return fmt.Errorf("gbdt: %s = %v, want %s", name, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.rounds < 0:
		return bad("n_estimators", p.NEstimators, ">= 0")
	case !(c.eta > 0) || !finite(c.eta):
		return bad("learning_rate", p.LearningRate, "a finite value > 0")
	case c.maxLeaves < 0 || c.maxLeaves == 1:
		return bad("max_leaves", p.MaxLeaves, "0 or >= 2")
	case c.maxDepth == 0 && c.maxLeaves == 0:
		return bad("max_depth", p.MaxDepth, "a limit when max_leaves is 0")
	case c.maxDepth > 30:
		return bad("max_depth", p.MaxDepth, "<= 30")
	case c.maxBin < 2 || c.maxBin > 256:
		return bad("max_bin", p.MaxBin, "in [2, 256]")
	case !finite(c.minChildWeight):
		return bad("min_child_weight", p.MinChildWeight, "finite")
	case !finite(c.lambda):
		return bad("lambda", p.Lambda, "finite")
	case !(c.alpha >= 0) || !finite(c.alpha):
		return bad("alpha", p.Alpha, "a finite value >= 0")
	case !(c.gamma >= 0) || !finite(c.gamma):
		return bad("gamma", p.Gamma, "a finite value >= 0")
	case !(c.subsample > 0 && c.subsample <= 1):
		return bad("subsample", p.Subsample, "in (0, 1]")
	case !(c.colsample > 0 && c.colsample <= 1):
		return bad("colsample_bytree", p.ColsampleBytree, "in (0, 1]")
	case !(c.huberSlope > 0) || !finite(c.huberSlope):
		return bad("huber_slope", p.HuberSlope, "a finite value > 0")
	case !finite(c.baseScore):
		return bad("base_score", p.BaseScore, "finite")
	case c.earlyStop < 0:
		return bad("early_stopping_rounds", p.EarlyStoppingRounds, ">= 0")
	case p.ValidationFraction < 0 || p.ValidationFraction >= 0.5 || math.IsNaN(p.ValidationFraction):
		return bad("validation_fraction", p.ValidationFraction, "in [0, 0.5)")
	}
	switch c.policy {
	case Depthwise, Lossguide:
	default:
		return bad("grow_policy", p.GrowPolicy, "depthwise or lossguide")
	}
	want := map[model.Task][]Objective{
		model.Regression: {SquaredError, AbsoluteError, Huber},
		model.Binary:     {BinaryLogistic},
		model.Multiclass: {MultiSoftmax},
	}[task]
	ok := false
	for _, o := range want {
		ok = ok || o == c.objective
	}
	if !ok {
		return fmt.Errorf("gbdt: objective %q does not fit task %q (allowed: %v)", c.objective, task, want)
	}
	if c.objective == BinaryLogistic && c.baseScore != 0 && !(c.baseScore > 0 && c.baseScore < 1) {
		return bad("base_score", p.BaseScore, "a probability in (0, 1) for binary_logistic")
	}
	return nil
}
