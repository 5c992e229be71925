package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/tabforge/tabforge/model"
)

// Criterion is the impurity measure a split minimises.
type Criterion string

// Criteria. The empty Criterion means the task's default: SquaredError for
// regression, Gini for classification.
const (
	SquaredError Criterion = "squared_error"
	Gini         Criterion = "gini"
	Entropy      Criterion = "entropy"
)

// UnmarshalText accepts the criterion names above ("log_loss" is read as
// Entropy, as in scikit-learn) and rejects anything else.
func (c *Criterion) UnmarshalText(b []byte) error {
	switch s := Criterion(b); s {
	case "", SquaredError, Gini, Entropy:
		*c = s
	case "log_loss":
		*c = Entropy
	default:
		return fmt.Errorf("tree: unknown criterion %q (allowed: squared_error, gini, entropy)", string(b))
	}
	return nil
}

// resolve returns c or the task's default and checks that it fits the task.
func (c Criterion) resolve(task model.Task) (Criterion, error) {
	if c == "" {
		if task.IsClassification() {
			return Gini, nil
		}
		return SquaredError, nil
	}
	if task.IsClassification() != (c != SquaredError) {
		return "", fmt.Errorf("tree: criterion %q does not apply to a %s task", c, task)
	}
	return c, nil
}

// Splitter chooses how a node picks thresholds.
type Splitter string

// Splitters. The empty Splitter means Best.
const (
	// Best scans every threshold between distinct values of each candidate
	// feature (CART).
	Best Splitter = "best"
	// Random draws one threshold uniformly between the node's minimum and
	// maximum of each candidate feature (Extra-Trees).
	Random Splitter = "random"
)

// UnmarshalText accepts "best" and "random".
func (s *Splitter) UnmarshalText(b []byte) error {
	switch v := Splitter(b); v {
	case "", Best, Random:
		*s = v
		return nil
	}
	return fmt.Errorf("tree: unknown splitter %q (allowed: best, random)", string(b))
}

// FeatureRule is the kind of a MaxFeatures setting.
type FeatureRule uint8

// Feature rules.
const (
	// DefaultFeatures leaves the choice to the learner: all features for a
	// single tree; see package forest for forests.
	DefaultFeatures  FeatureRule = iota
	AllFeatures                  // every feature
	SqrtFeatures                 // max(1, floor(sqrt(p)))
	Log2Features                 // max(1, floor(log2(p)))
	FractionFeatures             // max(1, floor(Value·p)), 0 < Value <= 1
	CountFeatures                // Value features, an integer in 1..p
)

// MaxFeatures is how many features each split considers, drawn at random
// without replacement per node. Its zero value is DefaultFeatures.
//
// In JSON it is null (default), "all", "sqrt", "log2", a number with a
// decimal point or exponent (a fraction, so 1.0 means all features), or an
// integer (a count, so 1 means one feature), as in scikit-learn.
type MaxFeatures struct {
	Rule  FeatureRule
	Value float64 // the fraction or the count; ignored by the other rules
}

// MarshalJSON encodes m in the form UnmarshalJSON reads.
func (m MaxFeatures) MarshalJSON() ([]byte, error) {
	switch m.Rule {
	case DefaultFeatures:
		return []byte("null"), nil
	case AllFeatures:
		return []byte(`"all"`), nil
	case SqrtFeatures:
		return []byte(`"sqrt"`), nil
	case Log2Features:
		return []byte(`"log2"`), nil
	case FractionFeatures:
		s := strconv.FormatFloat(m.Value, 'g', -1, 64)
		if !bytes.ContainsAny([]byte(s), ".eE") {
			s += ".0"
		}
		return []byte(s), nil
	case CountFeatures:
		return []byte(strconv.FormatInt(int64(m.Value), 10)), nil
	}
	return nil, fmt.Errorf("tree: invalid max_features rule %d", m.Rule)
}

// UnmarshalJSON decodes null, a rule name, a fraction or a count.
func (m *MaxFeatures) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*m = MaxFeatures{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "all":
			*m = MaxFeatures{Rule: AllFeatures}
		case "sqrt":
			*m = MaxFeatures{Rule: SqrtFeatures}
		case "log2":
			*m = MaxFeatures{Rule: Log2Features}
		default:
			return fmt.Errorf("tree: unknown max_features %q (allowed: all, sqrt, log2, a fraction or a count)", s)
		}
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("tree: max_features %s: not a number or rule name", b)
	}
	if bytes.ContainsAny(b, ".eE") {
		*m = MaxFeatures{Rule: FractionFeatures, Value: v}
	} else {
		*m = MaxFeatures{Rule: CountFeatures, Value: v}
	}
	return m.validate()
}

func (m MaxFeatures) validate() error {
	switch m.Rule {
	case DefaultFeatures, AllFeatures, SqrtFeatures, Log2Features:
		return nil
	case FractionFeatures:
		if !(m.Value > 0 && m.Value <= 1) {
			return fmt.Errorf("tree: max_features fraction %v outside (0, 1]", m.Value)
		}
		return nil
	case CountFeatures:
		if m.Value < 1 || m.Value != math.Trunc(m.Value) || m.Value > math.MaxInt32 {
			return fmt.Errorf("tree: max_features count %v is not a positive integer", m.Value)
		}
		return nil
	}
	return fmt.Errorf("tree: invalid max_features rule %d", m.Rule)
}

// Resolve returns the number of features a split considers among p, with
// DefaultFeatures meaning all. A count above p is an error.
func (m MaxFeatures) Resolve(p int) (int, error) {
	if err := m.validate(); err != nil {
		return 0, err
	}
	var k int
	switch m.Rule {
	case DefaultFeatures, AllFeatures:
		k = p
	case SqrtFeatures:
		k = int(math.Sqrt(float64(p)))
	case Log2Features:
		k = int(math.Log2(float64(p)))
	case FractionFeatures:
		k = int(m.Value * float64(p))
	case CountFeatures:
		k = int(m.Value)
		if k > p {
			return 0, fmt.Errorf("tree: max_features %d exceeds the %d features", k, p)
		}
	}
	return max(1, min(k, p)), nil
}

// Params are the hyperparameters of a CART tree. The zero value is a fully
// grown scikit-learn-style tree. Params is a model.Learner.
type Params struct {
	// Criterion is the impurity measure; empty means squared_error for
	// regression and gini for classification.
	Criterion Criterion `json:"criterion,omitempty"`
	// Splitter is best (default) or random (Extra-Trees thresholds).
	Splitter Splitter `json:"splitter,omitempty"`
	// MaxDepth limits the depth (the root has depth 0); 0 means unlimited.
	MaxDepth int `json:"max_depth,omitempty"`
	// MinSamplesSplit is the fewest training rows a node needs to be
	// split; 0 means 2.
	MinSamplesSplit int `json:"min_samples_split,omitempty"`
	// MinSamplesLeaf is the fewest training rows each child must keep; 0
	// means 1.
	MinSamplesLeaf int `json:"min_samples_leaf,omitempty"`
	// MaxFeatures is how many randomly drawn features each node considers;
	// the zero value means all. If none of them is splittable more are
	// drawn, as in scikit-learn.
	MaxFeatures MaxFeatures `json:"max_features,omitzero"`
	// MinImpurityDecrease is the least weighted impurity decrease,
	// N_t/N·(impurity − N_R/N_t·right − N_L/N_t·left), a split must
	// achieve; 0 means any.
	MinImpurityDecrease float64 `json:"min_impurity_decrease,omitempty"`
	// Seed seeds the feature permutation (ties between equally good
	// splits) and random thresholds.
	Seed uint64 `json:"seed"`
}

var _ model.Learner = Params{}

// Validate checks p for task without looking at data.
func (p Params) Validate(task model.Task) error {
	if _, err := model.ParseTask(string(task)); err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	if _, err := p.Criterion.resolve(task); err != nil {
		return err
	}
	var s Splitter
	if err := s.UnmarshalText([]byte(p.Splitter)); err != nil {
		return err
	}
	switch {
	case p.MaxDepth < 0:
		return fmt.Errorf("tree: max_depth %d is negative", p.MaxDepth)
	case p.MinSamplesSplit < 0 || p.MinSamplesSplit == 1:
		return fmt.Errorf("tree: min_samples_split %d must be at least 2 (or 0 for the default)", p.MinSamplesSplit)
	case p.MinSamplesLeaf < 0:
		return fmt.Errorf("tree: min_samples_leaf %d is negative", p.MinSamplesLeaf)
	case !(p.MinImpurityDecrease >= 0) || math.IsInf(p.MinImpurityDecrease, 0):
		return fmt.Errorf("tree: min_impurity_decrease %v must be finite and >= 0", p.MinImpurityDecrease)
	}
	return p.MaxFeatures.validate()
}

// config is Params resolved against a Prepared data set.
type config struct {
	criterion   Criterion
	random      bool
	maxDepth    int // 0: unlimited
	minSplit    int
	minLeaf     int
	maxFeatures int
	minDecrease float64
}

func (p Params) resolve(task model.Task, cols int) (config, error) {
	if err := p.Validate(task); err != nil {
		return config{}, err
	}
	crit, _ := p.Criterion.resolve(task)
	k, err := p.MaxFeatures.Resolve(cols)
	if err != nil {
		return config{}, err
	}
	c := config{
		criterion:   crit,
		random:      p.Splitter == Random,
		maxDepth:    p.MaxDepth,
		minSplit:    max(2, p.MinSamplesSplit),
		minLeaf:     max(1, p.MinSamplesLeaf),
		maxFeatures: k,
		minDecrease: p.MinImpurityDecrease,
	}
	return c, nil
}
