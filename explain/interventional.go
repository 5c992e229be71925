package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/internal/prob"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
	"github.com/tabforge/tabforge/progress"
)

// Interventional SHAP, as SHAP's TreeExplainer with
// feature_perturbation="interventional": a coalition S of row x is worth
// the mean over background rows r of f(x_S, r_S̄), the model fed x's
// values in S and r's elsewhere. Shapley values are linear in the value
// function, so they are the mean over r of each single-reference game's.
//
// A tree's single-reference game has a closed form. Walk the tree with
// both rows: where x and r go the same way the feature does not matter;
// where they part, the walk follows both, putting the feature on the
// "x side" (A) down x's child and on the "r side" (B) down r's; a feature
// met again below keeps its side. A leaf with value v reached with sides
// A and B is reached by coalition S iff A ⊆ S and S ∩ B = ∅, a game whose
// Shapley values are v·(|A|−1)!|B|!/(|A|+|B|)! for j ∈ A and
// −v·|A|!(|B|−1)!/(|A|+|B|)! for j ∈ B. A linear margin's values are
// w_j·(x_j − r_j).
//
// Models with a link g from margin m to prediction f (sigmoid for gbdt
// and logistic classifiers, Smear·exp(m)−1 for log(1+y) fits) are
// explained as TreeExplainer's model_output="probability" does: each
// pair's margin values are scaled by the link's secant
// (g(m(x)) − g(m(r)))/(m(x) − m(r)) (its derivative when the margins are
// equal), so they sum to f(x) − f(r), and averaged. That keeps local
// accuracy against BaseValue = mean_r f(r) exactly and needs no sampling,
// but it is not the Shapley value of the probability's own interventional
// game: the secant apportions each pair's change by margin shares.
// Multiclass gbdt and logistic models predict a softmax of one margin per
// class, which is no per-class link; each pair's margin values are
// mapped through the softmax's Jacobian averaged along the path between
// the two rows' margins instead (see softmaxpath.go), with the same
// properties.

// link maps a margin to a prediction.
type link struct {
	kind          linkKind
	smear, lo, hi float64 // linkLogTarget: smear·exp(clamp(m, lo, hi)) − 1
}

type linkKind uint8

const (
	linkIdentity linkKind = iota
	linkSigmoid
	linkLogTarget
	linkSoftmax // multiclass: not a per-output link; see softmaxpath.go
)

func (l link) apply(m float64) float64 {
	switch l.kind {
	case linkSigmoid:
		return prob.Sigmoid(m)
	case linkLogTarget:
		return l.smear*math.Exp(min(max(m, l.lo), l.hi)) - 1
	}
	return m
}

func (l link) deriv(m float64) float64 {
	switch l.kind {
	case linkSigmoid:
		p := l.apply(m)
		return p * (1 - p)
	case linkLogTarget:
		if m < l.lo || m > l.hi {
			return 0
		}
		return l.smear * math.Exp(m)
	}
	return 1
}

// secant is (g(a) − g(b))/(a − b), g'(a) when a = b.
func (l link) secant(a, b float64) float64 {
	if l.kind == linkIdentity {
		return 1
	}
	if a == b {
		return l.deriv(a)
	}
	return (l.apply(a) - l.apply(b)) / (a - b)
}

func (l link) String() string {
	return [...]string{"identity", "sigmoid", "exp", "softmax"}[l.kind]
}

// refModel is a model explained against single references: a margin
// (trees, or a linear model's intercept + coef·x) plus linear terms
// (a trend target's), and the link to its prediction.
type refModel struct {
	trees             *TreeEnsemble // nil for a linear model
	lin               *linear.Model // nil for trees
	coef              []float64     // lin's coefficients, outputs×features
	terms             []linearTerm
	termIntercept     float64
	link              link
	outputs, features int
}

// InterventionalSupport returns nil when InterventionalSHAP explains m:
// package tree, forest and gbdt models (multiclass ones too), package
// linear models, and those fitted on log(1+y) or with a trend target.
// Other models give an error wrapping ErrUnsupported that says why.
func InterventionalSupport(m model.Model) error {
	_, err := newRefModel(m)
	return err
}

func newRefModel(m model.Model) (*refModel, error) {
	switch mm := m.(type) {
	case nil:
		return nil, fmt.Errorf("%w: no model", ErrUnsupported)
	case linearPart: // a trend: its terms add to the prediction, on the link's far side
		rm, err := newRefModel(mm.Unwrap())
		if err != nil {
			return nil, err
		}
		if rm.link.kind != linkIdentity || rm.outputs != 1 {
			return nil, fmt.Errorf("%w: a trend target over a %s link", ErrUnsupported, rm.link)
		}
		index, coef, mean, intercept := mm.LinearTerm()
		for j, f := range index {
			if f < 0 || f >= rm.features {
				return nil, fmt.Errorf("explain: linear term on feature %d of %d", f, rm.features)
			}
			rm.terms = append(rm.terms, linearTerm{feature: f, coef: coef[j], mean: mean[j]})
		}
		rm.termIntercept += intercept
		return rm, nil
	case *model.LogTargetModel:
		rm, err := newRefModel(mm.Inner)
		if err != nil {
			return nil, err
		}
		if rm.link.kind != linkIdentity || rm.outputs != 1 || len(rm.terms) > 0 {
			return nil, fmt.Errorf("%w: a log(1+y) fit of a model with a link", ErrUnsupported)
		}
		rm.link = link{kind: linkLogTarget, smear: mm.Smear, lo: mm.Lo, hi: mm.Hi}
		return rm, nil
	case *tree.Model, *forest.Model:
		e, err := flatten(m)
		if err != nil {
			return nil, err
		}
		return &refModel{trees: e, outputs: e.outputs, features: e.features}, nil
	case *gbdt.Model:
		l, err := linkOf(mm.Task(), mm.Objective() == gbdt.BinaryLogistic || mm.Objective() == gbdt.MultiSoftmax, m.Family())
		if err != nil {
			return nil, err
		}
		e, err := flatten(m)
		if err != nil {
			return nil, err
		}
		return &refModel{trees: e, link: l, outputs: e.outputs, features: e.features}, nil
	case *linear.Model:
		l, err := linkOf(mm.Task(), mm.Task().IsClassification(), m.Family())
		if err != nil {
			return nil, err
		}
		return &refModel{lin: mm, coef: mm.Coef(), link: l, outputs: mm.NumOutputs(), features: mm.NumFeatures()}, nil
	}
	return nil, fmt.Errorf("%w: interventional SHAP explains tree, forest, gbdt and linear models, not %s", ErrUnsupported, m.Family())
}

// linkOf is the link of a gbdt or linear model of task: sigmoid for a
// binary classifier and the softmax for a multiclass one (logLoss says
// its objective is the log loss), the identity for regression.
func linkOf(task model.Task, logLoss bool, family string) (link, error) {
	switch {
	case task == model.Regression:
		return link{}, nil
	case task == model.Binary && logLoss:
		return link{kind: linkSigmoid}, nil
	case task == model.Multiclass && logLoss:
		return link{kind: linkSoftmax}, nil
	}
	return link{}, fmt.Errorf("%w: %s %s model with an unknown link", ErrUnsupported, task, family)
}

// margins writes the margin of every row of x into dst (x.Rows×outputs).
func (rm *refModel) margins(dst []float64, x *model.Matrix) error {
	if rm.trees != nil {
		rm.trees.Predict(dst, x)
	} else {
		for r := range x.Rows {
			for j, v := range x.Row(r) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("explain: linear: row %d feature %d is %v: impute missing values first", r, j, v)
				}
			}
		}
		LinearMargin(rm.lin, dst, x)
	}
	if len(rm.terms) > 0 {
		for r := range x.Rows {
			dst[r] += rm.termIntercept
			for _, l := range rm.terms {
				dst[r] += l.phi(x.Row(r))
			}
		}
	}
	return nil
}

// InterventionalOptions tune InterventionalSHAP; the zero value works.
type InterventionalOptions struct {
	// Workers bounds the rows explained at once; 0 means GOMAXPROCS.
	Workers int
	// Progress receives a progress.ExplainRow event (Name
	// "interventional") as each row is explained, as
	// KernelOptions.Progress does: a row costs background rows × pair
	// walks, milliseconds for a large ensemble. nil means no events.
	Progress progress.Func
}

// InterventionalSHAP returns interventional SHAP values of m's prediction
// for the rows of x against the background rows bg, equally weighted (see
// the comment atop this file): the exact Shapley values of the
// interventional game for models without a link (tree and forest models,
// regression gbdt, ols and ridge, trend targets), and the margin's
// single-reference values rescaled through the link, pair by pair, for
// binary gbdt and logistic classifiers and log(1+y) fits, or mapped
// through the softmax's path-averaged Jacobian for multiclass ones
// (Values.Exact is false for those). BaseValue is the mean prediction over bg; each row's
// values sum to its prediction minus it. It costs x.Rows × bg.Rows pair
// walks, each reaching at most 2^d leaves of a tree whose paths split on
// d features where the pair parts. Rows are split over o.Workers
// goroutines; every row sums its background rows in order, so the result
// does not depend on them. Models InterventionalSupport refuses give its
// error.
func InterventionalSHAP(ctx context.Context, m model.Model, x, bg *model.Matrix, o InterventionalOptions, names []string) (*Values, error) {
	rm, err := newRefModel(m)
	if err != nil {
		return nil, err
	}
	k, p := rm.outputs, rm.features
	if x == nil || x.Cols != p || len(x.Data) != x.Rows*x.Cols {
		return nil, fmt.Errorf("explain: interventional: matrix has %d columns, the model has %d features", colsOf(x), p)
	}
	if bg == nil || bg.Rows == 0 || bg.Cols != p || len(bg.Data) != bg.Rows*bg.Cols {
		return nil, fmt.Errorf("explain: interventional: background needs rows of the model's %d features", p)
	}
	mx, mr := make([]float64, x.Rows*k), make([]float64, bg.Rows*k)
	if err := rm.margins(mx, x); err != nil {
		return nil, err
	}
	if err := rm.margins(mr, bg); err != nil {
		return nil, fmt.Errorf("background: %w", err)
	}
	v := newValues(MethodInterventional, OutputPrediction, x.Rows, k, p, names)
	v.Exact, v.Tolerance = rm.link.kind == linkIdentity, 1e-9
	fx, fr := rm.predictions(mx), rm.predictions(mr)
	if rm.lin != nil {
		v.Tolerance = linearTolerance(v.Tolerance, rm.coef, rm.lin.Intercept(), x, maxAbs(bg), fx, rm.gain(mx, mr), p+bg.Rows+2)
	}
	for b := range bg.Rows {
		for c := range k {
			v.BaseValue[c] += fr[b*k+c]
		}
	}
	nb := float64(bg.Rows)
	for c := range k {
		v.BaseValue[c] /= nb
	}
	per := k * p
	done := newRowsDone(o.Progress, MethodInterventional, x.Rows)
	err = parallelRows(ctx, x.Rows, o.Workers, 1, func() func(r int) {
		w, add := newRefWorker(rm), rm.pairMapper()
		return func(r int) {
			acc, row := v.Values[r*per:(r+1)*per], x.Row(r)
			for b := range bg.Rows {
				w.pair(rm, row, bg.Row(b))
				add(acc, w.phi, mx[r*k:(r+1)*k], mr[b*k:(b+1)*k], fx[r*k:(r+1)*k], fr[b*k:(b+1)*k])
			}
			for i := range acc {
				acc[i] /= nb
			}
			done.add()
		}
	})
	if err != nil {
		return nil, err
	}
	v.Notes = []string{interventionalNote(rm.link, bg.Rows)}
	return v, nil
}

// gain bounds how much rm's link multiplies an error in a margin on its
// way to the prediction, over the margins zx and zr of the rows and the
// background: a secant of a convex exp is at most its slope at the larger
// end, a sigmoid's at most 1/4, and a softmax output moves by at most
// 1/2 of a change spread over its k margins.
func (rm *refModel) gain(zx, zr []float64) float64 {
	switch rm.link.kind {
	case linkSigmoid:
		return 0.25
	case linkSoftmax:
		return 0.5 * float64(rm.outputs)
	case linkLogTarget:
		g := 0.0
		for _, z := range [][]float64{zx, zr} {
			for _, m := range z {
				g = max(g, rm.link.smear*math.Exp(min(max(m, rm.link.lo), rm.link.hi)))
			}
		}
		return g
	}
	return 1
}

// maxAbs returns the largest |value| of each column of x.
func maxAbs(x *model.Matrix) []float64 {
	out := make([]float64, x.Cols)
	for r := range x.Rows {
		for j, v := range x.Row(r) {
			out[j] = max(out[j], math.Abs(v))
		}
	}
	return out
}

// predictions returns rm's predictions from its margins z (rows×outputs):
// the link applied to each, or the softmax of each row's.
func (rm *refModel) predictions(z []float64) []float64 {
	k, f := rm.outputs, make([]float64, len(z))
	for i := 0; i < len(z); i += k {
		if rm.link.kind == linkSoftmax {
			prob.Softmax(f[i:i+k], z[i:i+k])
			continue
		}
		for c := range k {
			f[i+c] = rm.link.apply(z[i+c])
		}
	}
	return f
}

// pairMapper returns a function that adds to acc (outputs×features) a
// pair's values of the prediction from phi, its values of the margin,
// given the two rows' margins zx, zr and predictions fx, fr: phi scaled
// by the link's secant, or mapped through the softmax's path-averaged
// Jacobian. Each call adds fx − fr per output. The function holds
// buffers: one per goroutine.
func (rm *refModel) pairMapper() func(acc, phi, zx, zr, fx, fr []float64) {
	k, p := rm.outputs, rm.features
	if rm.link.kind == linkSoftmax {
		s, out := newSoftmaxPath(k), make([]float64, k*p)
		return func(acc, phi, zx, zr, fx, fr []float64) {
			s.jacobian(zx, zr)
			s.apply(acc, out, phi, fx, fr, p)
		}
	}
	return func(acc, phi, zx, zr, _, _ []float64) {
		for c := range k {
			s := rm.link.secant(zx[c], zr[c])
			for j, v := range phi[c*p : (c+1)*p] {
				acc[c*p+j] += s * v
			}
		}
	}
}

// interventionalNote says how InterventionalSHAP's values were computed.
func interventionalNote(l link, background int) string {
	s := fmt.Sprintf("interventional SHAP over %d background rows", background)
	if l.kind == linkIdentity {
		return s + ": exact and locally accurate"
	}
	if l.kind == linkSoftmax {
		return s + ": the class margins' values against each background row mapped through the softmax link's Jacobian averaged along the path between the two rows' margins, the multiclass form of SHAP's TreeExplainer with model_output=\"probability\"; deterministic and locally accurate, not the Shapley values of the probabilities' own game"
	}
	return s + fmt.Sprintf(": the margin's values against each background row rescaled through the %s link, as SHAP's TreeExplainer does with model_output=\"probability\"; deterministic and locally accurate, not the Shapley values of the prediction's own game", l)
}
