package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
)

// An ensemble predictor's members each read the input through their own
// feature chain and design, so the ensemble is explained on the input
// columns. When every member has an exact explainer of its prediction and
// the combiner is linear in the predictions (explain.CombineSHAP), each
// member is explained exactly in its own design space, each input
// column's value is the sum of its design features' values (one-hot
// levels, datetime parts: that keeps local accuracy), and the members'
// column values are combined as the combiner combines their predictions.
// That is exact where KernelSHAP on the raw columns is a sampled estimate
// costing seconds a row.
//
// Members explained in margin space (gbdt and logistic classifiers,
// binary or multiclass, log(1+y) fits) have no exact explainer of their
// predictions; such ensembles get interventional SHAP against background
// rows instead (explain.InterventionalSHAP: every member, so that all
// share the base value, the mean ensemble output over the background),
// summed and combined the same way. Other ensembles (members with
// derived features, routed predictors) keep KernelSHAP.

// ensembleExactness returns nil when p is an ensemble the exact path can
// explain, else an error wrapping explain.ErrUnsupported saying why.
func ensembleExactness(p *Predictor) error {
	return ensembleSupport(p, explain.ExactPrediction)
}

// ensembleSupport returns nil when p is a plain ensemble whose weighed
// members support (explain.ExactPrediction or
// explain.InterventionalSupport) accepts, else an error wrapping
// explain.ErrUnsupported saying why. A member whose feature chain
// derives columns (temporal, market or interaction features read several
// input columns, or other rows) has features no single input column
// owns.
func ensembleSupport(p *Predictor, support func(model.Model) error) error {
	if len(p.Members) == 0 || p.Combiner == nil || p.Routes != nil {
		return fmt.Errorf("%w: not a plain ensemble", explain.ErrUnsupported)
	}
	for i, m := range p.Members {
		if !weighed(p.Combiner, i) {
			continue
		}
		for _, f := range m.Chain {
			if _, ok := f.(features.Drop); !ok {
				return fmt.Errorf("%w: member %s's feature chain derives features from several input columns", explain.ErrUnsupported, m.Name)
			}
		}
		if err := support(m.Model); err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
	}
	return nil
}

// weighed reports whether c's output depends on member i: greedy
// selection gives many candidates weight 0, and what such a member is
// does not matter.
func weighed(c *ensemble.Combiner, i int) bool {
	w := c.Weights()
	return c.Kind() != ensemble.KindVoting || w[i] > 0
}

// ensembleRowCost is the TreeSHAP cost of one row summed over p's tree
// members (explain.TreeEnsemble.RowCost).
func ensembleRowCost(p *Predictor) float64 {
	c := 0.0
	for i, m := range p.Members {
		if !weighed(p.Combiner, i) {
			continue
		}
		if te, err := explain.NewTreeEnsemble(m.Model); err == nil {
			c += te.RowCost()
		}
	}
	return c
}

// memberSHAP explains a member's design matrix x; bg is the design
// matrix of the background rows, nil for path-dependent values. It may
// report its rows to pf.
type memberSHAP func(ctx context.Context, m model.Model, x, bg *model.Matrix, workers int, pf progress.Func, names []string) (*explain.Values, error)

// pathDependent reports no progress: TreeSHAP and linear SHAP take well
// under a second.
func pathDependent(ctx context.Context, m model.Model, x, _ *model.Matrix, workers int, _ progress.Func, names []string) (*explain.Values, error) {
	return explain.ExactMember(ctx, m, x, workers, names)
}

func interventional(ctx context.Context, m model.Model, x, bg *model.Matrix, workers int, pf progress.Func, names []string) (*explain.Values, error) {
	return explain.InterventionalSHAP(ctx, m, x, bg, explain.InterventionalOptions{Workers: workers, Progress: pf}, names)
}

// interventionalProbeRows is how many rows of the data, and of the
// background, interventionalRowCost walks in pairs: 64 pairs per member,
// 6% of the 1,000 of the fewest rows the report explains
// (reportMinInterventionalRows against explain.InterventionalBackground).
const interventionalProbeRows = 8

// interventionalRowCost estimates the CPU nanoseconds interventional SHAP
// takes on one row of x for ensemble p, summed over its weighed members
// (memberCosts), against the background Explain would measure x's rows
// against by default (seed being ExplainOptions' seed), and returns it
// with that background's rows: the cost is linear in them.
func interventionalRowCost(ctx context.Context, p *Predictor, x *frame.Frame, seed uint64) (cost float64, background int, err error) {
	if x.NumRows() == 0 {
		return 0, 0, nil
	}
	rows := explain.SampleRows(x.NumRows(), interventionalProbeRows, seed)
	e, err := setUpExplanation(p, x, ExplainOptions{Rows: rows, Options: explain.Options{Seed: seed}})
	if err != nil {
		return 0, 0, err
	}
	bg, err := ensembleBackground(e.in, e.background, 0, seed)
	if err != nil || bg == nil {
		return 0, 0, err
	}
	costs, err := memberCosts(ctx, p, x, bg, seed)
	for _, mc := range costs {
		cost += mc
	}
	return cost, bg.NumRows(), err
}

// memberCosts estimates the CPU nanoseconds interventional SHAP takes on
// one row of x against the rows of bg, for each weighed member of p in
// order (explain.InterventionalCost): seeded samples of
// interventionalProbeRows rows of x and of bg are walked in pairs, and
// the work counted is priced per row of bg. They size the report's
// explanation (interventionalRowCost) and weigh the members' progress
// (explain.MemberProgress), so the bar moves as the budget expects.
func memberCosts(ctx context.Context, p *Predictor, x, bg *frame.Frame, seed uint64) ([]float64, error) {
	xr := x.Take(explain.SampleRows(x.NumRows(), interventionalProbeRows, seed))
	probe := bg.Take(explain.SampleRows(bg.NumRows(), interventionalProbeRows, seed))
	var costs []float64
	for i, m := range p.Members {
		if !weighed(p.Combiner, i) {
			continue
		}
		mx, err := memberMatrix(m, xr)
		if err != nil {
			return nil, err
		}
		mb, err := memberMatrix(m, probe)
		if err != nil {
			return nil, fmt.Errorf("background: %w", err)
		}
		c, err := explain.InterventionalCost(ctx, m.Model, mx, mb, bg.NumRows())
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		}
		costs = append(costs, c)
	}
	return costs, nil
}

// exactEnsemble explains the rows of xr for ensemble p on its input
// columns names (p's schema order) as the comment atop this file says:
// path-dependent exact values when every member has them, else
// interventional values against the rows of bg (nil: none), whose rows
// it reports to pf, counted over the weighed members by their cost
// (memberCosts, probed with seed; explain.MemberProgress). It returns an
// error wrapping explain.ErrUnsupported when the ensemble is neither.
func exactEnsemble(ctx context.Context, p *Predictor, xr, bg *frame.Frame, names []string, workers int, seed uint64, pf progress.Func) (*explain.Values, error) {
	shap := memberSHAP(pathDependent)
	if err := ensembleExactness(p); err != nil {
		if !errors.Is(err, explain.ErrUnsupported) || bg == nil {
			return nil, err
		}
		if err := ensembleSupport(p, explain.InterventionalSupport); err != nil {
			return nil, err
		}
		shap = interventional
	} else {
		bg = nil
	}
	col := make(map[string]int, len(names))
	for j, n := range names {
		col[n] = j
	}
	n := xr.NumRows()
	vs := make([]*explain.Values, len(p.Members))
	preds := make([][]float64, len(p.Members))
	// Rows are reported over the weighed members, weighted by their
	// cost (none without a background: path-dependent values report no
	// rows).
	var costs []float64
	if bg != nil && pf != nil {
		var err error
		if costs, err = memberCosts(ctx, p, xr, bg, seed); err != nil {
			return nil, err
		}
	}
	done := 0
	for i, m := range p.Members {
		if !weighed(p.Combiner, i) {
			k := p.Combiner.NumOutputs()
			vs[i] = &explain.Values{Rows: n, Outputs: k, Features: len(names), FeatureNames: names,
				Values: make([]float64, n*k*len(names)), BaseValue: make([]float64, k), Exact: true}
			preds[i] = make([]float64, n*k)
			continue
		}
		var mp progress.Func
		if costs != nil {
			mp = explain.MemberProgress(pf, costs, done, n)
		}
		v, pred, err := explainMember(ctx, m, xr, bg, shap, workers, mp)
		if err != nil {
			return nil, err
		}
		done++
		if vs[i], err = byInputColumn(v, m.Design.FeatureColumns(), col, names); err != nil {
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		}
		preds[i] = pred
	}
	v, err := explain.CombineSHAP(p.Combiner, vs)
	if err != nil {
		return nil, err
	}
	// The algebra is exact; this guards the wiring (member order, the
	// combiner's layout) at the price of one sum per row.
	want, err := combinedOutput(p.Combiner, preds, n, v.Output)
	if err != nil {
		return nil, err
	}
	if _, err := v.CheckLocalAccuracy(want, v.Tolerance); err != nil {
		return nil, fmt.Errorf("explain: ensemble values do not add up to its output: %w", err)
	}
	if bg != nil {
		v.Notes = append(v.Notes, explain.MemberNote(vs))
	}
	v.Notes = append(v.Notes, "each member is explained in its own design space; an input column's value is the sum of its design features' (one-hot levels, datetime parts)")
	return v, nil
}

// explainMember explains member m on frame x (its chain and design
// applied) with shap, against the rows of bg (nil: none), and returns
// the values and its predictions, having checked that the values add up
// to them: the prediction is what the combiner combines.
func explainMember(ctx context.Context, m Member, x, bg *frame.Frame, shap memberSHAP, workers int, pf progress.Func) (*explain.Values, []float64, error) {
	mat, err := memberMatrix(m, x)
	if err != nil {
		return nil, nil, err
	}
	var bmat *model.Matrix
	if bg != nil {
		if bmat, err = memberMatrix(m, bg); err != nil {
			return nil, nil, fmt.Errorf("background: %w", err)
		}
	}
	v, err := shap(ctx, m.Model, mat, bmat, workers, pf, m.Design.FeatureNames())
	if err != nil {
		return nil, nil, fmt.Errorf("member %s: %w", m.Name, err)
	}
	pred := make([]float64, mat.Rows*m.Model.NumOutputs())
	if err := m.Model.Predict(pred, mat); err != nil {
		return nil, nil, fmt.Errorf("member %s: %w", m.Name, err)
	}
	if _, err := v.CheckLocalAccuracy(pred, v.Tolerance); err != nil {
		return nil, nil, fmt.Errorf("%w: member %s's values do not add up to its prediction (%v)", explain.ErrUnsupported, m.Name, err)
	}
	return v, pred, nil
}

// memberMatrix is member m's design matrix of x, its chain applied.
func memberMatrix(m Member, x *frame.Frame) (*model.Matrix, error) {
	if len(m.Chain) > 0 {
		var err error
		if x, err = m.Chain.Transform(x); err != nil {
			return nil, fmt.Errorf("member %s: advanced features: %w", m.Name, err)
		}
	}
	mat, err := m.Design.Matrix(x)
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", m.Name, err)
	}
	return mat, nil
}

// byInputColumn sums v's design-feature values into the input columns
// names (col maps a name to its index); owner[f] names feature f's input
// column.
func byInputColumn(v *explain.Values, owner []string, col map[string]int, names []string) (*explain.Values, error) {
	if len(owner) != v.Features {
		return nil, fmt.Errorf("explain: %d design features, %d values per row", len(owner), v.Features)
	}
	idx := make([]int, len(owner))
	for f, o := range owner {
		j, ok := col[o]
		if !ok {
			return nil, fmt.Errorf("%w: design feature %s reads column %q, which is not an input column", explain.ErrUnsupported, v.FeatureNames[f], o)
		}
		idx[f] = j
	}
	out := *v
	out.Features, out.FeatureNames = len(names), slices.Clone(names)
	out.Values = make([]float64, v.Rows*v.Outputs*len(names))
	for r := range v.Rows {
		for k := range v.Outputs {
			dst := out.Values[(r*v.Outputs+k)*len(names) : (r*v.Outputs+k+1)*len(names)]
			for f, phi := range v.Row(r, k) {
				dst[idx[f]] += phi
			}
		}
	}
	return &out, nil
}

// combinedOutput is what the combined values decompose: c's combination
// of preds (rows rows), or for a logistic meta-learner (output margin)
// its margin.
func combinedOutput(c *ensemble.Combiner, preds [][]float64, rows int, output explain.Output) ([]float64, error) {
	k := c.NumOutputs()
	out := make([]float64, rows*k)
	if output != explain.OutputMargin {
		return out, c.Combine(out, preds)
	}
	z := model.NewMatrix(rows, len(preds)*k)
	for r := range rows {
		for i, p := range preds {
			copy(z.Row(r)[i*k:(i+1)*k], p[r*k:(r+1)*k])
		}
	}
	explain.LinearMargin(c.Meta(), out, z)
	return out, nil
}
