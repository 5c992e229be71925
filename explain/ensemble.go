package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
	"github.com/tabforge/tabforge/progress"
)

// Exact SHAP values of ensembles. When an ensemble's output is an affine
// function of its members' outputs, f_c = b_c + Σ_i Σ_k A_c,ik·f_ik (a
// weighted average, or a linear meta-learner), its value function is the
// same affine combination of its members' value functions, and Shapley
// values are linear in the value function: the ensemble's SHAP values are
// that combination of its members' and its base value b_c + Σ A·base_i.
// Local accuracy carries over exactly, as it does from a forest's trees to
// the forest. It needs every member's exact explainer to decompose the
// very output the ensemble combines (see ExactPrediction): members
// explained in margin space (gbdt and logistic classifiers, models fitted
// on log(1+y)) are not, because the ensemble averages probabilities or
// values on y's scale, which are not linear in the margins.

// ExactPrediction returns nil when an exact explainer (TreeSHAP or linear
// SHAP) decomposes m's prediction itself, the output an ensemble combines:
// package tree and forest models (values or class probabilities),
// regression gbdt and ols/ridge models, and those with a trend target.
// Otherwise it returns an error wrapping ErrUnsupported that says why.
func ExactPrediction(m model.Model) error {
	switch mm := m.(type) {
	case nil:
		return fmt.Errorf("%w: no model", ErrUnsupported)
	case linearPart: // a trend target adds an exact linear term to the prediction
		return ExactPrediction(mm.Unwrap())
	case unwrapper:
		return fmt.Errorf("%w: %s is fitted on log(1+y) and explained on that scale, which the prediction is not linear in", ErrUnsupported, m.Family())
	case *tree.Model, *forest.Model:
		return nil
	case *gbdt.Model:
		if mm.Task() != model.Regression {
			return fmt.Errorf("%w: gbdt classifiers are explained in margin space (log-odds), which their probabilities are not linear in", ErrUnsupported)
		}
		return nil // the regression objectives' link is the identity
	case *linear.Model:
		if mm.Task().IsClassification() {
			return fmt.Errorf("%w: %s is explained in margin space (log-odds), which its probabilities are not linear in", ErrUnsupported, m.Family())
		}
		return nil
	}
	return fmt.Errorf("%w: no exact explainer for %s models", ErrUnsupported, m.Family())
}

// Why is err's reason without ErrUnsupported's wording, for a note.
func Why(err error) string {
	return strings.Replace(err.Error(), ErrUnsupported.Error()+": ", "", 1)
}

// exactSHAP explains m with TreeSHAP or linear SHAP; other models give
// ErrUnsupported.
func exactSHAP(ctx context.Context, m model.Model, x *model.Matrix, workers int, names []string) (*Values, error) {
	if e, err := NewTreeEnsemble(m); err == nil {
		return e.TreeSHAP(ctx, x, workers, names)
	}
	return LinearSHAP(m, x, names)
}

// ExactMember explains member m of an ensemble exactly in its prediction
// space: TreeSHAP or linear SHAP when ExactPrediction(m) is nil, else an
// error wrapping ErrUnsupported. Its values are what CombineSHAP combines.
func ExactMember(ctx context.Context, m model.Model, x *model.Matrix, workers int, names []string) (*Values, error) {
	if err := ExactPrediction(m); err != nil {
		return nil, err
	}
	return exactSHAP(ctx, m, x, workers, names)
}

// affine is an ensemble's combination as an affine map of its members'
// outputs: output c is intercept[c] + Σ_j coef[c*in+j]·z_j, z holding the
// members' outputs side by side (member i's output k at i*k+k), in = the
// number of members times their outputs.
type affine struct {
	members, k, outputs int
	coef, intercept     []float64
	output              Output // prediction, or the meta-learner's margin
	how                 string // for the note
}

// affineOf returns the affine form of a voting (weights) or stacking
// (meta, over members×k member outputs and possibly more columns, which
// it leaves out) combination.
func affineOf(kind ensemble.Kind, weights []float64, meta *linear.Model, members, k int) (*affine, error) {
	in := members * k
	a := &affine{members: members, k: k, outputs: k, coef: make([]float64, k*in), intercept: make([]float64, k), output: OutputPrediction}
	switch kind {
	case ensemble.KindVoting:
		if len(weights) != members {
			return nil, fmt.Errorf("explain: %d voting weights for %d members", len(weights), members)
		}
		for c := range k {
			for i, w := range weights {
				a.coef[c*in+i*k+c] = w
			}
		}
		a.how = "weighted by their voting weights"
		return a, nil
	case ensemble.KindStacking:
		if meta == nil || meta.NumOutputs() != k || meta.NumFeatures() < in {
			return nil, errors.New("explain: stacking ensemble without a matching meta-learner")
		}
		coef, p := meta.Coef(), meta.NumFeatures()
		for c := range k {
			copy(a.coef[c*in:(c+1)*in], coef[c*p:c*p+in])
		}
		copy(a.intercept, meta.Intercept())
		a.how = "through the stacking meta-learner's coefficients"
		if meta.Task().IsClassification() {
			a.output = OutputMargin
			a.how += ", in its margin space (log-odds)"
		}
		return a, nil
	}
	return nil, fmt.Errorf("explain: unknown ensemble kind %q", kind)
}

// combine returns the SHAP values of a's output from the members' values
// vs, which must share rows, outputs and features.
func (a *affine) combine(vs []*Values) (*Values, error) {
	if len(vs) != a.members {
		return nil, fmt.Errorf("explain: values of %d members, the ensemble has %d", len(vs), a.members)
	}
	v0 := vs[0]
	for i, v := range vs {
		if v.Outputs != a.k || v.Rows != v0.Rows || v.Features != v0.Features {
			return nil, fmt.Errorf("explain: member %d's values are %d×%d×%d, want %d×%d×%d", i, v.Rows, v.Outputs, v.Features, v0.Rows, a.k, v0.Features)
		}
	}
	// A member the combination gives no weight (greedy selection drops
	// many) adds nothing, and its values (a placeholder, say) say
	// nothing about how the result was computed.
	used := a.weighed(vs)
	out := newValues(combinedMethod(used), a.output, v0.Rows, a.outputs, v0.Features, v0.FeatureNames)
	out.Exact = !slices.ContainsFunc(used, func(v *Values) bool { return !v.Exact })
	in := a.members * a.k
	scale := 0.0
	for c := range a.outputs {
		out.BaseValue[c] = a.intercept[c]
		sc := 0.0
		for i, v := range vs {
			for k := range a.k {
				w := a.coef[c*in+i*a.k+k]
				if w == 0 {
					continue
				}
				sc += math.Abs(w)
				out.Tolerance = max(out.Tolerance, v.Tolerance)
				out.BaseValue[c] += w * v.BaseValue[k]
				for r := range v0.Rows {
					dst, src := out.Row(r, c), v.Row(r, k)
					for j, x := range src {
						dst[j] += w * x
					}
				}
			}
		}
		scale = max(scale, sc)
	}
	// Each member's error is within its tolerance; the combination scales
	// them by the weights' absolute sum.
	out.Tolerance *= max(1, scale)
	if out.Exact {
		out.Notes = []string{fmt.Sprintf("ensemble: the members' exact SHAP values (%s) combined %s: exact and locally accurate", methodNames(used), a.how)}
	} else {
		out.Notes = []string{fmt.Sprintf("ensemble: the members' SHAP values (%s) combined %s: locally accurate", methodNames(used), a.how)}
	}
	return out, nil
}

// weighed returns the values in vs of the members some output of a
// depends on; all of vs when none is (a zero combination).
func (a *affine) weighed(vs []*Values) []*Values {
	in := a.members * a.k
	var used []*Values
	for i, v := range vs {
		for c := range a.outputs {
			if slices.ContainsFunc(a.coef[c*in+i*a.k:c*in+(i+1)*a.k], func(w float64) bool { return w != 0 }) {
				used = append(used, v)
				break
			}
		}
	}
	if len(used) == 0 {
		return vs
	}
	return used
}

// combinedMethod is the members' method when they share one, else
// MethodCombined.
func combinedMethod(vs []*Values) Method {
	m := vs[0].Method
	for _, v := range vs[1:] {
		if v.Method != m {
			return MethodCombined
		}
	}
	return m
}

// methodNames names the members' methods, each once.
func methodNames(vs []*Values) string {
	var names []string
	for _, v := range vs {
		n := map[Method]string{MethodTree: "TreeSHAP", MethodLinear: "linear SHAP", MethodInterventional: "interventional SHAP"}[v.Method]
		if n == "" {
			n = string(v.Method)
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, " and ")
}

// CombineSHAP returns the SHAP values of c's output from its members'
// values, members[i] holding member i's values from ExactMember on the
// same rows, mapped to the same features: the combination weighted as c
// weighs the members (see the comment atop this file). They decompose
// the prediction for voting and ridge stacking, the meta-learner's margin
// (log-odds) for logistic stacking.
func CombineSHAP(c *ensemble.Combiner, members []*Values) (*Values, error) {
	a, err := affineOf(c.Kind(), c.Weights(), c.Meta(), c.NumMembers(), c.NumOutputs())
	if err != nil {
		return nil, err
	}
	return a.combine(members)
}

// EnsembleSHAP returns the exact SHAP values of an ensemble whose members
// all have exact explainers of their predictions (ExactPrediction): the
// members' values combined as the ensemble combines their outputs, plus,
// for stacking with passthrough, the meta-learner's linear SHAP values of
// the original features. Other ensembles give an error wrapping
// ErrUnsupported.
func EnsembleSHAP(ctx context.Context, m *ensemble.Model, x *model.Matrix, workers int, names []string) (*Values, error) {
	members := m.Members()
	for i, mm := range members {
		if err := ExactPrediction(mm); err != nil {
			return nil, fmt.Errorf("member %d (%s): %w", i, mm.Family(), err)
		}
	}
	a, err := affineOf(m.Kind(), m.Weights(), m.Meta(), len(members), m.NumOutputs())
	if err != nil {
		return nil, err
	}
	vs := make([]*Values, len(members))
	for i, mm := range members {
		if vs[i], err = exactSHAP(ctx, mm, x, workers, names); err != nil {
			return nil, fmt.Errorf("explain: ensemble member %d (%s): %w", i, mm.Family(), err)
		}
	}
	v, err := a.combine(vs)
	if err != nil {
		return nil, err
	}
	if m.Passthrough() > 0 {
		if err := addPassthrough(v, m.Meta(), len(members)*m.NumOutputs(), x); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// InterventionalBackground is the most background rows an ensemble's
// interventional values average over (Explain's, and pipeline.Explain's
// for a saved predictor): each costs a pair walk of every tree per row.
const InterventionalBackground = 100

// CapBackground returns bg, or n of its rows sampled with seed when it
// has more; n <= 0 means InterventionalBackground.
func CapBackground(bg *model.Matrix, n int, seed uint64) *model.Matrix {
	if n <= 0 {
		n = InterventionalBackground
	}
	if bg.Rows > n {
		return bg.TakeRows(SampleRows(bg.Rows, n, seed))
	}
	return bg
}

// ensembleInterventional returns the interventional SHAP values of an
// ensemble whose members InterventionalSupport accepts, all explained
// against the same background (Options.Background, else x; at most
// Options.InterventionalBackground rows of it sampled with Options.Seed), so
// they share the base value, and combined as EnsembleSHAP combines exact
// values. Its rows are reported to o.Progress over all members, one after
// another, weighted by their cost (MemberProgress, ProbeCost). A stacking meta-learner with passthrough columns, measured
// against its training means rather than the background, or a member
// InterventionalSupport refuses, gives an error wrapping ErrUnsupported.
func ensembleInterventional(ctx context.Context, m *ensemble.Model, x *model.Matrix, o Options) (*Values, error) {
	members := m.Members()
	if m.Passthrough() > 0 {
		return nil, fmt.Errorf("%w: the stacking meta-learner's passthrough columns", ErrUnsupported)
	}
	for i, mm := range members {
		if err := InterventionalSupport(mm); err != nil {
			return nil, fmt.Errorf("member %d (%s): %w", i, mm.Family(), err)
		}
	}
	a, err := affineOf(m.Kind(), m.Weights(), m.Meta(), len(members), m.NumOutputs())
	if err != nil {
		return nil, err
	}
	bg := o.Background
	if bg == nil {
		bg = x
	}
	bg = CapBackground(bg, o.InterventionalBackground, o.Seed)
	vs := make([]*Values, len(members))
	costs := make([]float64, len(members))
	for i, mm := range members {
		if costs[i], err = ProbeCost(ctx, mm, x, bg, o.Seed); err != nil {
			return nil, fmt.Errorf("explain: ensemble member %d (%s): %w", i, mm.Family(), err)
		}
	}
	for i, mm := range members {
		io := InterventionalOptions{Workers: o.Workers, Progress: MemberProgress(o.Progress, costs, i, x.Rows)}
		if vs[i], err = InterventionalSHAP(ctx, mm, x, bg, io, o.FeatureNames); err != nil {
			return nil, fmt.Errorf("explain: ensemble member %d (%s): %w", i, mm.Family(), err)
		}
	}
	v, err := a.combine(vs)
	if err != nil {
		return nil, err
	}
	v.Notes = append(v.Notes, MemberNote(vs))
	return v, nil
}

// MemberNote says how an ensemble's members' interventional values were
// computed: the note of the first member whose values are not exact (one
// rescaled through a link says more than one without), else of the first
// member with a note.
func MemberNote(vs []*Values) string {
	note := ""
	for _, v := range vs {
		if len(v.Notes) == 0 {
			continue
		}
		if !v.Exact {
			return v.Notes[0]
		}
		if note == "" {
			note = v.Notes[0]
		}
	}
	return note
}

// MemberProgress turns the progress.ExplainRow events of member i's
// explanation, one of len(costs) run one after another over rows rows
// each, into one count over all of them weighted by cost, costs[j] being
// the work of one of member j's rows (ProbeCost, the estimate that sizes
// the report's explanations): Total is
// len(costs)·rows and Step the share of the work done in those units,
// rounded, so that a time left estimated from Step/Total and the time
// spent holds although members' rows cost very different amounts (a
// 100-tree forest's a thousand times a logistic model's). Equal costs,
// or none above 0, count every row the same: Step i·rows + step. Only
// the first member's Step 0 event passes; over zero rows it is the only
// event, Step and Total 0 (there is no share of nothing to count). It
// returns nil for a nil pf.
func MemberProgress(pf progress.Func, costs []float64, i, rows int) progress.Func {
	if pf == nil {
		return nil
	}
	if rows <= 0 {
		return func(e progress.Event) {
			if i == 0 && e.Step == 0 {
				e.Total = 0
				pf(e)
			}
		}
	}
	w := slices.Clone(costs)
	sum := 0.0
	for _, c := range w {
		sum += c
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		for j := range w {
			w[j] = 1
		}
		sum = float64(len(w))
	}
	before := 0.0
	for _, c := range w[:i] {
		before += c
	}
	total := len(w) * rows
	return func(e progress.Event) {
		if e.Step == 0 && i > 0 {
			return
		}
		done := (before*float64(rows) + w[i]*float64(e.Step)) / (sum * float64(rows))
		e.Step, e.Total = int(math.Round(done*float64(total))), total
		pf(e)
	}
}

// addPassthrough adds a stacking meta-learner's terms in the original
// features, coef·(x_j − mean_j) with its training means, to v, and
// coef·mean to the base value: linear SHAP of those terms.
func addPassthrough(v *Values, meta *linear.Model, first int, x *model.Matrix) error {
	p := meta.NumFeatures()
	if p-first != x.Cols || x.Cols != v.Features {
		return fmt.Errorf("explain: the meta-learner passes through %d columns, x has %d", p-first, x.Cols)
	}
	coef, mean := meta.Coef(), meta.Means()[first:]
	for c := range v.Outputs {
		cc := coef[c*p+first : (c+1)*p]
		v.BaseValue[c] += dot(cc, mean)
		for r := range x.Rows {
			phi := v.Row(r, c)
			for j, xv := range x.Row(r) {
				if math.IsNaN(xv) || math.IsInf(xv, 0) {
					return fmt.Errorf("explain: row %d feature %d is %v: the meta-learner needs finite values", r, j, xv)
				}
				phi[j] += cc[j] * (xv - mean[j])
			}
		}
	}
	v.Notes = append(v.Notes, "ensemble: the meta-learner's own terms in the passed-through features add their linear SHAP values")
	return nil
}
