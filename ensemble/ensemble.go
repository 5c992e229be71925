// Package ensemble combines fitted models into one: weighted voting
// (averaging regressors, soft-voting classifiers' probabilities),
// stacking (a ridge or logistic meta-learner fitted on the members'
// out-of-fold predictions, optionally beside the original features) and
// greedy ensemble selection (Caruana et al., 2004), which picks voting
// weights from out-of-fold predictions.
//
// An ensemble is a model.Model of family "ensemble". Its members are
// models fitted on the full training part; only the meta-learner and the
// selection ever see out-of-fold predictions, so neither rewards a member
// for memorising its training rows. Decoding a saved ensemble needs the
// registry of its members' families: see Decoder and Family.
package ensemble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/split"
)

// FamilyName is the family of every ensemble model.
const FamilyName = "ensemble"

// Kind says how an ensemble combines its members.
type Kind string

// Kinds.
const (
	// KindVoting averages the members' outputs with fixed weights.
	KindVoting Kind = "voting"
	// KindStacking feeds the members' outputs to a meta-learner.
	KindStacking Kind = "stacking"
)

// Model is a fitted ensemble. It is immutable and safe for concurrent use
// (as its members are).
type Model struct {
	kind    Kind
	task    model.Task
	outputs int
	members []model.Model
	weights []float64 // voting: non-negative, summing to 1
	// stacking
	meta        *linear.Model
	passthrough int // number of original feature columns appended; 0 = none
}

var _ model.Model = (*Model)(nil)

// checkMembers checks that members agree on their number of outputs and
// returns it.
func checkMembers(members []model.Model) (int, error) {
	if len(members) == 0 {
		return 0, errors.New("ensemble: no members")
	}
	k := 0
	for i, m := range members {
		if m == nil {
			return 0, fmt.Errorf("ensemble: member %d is nil", i)
		}
		if i == 0 {
			k = m.NumOutputs()
		} else if m.NumOutputs() != k {
			return 0, fmt.Errorf("ensemble: member %d (%s) has %d outputs, member 0 has %d", i, m.Family(), m.NumOutputs(), k)
		}
	}
	return k, nil
}

// normalise returns w scaled to sum 1; nil means equal weights.
func normalise(w []float64, n int) ([]float64, error) {
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	if len(w) != n {
		return nil, fmt.Errorf("ensemble: %d weights for %d members", len(w), n)
	}
	sum := 0.0
	for i, x := range w {
		if !(x >= 0) || math.IsInf(x, 1) {
			return nil, fmt.Errorf("ensemble: weight %d = %v; want a finite value >= 0", i, x)
		}
		sum += x
	}
	if !(sum > 0) {
		return nil, errors.New("ensemble: weights sum to 0")
	}
	out := make([]float64, n)
	for i, x := range w {
		out[i] = x / sum
	}
	return out, nil
}

// Voting returns the weighted average of members: the mean prediction of
// regressors, the soft vote (mean class probabilities) of classifiers.
// weights are normalised to sum 1; nil means equal weights. Members with
// weight 0 are dropped. The members must agree on NumOutputs.
func Voting(members []model.Model, weights []float64) (*Model, error) {
	k, err := checkMembers(members)
	if err != nil {
		return nil, err
	}
	w, err := normalise(weights, len(members))
	if err != nil {
		return nil, err
	}
	m := &Model{kind: KindVoting, outputs: k}
	for i, x := range w {
		if x > 0 {
			m.members = append(m.members, members[i])
			m.weights = append(m.weights, x)
		}
	}
	return m, nil
}

// Family implements model.Model.
func (m *Model) Family() string { return FamilyName }

// Kind returns how the ensemble combines its members.
func (m *Model) Kind() Kind { return m.kind }

// NumOutputs implements model.Model.
func (m *Model) NumOutputs() int { return m.outputs }

// Members returns the member models.
func (m *Model) Members() []model.Model { return append([]model.Model(nil), m.members...) }

// Weights returns the voting weights (summing to 1), or nil for stacking.
func (m *Model) Weights() []float64 { return append([]float64(nil), m.weights...) }

// Meta returns the stacking meta-learner, or nil for voting. Its inputs
// are the members' outputs side by side (member i's output k at column
// i*NumOutputs()+k), then the Passthrough original features. It is
// immutable; explanations read its coefficients.
func (m *Model) Meta() *linear.Model { return m.meta }

// Passthrough returns the number of original feature columns the
// stacking meta-learner sees after the members' outputs (0 for none).
func (m *Model) Passthrough() int { return m.passthrough }

// Params implements model.Model: the kind, the members' families and
// parameters, and the voting weights or the meta-learner's coefficients.
func (m *Model) Params() map[string]any {
	fams := make([]string, len(m.members))
	params := make([]map[string]any, len(m.members))
	for i, mm := range m.members {
		fams[i], params[i] = mm.Family(), mm.Params()
	}
	p := map[string]any{"kind": string(m.kind), "members": fams, "member_params": params}
	switch m.kind {
	case KindVoting:
		p["weights"] = m.Weights()
	case KindStacking:
		p["meta"] = m.meta.Family()
		p["meta_coef"] = m.meta.Coef()
		p["meta_intercept"] = m.meta.Intercept()
		p["passthrough"] = m.passthrough > 0
	}
	return p
}

// Predict implements model.Model.
func (m *Model) Predict(dst []float64, x *model.Matrix) error {
	if len(dst) != x.Rows*m.outputs {
		return fmt.Errorf("ensemble: dst has %d values, want %d×%d", len(dst), x.Rows, m.outputs)
	}
	preds, err := m.memberPredictions(x)
	if err != nil {
		return err
	}
	switch m.kind {
	case KindVoting:
		clear(dst)
		for i, p := range preds {
			w := m.weights[i]
			for j, v := range p {
				dst[j] += w * v
			}
		}
		return nil
	case KindStacking:
		if m.passthrough > 0 && x.Cols != m.passthrough {
			return fmt.Errorf("ensemble: x has %d columns, the stacking model passes through %d", x.Cols, m.passthrough)
		}
		var orig *model.Matrix
		if m.passthrough > 0 {
			orig = x
		}
		z := metaFeatures(preds, m.outputs, x.Rows, orig)
		if err := m.meta.Predict(dst, z); err != nil {
			return fmt.Errorf("ensemble: meta-learner: %w", err)
		}
		return nil
	}
	return fmt.Errorf("ensemble: unknown kind %q", m.kind)
}

// memberPredictions returns each member's predictions on x.
func (m *Model) memberPredictions(x *model.Matrix) ([][]float64, error) {
	preds := make([][]float64, len(m.members))
	for i, mm := range m.members {
		preds[i] = make([]float64, x.Rows*m.outputs)
		if err := mm.Predict(preds[i], x); err != nil {
			return nil, fmt.Errorf("ensemble: member %d (%s): %w", i, mm.Family(), err)
		}
	}
	return preds, nil
}

// metaFeatures lays out the meta-learner's design: each member's outputs
// side by side (for binary classification, the probability of class 1),
// then the original columns of x if x is not nil.
func metaFeatures(preds [][]float64, k, rows int, x *model.Matrix) *model.Matrix {
	cols := len(preds) * k
	if x != nil {
		cols += x.Cols
	}
	z := model.NewMatrix(rows, cols)
	for r := range rows {
		row := z.Row(r)
		for i, p := range preds {
			copy(row[i*k:(i+1)*k], p[r*k:(r+1)*k])
		}
		if x != nil {
			copy(row[len(preds)*k:], x.Row(r))
		}
	}
	return z
}

// StackingOptions configure FitStacking. The zero value fits a ridge
// (alpha 1) or logistic (C 1) meta-learner on the members' outputs alone.
type StackingOptions struct {
	// Alpha is the ridge penalty of a regression meta-learner; 0 means 1.
	Alpha float64
	// C is the inverse penalty of a logistic meta-learner; 0 means 1.
	C float64
	// Passthrough, if not nil, holds the original training features (the
	// rows of the out-of-fold predictions), appended to the meta-learner's
	// inputs; Predict then appends x's columns likewise. The features must
	// be numeric without NaN (as linear models need).
	Passthrough *model.Matrix
	// Weights are per-row sample weights; nil means all ones.
	Weights []float64
	// Fit controls the meta-learner's fit (workers, progress).
	Fit model.FitOptions
}

// FitStacking fits a stacking ensemble of members, which were fitted on
// the full training part. oof[i] holds member i's out-of-fold predictions
// on the n training rows (NumOutputs per row, row-major), y the targets
// (class indices for classification) and task and numClasses the problem.
// The meta-learner, ridge regression for regression and logistic
// regression for classification, is fitted on the out-of-fold predictions
// only: in-sample predictions would reward members that memorise.
func FitStacking(ctx context.Context, members []model.Model, oof [][]float64, y []float64, task model.Task, numClasses int, opts StackingOptions) (*Model, error) {
	k, err := checkMembers(members)
	if err != nil {
		return nil, err
	}
	if len(oof) != len(members) {
		return nil, fmt.Errorf("ensemble: %d out-of-fold predictions for %d members", len(oof), len(members))
	}
	meta, err := fitMeta(ctx, oof, k, y, task, numClasses, opts)
	if err != nil {
		return nil, err
	}
	m := &Model{kind: KindStacking, task: task, outputs: k, members: append([]model.Model(nil), members...), meta: meta}
	if opts.Passthrough != nil {
		m.passthrough = opts.Passthrough.Cols
	}
	return m, nil
}

// OutOfFold returns learner's out-of-fold predictions on d: for each fold
// it fits on the fold's training rows and predicts its test rows. Rows in
// no test fold are left NaN. The folds run one after another; each fit
// uses o.
func OutOfFold(ctx context.Context, learner model.Learner, d *model.Dataset, folds []split.Fold, o model.FitOptions) ([]float64, error) {
	var out []float64
	k := 0
	for f, fold := range folds {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ensemble: out-of-fold: fold %d: %w", f, err)
		}
		m, err := learner.Fit(ctx, d.TakeRows(fold.Train), o)
		if err != nil {
			return nil, fmt.Errorf("ensemble: out-of-fold: fold %d: %w", f, err)
		}
		if out == nil {
			k = m.NumOutputs()
			out = make([]float64, d.X.Rows*k)
			for i := range out {
				out[i] = math.NaN()
			}
		}
		pred := make([]float64, len(fold.Test)*k)
		if err := m.Predict(pred, d.X.TakeRows(fold.Test)); err != nil {
			return nil, fmt.Errorf("ensemble: out-of-fold: fold %d: %w", f, err)
		}
		for i, r := range fold.Test {
			copy(out[r*k:(r+1)*k], pred[i*k:(i+1)*k])
		}
	}
	return out, nil
}

// saved is the JSON encoding of a Model.
type saved struct {
	Format      string        `json:"format"`
	Kind        Kind          `json:"kind"`
	Task        model.Task    `json:"task,omitempty"`
	Outputs     int           `json:"outputs"`
	Members     []savedMember `json:"members"`
	Weights     []float64     `json:"weights,omitempty"`
	Meta        []byte        `json:"meta,omitempty"`
	Passthrough int           `json:"passthrough,omitempty"`
}

type savedMember struct {
	Family string `json:"family"`
	Data   []byte `json:"data"`
}

const savedFormat = "tabforge-ensemble/1"

// MarshalBinary implements model.Model: JSON holding each member's family
// and MarshalBinary encoding.
func (m *Model) MarshalBinary() ([]byte, error) {
	s := saved{Format: savedFormat, Kind: m.kind, Task: m.task, Outputs: m.outputs, Weights: m.weights, Passthrough: m.passthrough}
	for i, mm := range m.members {
		data, err := mm.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("ensemble: encode member %d (%s): %w", i, mm.Family(), err)
		}
		s.Members = append(s.Members, savedMember{Family: mm.Family(), Data: data})
	}
	if m.meta != nil {
		data, err := m.meta.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("ensemble: encode meta-learner: %w", err)
		}
		s.Meta = data
	}
	return json.Marshal(s)
}

// Decoder returns the Decode function of the ensemble family: it restores
// each member with its family's Decode from reg (which may hold the
// ensemble family itself, for nested ensembles).
func Decoder(reg *model.Registry) func([]byte) (model.Model, error) {
	return func(data []byte) (model.Model, error) {
		if err := checkFormat(data, "ensemble model", "tabforge-ensemble/"); err != nil {
			return nil, fmt.Errorf("ensemble: decode: %w", err)
		}
		var s saved
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("ensemble: decode: %w", err)
		}
		if s.Format != savedFormat {
			return nil, fmt.Errorf("ensemble: decode: format %q, want %q", s.Format, savedFormat)
		}
		members := make([]model.Model, len(s.Members))
		for i, sm := range s.Members {
			fam, err := reg.Lookup(sm.Family)
			if err != nil {
				return nil, fmt.Errorf("ensemble: decode member %d: %w", i, err)
			}
			if members[i], err = fam.Decode(sm.Data); err != nil {
				return nil, fmt.Errorf("ensemble: decode member %d (%s): %w", i, sm.Family, err)
			}
		}
		k, err := checkMembers(members)
		if err != nil {
			return nil, fmt.Errorf("ensemble: decode: %w", err)
		}
		if k != s.Outputs {
			return nil, fmt.Errorf("ensemble: decode: members have %d outputs, ensemble %d", k, s.Outputs)
		}
		switch s.Kind {
		case KindVoting:
			m, err := Voting(members, s.Weights)
			if err != nil {
				return nil, fmt.Errorf("ensemble: decode: %w", err)
			}
			if len(m.members) != len(members) {
				return nil, errors.New("ensemble: decode: zero voting weight")
			}
			return m, nil
		case KindStacking:
			meta, err := linear.Decode(s.Meta)
			if err != nil {
				return nil, fmt.Errorf("ensemble: decode meta-learner: %w", err)
			}
			if meta.NumOutputs() != k || meta.NumFeatures() != len(members)*k+s.Passthrough {
				return nil, fmt.Errorf("ensemble: decode: meta-learner has %d features and %d outputs, want %d and %d",
					meta.NumFeatures(), meta.NumOutputs(), len(members)*k+s.Passthrough, k)
			}
			return &Model{kind: KindStacking, task: s.Task, outputs: k, members: members, meta: meta, passthrough: s.Passthrough}, nil
		}
		return nil, fmt.Errorf("ensemble: decode: unknown kind %q", s.Kind)
	}
}

// Family returns the ensemble family for reg, whose Decode is Decoder(reg).
// Register it in reg itself so saved ensembles load like any model.
// Ensembles are built from fitted members (Voting, FitStacking, Select),
// so its New returns an error.
func Family(reg *model.Registry) model.Family {
	return model.Family{
		Name:  FamilyName,
		Tasks: []model.Task{model.Regression, model.Binary, model.Multiclass},
		New: func(model.Task, uint64, json.RawMessage) (model.Learner, error) {
			return nil, errors.New("ensemble: ensembles are built from fitted members (Voting, FitStacking, Select), not from parameters")
		},
		Decode: Decoder(reg),
	}
}
