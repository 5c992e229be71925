package tune

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/tabforge/tabforge/model"
)

// Param is one dimension of a Space.
type Param struct {
	// Name is the parameter's key in the sampled map (and the trial's
	// parameter name).
	Name string
	// Dist is the distribution to sample. For a Categorical one, Values
	// (if set) gives the value emitted for each choice; otherwise the
	// choice string itself is emitted.
	Dist   Distribution
	Values []any
	// Fixed, when non-nil, is emitted as is and nothing is sampled.
	Fixed any
	// Hidden parameters are sampled (they steer conditions) but not
	// emitted.
	Hidden bool
	// When, if set, makes the parameter conditional: it exists only if
	// the (earlier) categorical parameter When.Param took one of
	// When.Choices.
	When *Condition
}

// Condition gates a conditional Param.
type Condition struct {
	Param   string
	Choices []string
}

// Space is a model family's search space: parameters sampled in order
// into a params map for model.Family.New. The zero Space is empty (the
// family's defaults).
type Space struct {
	Params []Param
}

// Sample draws a params map from t: numbers as float64 or int, categorical
// values as their Values entry or choice string. Parameters whose
// condition does not hold are neither sampled nor emitted.
func (s Space) Sample(t *Trial) map[string]any {
	out, _ := s.build(func(p Param) (any, bool) {
		switch p.Dist.Kind {
		case Float:
			return t.SuggestFloat(p.Name, p.Dist.Low, p.Dist.High, p.Dist.Log), true
		case Int:
			return t.SuggestInt(p.Name, int(p.Dist.Low), int(p.Dist.High), p.Dist.Log), true
		case Categorical:
			return t.SuggestCategorical(p.Name, p.Dist.Choices), true
		}
		t.mu.Lock()
		t.setErr(fmt.Errorf("tune: space parameter %q: unknown kind %q", p.Name, p.Dist.Kind))
		t.mu.Unlock()
		return nil, true // skipped
	})
	return out
}

// Decode returns the params map Sample gave the trial ft, from its stored
// values: a finished trial's learner parameters, hidden parameters (which
// only steer conditions) left out. ok is false if ft lacks a parameter
// Sample would have drawn.
func (s Space) Decode(ft FrozenTrial) (params map[string]any, ok bool) {
	return s.build(func(p Param) (any, bool) { return ft.Param(p.Name) })
}

// build walks the space in order for Sample and Decode: value gives each
// free parameter's raw value (a categorical's choice string; nil skips
// the parameter, false stops the walk), and build applies conditions,
// fixed values, categorical Values and hidden parameters.
func (s Space) build(value func(Param) (any, bool)) (map[string]any, bool) {
	out := map[string]any{}
	chosen := map[string]string{}
	for _, p := range s.Params {
		if p.When != nil {
			c, ok := chosen[p.When.Param]
			if !ok || !slices.Contains(p.When.Choices, c) {
				continue
			}
		}
		if p.Fixed != nil {
			if !p.Hidden {
				out[p.Name] = p.Fixed
			}
			if str, ok := p.Fixed.(string); ok {
				chosen[p.Name] = str
			}
			continue
		}
		v, ok := value(p)
		if !ok {
			return nil, false
		}
		if v == nil {
			continue
		}
		if c, isStr := v.(string); isStr && p.Dist.Kind == Categorical {
			chosen[p.Name] = c
			if i := slices.Index(p.Dist.Choices, c); p.Values != nil && i >= 0 && i < len(p.Values) {
				v = p.Values[i]
			}
		}
		if !p.Hidden {
			out[p.Name] = v
		}
	}
	return out, true
}

// Names returns the names of the space's parameters, in order.
func (s Space) Names() []string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	return names
}

// Override returns a copy of s changed by m, typically a config section:
//
//   - a number, string or bool fixes the parameter (adding it if s lacks
//     it, so any family parameter can be set);
//   - nil removes the parameter (the family default applies);
//   - a map with "low" and/or "high" (and optionally "log") narrows or
//     replaces a numeric range;
//   - a list gives the candidate values of a parameter s has, sampled as a
//     categorical choice; for a parameter s lacks it is a fixed value, as
//     a family parameter may itself be a list (ridge's alphas).
//
// Searches tells the two kinds of entry apart. Keys are applied in sorted
// order; s is not modified.
func (s Space) Override(m map[string]any) (Space, error) {
	out := Space{Params: slices.Clone(s.Params)}
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	for _, name := range keys {
		if err := out.override(name, m[name]); err != nil {
			return Space{}, fmt.Errorf("tune: override %q: %w", name, err)
		}
	}
	return out, nil
}

// override applies one Override entry to every parameter called name (a
// parameter may appear once per branch of a condition).
func (s *Space) override(name string, v any) error {
	var idx []int
	for i, p := range s.Params {
		if p.Name == name {
			idx = append(idx, i)
		}
	}
	switch x := v.(type) {
	case nil:
		s.Params = slices.DeleteFunc(s.Params, func(p Param) bool { return p.Name == name })
	case map[string]any:
		n := 0
		for _, i := range idx {
			p := s.Params[i]
			if p.Fixed != nil || (p.Dist.Kind != Float && p.Dist.Kind != Int) {
				continue
			}
			p, err := withRange(p, x)
			if err != nil {
				return err
			}
			s.Params[i] = p
			n++
		}
		if n == 0 {
			return fmt.Errorf("a range needs a sampled numeric parameter")
		}
	case []any:
		if len(idx) == 0 {
			s.Params = append(s.Params, Param{Name: name, Fixed: slices.Clone(x)})
			return nil
		}
		if len(x) == 0 {
			return fmt.Errorf("empty list of values")
		}
		choices := make([]string, len(x))
		for k, c := range x {
			choices[k] = fmt.Sprint(c)
		}
		p := Param{Name: name, Dist: CategoricalDist(choices...), Values: slices.Clone(x)}
		for _, i := range idx {
			q := p
			q.When, q.Hidden = s.Params[i].When, s.Params[i].Hidden
			s.Params[i] = q
		}
	default:
		_, isNum := number(v)
		_, isStr := v.(string)
		_, isBool := v.(bool)
		if !isNum && !isStr && !isBool {
			return fmt.Errorf("unsupported value %v (%T)", v, v)
		}
		if len(idx) == 0 {
			s.Params = append(s.Params, Param{Name: name, Fixed: v})
		}
		for _, i := range idx {
			s.Params[i].Fixed = v
		}
	}
	return nil
}

// Searches reports whether Override makes the entry name: v a search
// (a range, or candidate values of a parameter s has) rather than a fixed
// value or a removal. A learner cannot take such an entry as a parameter.
func (s Space) Searches(name string, v any) bool {
	switch v.(type) {
	case map[string]any:
		return true
	case []any:
		return slices.Contains(s.Names(), name)
	}
	return false
}

// Grid returns the part of grid (values by parameter name, as GridSampler
// takes) that s samples: the values inside the distribution of a
// parameter s samples and can reach. Parameters s fixes, removes or
// lacks, or none of whose values it can take, are left out: a trial never
// holds such a grid point, so GridSampler would never count it taken,
// repeat points and never run out.
//
// A parameter with candidate values (a list in model_params) keeps the
// grid's values among its candidates, or, when the list left none of
// them, takes its own candidates as its grid column: a grid search then
// tries each of them instead of drawing one at random.
func (s Space) Grid(grid map[string][]any) map[string][]any {
	out := map[string][]any{}
	for name, values := range grid {
		var kept []any
		for _, p := range s.Params {
			if p.Name != name || p.Fixed != nil || !s.reachable(p) {
				continue
			}
			for _, v := range values {
				if p.Values != nil {
					if i := slices.IndexFunc(p.Values, func(c any) bool { return fmt.Sprint(c) == fmt.Sprint(v) }); i >= 0 && i < len(p.Dist.Choices) {
						kept = append(kept, p.Dist.Choices[i])
					}
				} else if _, ok := p.Dist.Internal(v); ok {
					kept = append(kept, v)
				}
			}
			if len(kept) == 0 && p.Values != nil {
				for _, c := range p.Dist.Choices {
					kept = append(kept, c)
				}
			}
			break
		}
		if len(kept) > 0 {
			out[name] = kept
		}
	}
	return out
}

// reachable reports whether p's condition can hold: false when the
// parameter it depends on is fixed to another choice.
func (s Space) reachable(p Param) bool {
	if p.When == nil {
		return true
	}
	for _, q := range s.Params {
		if q.Name == p.When.Param && q.Fixed == nil {
			return true
		}
		if c, ok := q.Fixed.(string); ok && q.Name == p.When.Param && slices.Contains(p.When.Choices, c) {
			return true
		}
	}
	return false
}

// withRange returns p with the bounds of a range override ("low",
// "high", "log") applied to its numeric distribution, checked: an Int
// parameter's bounds must be integers, and the result must be a valid
// distribution.
func withRange(p Param, bounds map[string]any) (Param, error) {
	for k, bound := range bounds {
		switch k {
		case "low", "high":
			f, ok := number(bound)
			if !ok {
				return Param{}, fmt.Errorf("%s = %v is not a number", k, bound)
			}
			if p.Dist.Kind == Int && f != math.Trunc(f) {
				return Param{}, fmt.Errorf("%s = %v is not an integer", k, bound)
			}
			if k == "low" {
				p.Dist.Low = f
			} else {
				p.Dist.High = f
			}
		case "log":
			b, ok := bound.(bool)
			if !ok {
				return Param{}, fmt.Errorf("log = %v is not a bool", bound)
			}
			p.Dist.Log = b
		default:
			return Param{}, fmt.Errorf("unknown range key %q (allowed: low, high, log)", k)
		}
	}
	if err := p.Dist.Validate(); err != nil {
		return Param{}, err
	}
	return p, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// SpaceFor returns tabforge's default search space for a model family and
// task; an unknown family gets an empty Space. Parameter names are the
// families' JSON keys.
//
//   - gbdt: either a fixed number of rounds (n_estimators 100–800) or early
//     stopping (up to 2000 rounds, 50 rounds of patience on a 10%
//     holdout), chosen by the hidden categorical "stopping"; learning_rate
//     0.01–0.3 (log), max_depth 2–10, min_child_weight 1–20 (log),
//     subsample 0.5–1, colsample_bytree 0.4–1, lambda and alpha 1e-3–10
//     (log).
//   - forest, extra_trees: n_estimators 100–500, max_depth unlimited or
//     6–24, min_samples_leaf 1–20 (log), max_features sqrt, log2, 0.33,
//     0.5 or all; criterion gini or entropy for classification.
//   - tree: max_depth 2–20, min_samples_leaf 1–50 (log), max_features all,
//     sqrt or 0.5; criterion for classification.
//   - ridge: alpha 1e-4–1e3 (log). logistic: c 1e-3–1e3 (log).
func SpaceFor(family string, task model.Task) Space {
	criterion := func(ps []Param) []Param {
		if task.IsClassification() {
			ps = append(ps, Param{Name: "criterion", Dist: CategoricalDist("gini", "entropy")})
		}
		return ps
	}
	switch family {
	case "gbdt":
		early := &Condition{Param: "stopping", Choices: []string{"early"}}
		rounds := &Condition{Param: "stopping", Choices: []string{"rounds"}}
		return Space{Params: []Param{
			{Name: "stopping", Dist: CategoricalDist("rounds", "early"), Hidden: true},
			{Name: "n_estimators", Dist: IntDist(100, 800, false), When: rounds},
			{Name: "n_estimators", Fixed: 2000, When: early},
			{Name: "early_stopping_rounds", Fixed: 50, When: early},
			{Name: "validation_fraction", Fixed: 0.1, When: early},
			{Name: "learning_rate", Dist: FloatDist(0.01, 0.3, true)},
			{Name: "max_depth", Dist: IntDist(2, 10, false)},
			{Name: "min_child_weight", Dist: FloatDist(1, 20, true)},
			{Name: "subsample", Dist: FloatDist(0.5, 1, false)},
			{Name: "colsample_bytree", Dist: FloatDist(0.4, 1, false)},
			{Name: "lambda", Dist: FloatDist(1e-3, 10, true)},
			{Name: "alpha", Dist: FloatDist(1e-3, 10, true)},
		}}
	case "forest", "extra_trees":
		// The number of trees is not searched: more trees only lower a
		// forest's variance, so a search would learn "more is better" at
		// the price of the slowest trials (Probst and Boulesteix, "To tune
		// or not to tune the number of trees in random forest", JMLR 18,
		// 2018). The family default, or model_params, sets it.
		limited := &Condition{Param: "depth", Choices: []string{"limited"}}
		return Space{Params: criterion([]Param{
			{Name: "depth", Dist: CategoricalDist("unlimited", "limited"), Hidden: true},
			{Name: "max_depth", Dist: IntDist(6, 24, false), When: limited},
			{Name: "min_samples_leaf", Dist: IntDist(1, 20, true)},
			{Name: "max_features", Dist: CategoricalDist("sqrt", "log2", "0.33", "0.5", "all"),
				Values: []any{"sqrt", "log2", 0.33, 0.5, "all"}},
		})}
	case "tree":
		return Space{Params: criterion([]Param{
			{Name: "max_depth", Dist: IntDist(2, 20, false)},
			{Name: "min_samples_leaf", Dist: IntDist(1, 50, true)},
			{Name: "max_features", Dist: CategoricalDist("all", "sqrt", "0.5"), Values: []any{"all", "sqrt", 0.5}},
		})}
	case "ridge":
		return Space{Params: []Param{{Name: "alpha", Dist: FloatDist(1e-4, 1e3, true)}}}
	case "logistic":
		return Space{Params: []Param{{Name: "c", Dist: FloatDist(1e-3, 1e3, true)}}}
	}
	return Space{}
}
