package ensemble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

// Combiner combines members' predictions that were computed elsewhere:
// the ensemble of a multi-member predictor whose members each apply their
// own preprocessing, so no single input matrix feeds them all. It is the
// combining half of Model without the members: weighted voting, or a
// stacking meta-learner on the members' outputs (no passthrough, since the
// members share no feature matrix). A Combiner is immutable and safe for
// concurrent use.
type Combiner struct {
	kind    Kind
	members int
	outputs int
	weights []float64     // voting
	meta    *linear.Model // stacking
}

// VotingCombiner returns a combiner averaging members members' outputs
// (outputs values per row) with weights, normalised to sum 1; nil means
// equal weights. Zero weights are allowed: that member is ignored.
func VotingCombiner(members, outputs int, weights []float64) (*Combiner, error) {
	if members < 1 || outputs < 1 {
		return nil, fmt.Errorf("ensemble: combiner of %d members with %d outputs", members, outputs)
	}
	w, err := normalise(weights, members)
	if err != nil {
		return nil, err
	}
	return &Combiner{kind: KindVoting, members: members, outputs: outputs, weights: w}, nil
}

// FitStackingCombiner fits a stacking meta-learner (ridge for regression,
// logistic for classification, penalties as in StackingOptions) on the
// members' out-of-fold predictions oof (oof[i] holds member i's outputs,
// row-major, for the rows of y). The meta-learner sees out-of-fold
// predictions only; opts.Passthrough must be nil.
func FitStackingCombiner(ctx context.Context, oof [][]float64, y []float64, task model.Task, numClasses int, opts StackingOptions) (*Combiner, error) {
	if opts.Passthrough != nil {
		return nil, errors.New("ensemble: a combiner has no original features to pass through")
	}
	if len(oof) == 0 || len(y) == 0 {
		return nil, errors.New("ensemble: stacking combiner: no members or no rows")
	}
	k := len(oof[0]) / len(y)
	if k < 1 {
		return nil, fmt.Errorf("ensemble: stacking combiner: %d values for %d rows", len(oof[0]), len(y))
	}
	meta, err := fitMeta(ctx, oof, k, y, task, numClasses, opts)
	if err != nil {
		return nil, err
	}
	return &Combiner{kind: KindStacking, members: len(oof), outputs: k, meta: meta}, nil
}

// fitMeta checks oof and fits the meta-learner on it (and on
// opts.Passthrough, if set).
func fitMeta(ctx context.Context, oof [][]float64, k int, y []float64, task model.Task, numClasses int, opts StackingOptions) (*linear.Model, error) {
	n := len(y)
	for i, p := range oof {
		if len(p) != n*k {
			return nil, fmt.Errorf("ensemble: member %d has %d out-of-fold values, want %d rows × %d", i, len(p), n, k)
		}
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("ensemble: member %d out-of-fold value %d is %v", i, j, v)
			}
		}
	}
	if opts.Passthrough != nil && opts.Passthrough.Rows != n {
		return nil, fmt.Errorf("ensemble: passthrough has %d rows, want %d", opts.Passthrough.Rows, n)
	}
	d := &model.Dataset{
		X: metaFeatures(oof, k, n, opts.Passthrough), Y: y, Weights: opts.Weights,
		Task: task, NumClasses: numClasses,
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("ensemble: stacking: %w", err)
	}
	var meta *linear.Model
	var err error
	switch {
	case task == model.Regression:
		alpha := opts.Alpha
		if alpha == 0 {
			alpha = 1
		}
		meta, err = linear.Regression{Alpha: alpha}.Train(ctx, d, opts.Fit)
	case task.IsClassification():
		c := opts.C
		if c == 0 {
			c = 1
		}
		meta, err = linear.Logistic{C: c}.Train(ctx, d, opts.Fit)
	default:
		return nil, fmt.Errorf("ensemble: unknown task %q", task)
	}
	if err != nil {
		return nil, fmt.Errorf("ensemble: stacking meta-learner: %w", err)
	}
	if meta.NumOutputs() != k {
		return nil, fmt.Errorf("ensemble: meta-learner has %d outputs, members %d", meta.NumOutputs(), k)
	}
	return meta, nil
}

// Kind returns how c combines.
func (c *Combiner) Kind() Kind { return c.kind }

// NumMembers returns the number of member predictions c expects.
func (c *Combiner) NumMembers() int { return c.members }

// NumOutputs returns the number of values per row c reads from each
// member and writes.
func (c *Combiner) NumOutputs() int { return c.outputs }

// Weights returns the voting weights (summing to 1), or nil for stacking.
func (c *Combiner) Weights() []float64 { return append([]float64(nil), c.weights...) }

// Meta returns the stacking meta-learner, or nil for voting: a linear
// model of the members' outputs side by side (member i's output k at
// column i*NumOutputs()+k). It is immutable.
func (c *Combiner) Meta() *linear.Model { return c.meta }

// Used returns the indices of the members c's combination reads, and a
// combiner over those members alone that combines their predictions
// exactly as c combines all of them: a voting member with weight 0 (greedy
// selection leaves most candidates at 0) is dropped, so a predictor need
// not run a model whose output is multiplied by nothing. A stacking
// combiner reads every member; it comes back as it is.
func (c *Combiner) Used() ([]int, *Combiner) {
	var used []int
	for i := range c.members {
		if c.kind != KindVoting || c.weights[i] != 0 {
			used = append(used, i)
		}
	}
	if len(used) == c.members {
		return used, c
	}
	u := *c
	u.members, u.weights = len(used), make([]float64, len(used))
	for j, i := range used {
		u.weights[j] = c.weights[i]
	}
	return used, &u
}

// Params describes c: its kind and voting weights or meta-learner
// coefficients.
func (c *Combiner) Params() map[string]any {
	p := map[string]any{"kind": string(c.kind)}
	if c.kind == KindVoting {
		p["weights"] = c.Weights()
	} else {
		p["meta"] = c.meta.Family()
		p["meta_coef"] = c.meta.Coef()
		p["meta_intercept"] = c.meta.Intercept()
	}
	return p
}

// Combine writes into dst (rows×NumOutputs values) the combination of
// preds, where preds[i] holds member i's outputs for the same rows.
func (c *Combiner) Combine(dst []float64, preds [][]float64) error {
	if len(preds) != c.members {
		return fmt.Errorf("ensemble: %d member predictions, combiner has %d members", len(preds), c.members)
	}
	for i, p := range preds {
		if len(p) != len(dst) {
			return fmt.Errorf("ensemble: member %d has %d values, dst %d", i, len(p), len(dst))
		}
	}
	if len(dst)%c.outputs != 0 {
		return fmt.Errorf("ensemble: dst has %d values, not a multiple of %d outputs", len(dst), c.outputs)
	}
	switch c.kind {
	case KindVoting:
		clear(dst)
		for i, p := range preds {
			w := c.weights[i]
			if w == 0 {
				continue
			}
			for j, v := range p {
				dst[j] += w * v
			}
		}
		return nil
	case KindStacking:
		z := metaFeatures(preds, c.outputs, len(dst)/c.outputs, nil)
		if err := c.meta.Predict(dst, z); err != nil {
			return fmt.Errorf("ensemble: meta-learner: %w", err)
		}
		return nil
	}
	return fmt.Errorf("ensemble: unknown kind %q", c.kind)
}

type savedCombiner struct {
	Format  string    `json:"format"`
	Kind    Kind      `json:"kind"`
	Members int       `json:"members"`
	Outputs int       `json:"outputs"`
	Weights []float64 `json:"weights,omitempty"`
	Meta    []byte    `json:"meta,omitempty"`
}

const combinerFormat = "tabforge-combiner/1"

// checkFormat reads only the "format" tag of an encoding (prefix and a
// version number) and returns an error wrapping formatversion.ErrNewer
// when its version is above 1, the only one this build writes. It runs
// before the full decode, whose rules a newer encoding may not follow.
func checkFormat(data []byte, what, prefix string) error {
	var tag struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(data, &tag) != nil {
		return nil // the full decode says what is wrong
	}
	return formatversion.CheckTag(what, tag.Format, prefix, 1)
}

// MarshalBinary encodes c as JSON (the meta-learner in its own encoding).
func (c *Combiner) MarshalBinary() ([]byte, error) {
	s := savedCombiner{Format: combinerFormat, Kind: c.kind, Members: c.members, Outputs: c.outputs, Weights: c.weights}
	if c.meta != nil {
		data, err := c.meta.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("ensemble: encode meta-learner: %w", err)
		}
		s.Meta = data
	}
	return json.Marshal(s)
}

// DecodeCombiner restores a combiner encoded by MarshalBinary.
func DecodeCombiner(data []byte) (*Combiner, error) {
	if err := checkFormat(data, "combiner", "tabforge-combiner/"); err != nil {
		return nil, fmt.Errorf("ensemble: decode combiner: %w", err)
	}
	var s savedCombiner
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("ensemble: decode combiner: %w", err)
	}
	if s.Format != combinerFormat {
		return nil, fmt.Errorf("ensemble: decode combiner: format %q, want %q", s.Format, combinerFormat)
	}
	switch s.Kind {
	case KindVoting:
		c, err := VotingCombiner(s.Members, s.Outputs, s.Weights)
		if err != nil {
			return nil, fmt.Errorf("ensemble: decode combiner: %w", err)
		}
		return c, nil
	case KindStacking:
		meta, err := linear.Decode(s.Meta)
		if err != nil {
			return nil, fmt.Errorf("ensemble: decode meta-learner: %w", err)
		}
		if s.Members < 1 || meta.NumOutputs() != s.Outputs || meta.NumFeatures() != s.Members*s.Outputs {
			return nil, fmt.Errorf("ensemble: decode combiner: meta-learner has %d features and %d outputs, want %d and %d",
				meta.NumFeatures(), meta.NumOutputs(), s.Members*s.Outputs, s.Outputs)
		}
		return &Combiner{kind: KindStacking, members: s.Members, outputs: s.Outputs, meta: meta}, nil
	}
	return nil, fmt.Errorf("ensemble: decode combiner: unknown kind %q", s.Kind)
}
