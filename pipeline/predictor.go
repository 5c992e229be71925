package pipeline

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// Field names one input column the predictor reads and its kind.
type Field struct {
	Name string     `json:"name"`
	Kind frame.Kind `json:"kind"`
	// Levels are a categorical column's labels seen in training, sorted,
	// for the unseen-category check (nil: not checked, as in models saved
	// before the check existed or columns with very many labels).
	Levels []string `json:"levels,omitempty"`
}

// Target describes what a predictor predicts.
type Target struct {
	Name string     `json:"name"`
	Task model.Task `json:"task"`
	// Classes are the class labels in class-index order (classification).
	Classes []string `json:"classes,omitempty"`
}

// Predictor is a trained model with everything needed to apply it to raw
// data: the input schema, the fitted preprocessing and the target coding.
// It is what `tabforge train` saves and `tabforge predict` loads.
type Predictor struct {
	Target Target
	Schema []Field
	// Chain holds the fitted advanced feature stages, applied before
	// Design; empty on the basic path.
	Chain  features.FittedChain
	Design *features.Design
	Model  model.Model
	// Members, when not empty, make p an ensemble: each member applies
	// its own feature chain, design and model to p's input, and Combiner
	// combines their outputs. Chain, Design and Model are then nil.
	Members  []Member
	Combiner *ensemble.Combiner
	// Name is the model's leaderboard name ("gbdt+adv",
	// "ensemble:average"), the one name train, the registry and every
	// command show for it; empty in files saved before it was recorded
	// and for models imported from other tools.
	Name    string
	RunID   string
	Dataset string // dataset hash the model was trained on
	// Routes, when set, sends each row to the predictor of its segment;
	// rows of other segments use p's own model (or ensemble).
	Routes *Routes
	// Metrics are the holdout metrics the model was judged on, and
	// Lineage where it came from (see Contract); both empty in models
	// saved before they were recorded.
	Metrics eval.Metrics
	Lineage Lineage
	// Background is a seeded sample of training rows of the input
	// columns, as CSV: what KernelSHAP measures an explanation on raw
	// inputs against (see Explain), so that explaining a single row does
	// not measure it against itself. Empty in models saved before.
	Background string
	// Missing are the texts its training data read as missing
	// (frame.ReadOptions.Missing, from the config's missing_values), which
	// new data is read with (see ReadOptions); nil in models saved before
	// they were recorded, which read with frame's default.
	Missing []string
	// ColumnMissing are the texts its training data read as missing in
	// single columns besides Missing (frame.ReadOptions.ColumnMissing,
	// from the mapping form of missing_values), which new data is read
	// with too; nil for none. Set only with Missing.
	ColumnMissing map[string][]string
}

// Routes are per-segment predictors keyed by the label of a segment
// column (see SegmentLabel).
type Routes struct {
	Column string
	Models map[string]*Predictor
}

// Member is one model of an ensemble predictor with its own preprocessing.
type Member struct {
	// Name is the candidate the member came from, e.g. "gbdt".
	Name   string
	Chain  features.FittedChain
	Design *features.Design
	Model  model.Model
}

// Family names p's model: its leaderboard name (Name: "gbdt+adv",
// "ensemble:average"), else its family ("ensemble:KIND" for an ensemble
// saved before names were recorded), with an ensemble's members listed
// apart by MemberNames. A predictor with per-segment routes reads "FAMILY
// routed by COLUMN".
func (p *Predictor) Family() string {
	var name string
	switch {
	case p.Name != "":
		name = p.Name
	case len(p.Members) > 0 && p.Combiner != nil:
		name = fmt.Sprintf("%s:%s", ensemble.FamilyName, p.Combiner.Kind())
	case p.Model != nil:
		name = p.Model.Family()
	default:
		name = "unknown"
	}
	if p.Routes != nil {
		name += " routed by " + p.Routes.Column
	}
	return name
}

// MemberNames returns the candidates an ensemble predictor combines, in
// order ("ridge", "tree"), or nil for a single model.
func (p *Predictor) MemberNames() []string {
	if len(p.Members) == 0 {
		return nil
	}
	names := make([]string, len(p.Members))
	for i, m := range p.Members {
		names[i] = m.Name
	}
	return names
}

// Prediction holds a predictor's output for a batch of rows.
type Prediction struct {
	// Values are the predictions for regression, or the probability of
	// class 1 (Target.Classes[1]) for binary tasks; nil for multiclass.
	Values []float64
	// Probs are class probabilities for classification, row-major
	// n×len(Target.Classes) of the predictor, in Target.Classes order:
	// row i, class c at Probs[i*len(Target.Classes)+c].
	Probs []float64
	// Labels are the predicted class labels for classification.
	Labels []string
}

// NonFiniteError reports a row whose inputs lie so far outside the
// training data (1e308, say) that the arithmetic overflowed to NaN or
// ±Inf: in a design feature, or in the model's output. It is the input's
// fault, not the model's.
type NonFiniteError struct {
	Row   int // 0-based row of the input
	Value float64
	// Feature names the design feature that overflowed; "" means the
	// model's output did.
	Feature string
}

func (e *NonFiniteError) Error() string {
	what := "model produced"
	if e.Feature != "" {
		what = fmt.Sprintf("feature %q is", e.Feature)
	}
	// Rows are counted from 1 in messages, as the data readers count them.
	return fmt.Sprintf("%s %v for row %d: its inputs are out of the range the model can compute with", what, e.Value, e.Row+1)
}

// Predict applies p to the rows of x. x must contain every input column
// of p's schema with a compatible kind; extra columns are ignored.
func (p *Predictor) Predict(x *frame.Frame) (*Prediction, error) {
	return p.PredictContext(context.Background(), x)
}

// PredictContext is Predict that stops when ctx ends, between blocks of
// predictBlockRows rows (models take no context), and returns ctx's
// error: a batch of millions of rows can be interrupted.
func (p *Predictor) PredictContext(ctx context.Context, x *frame.Frame) (*Prediction, error) {
	if err := p.checkSchema(x); err != nil {
		return nil, err
	}
	out, rows, err := p.raw(ctx, x)
	if err != nil {
		return nil, err
	}
	return p.prediction(out, rows, 0)
}

// prediction makes the Prediction of raw outputs out of rows rows, the
// first of them row first of the input (for the row an error names).
func (p *Predictor) prediction(out []float64, rows, first int) (*Prediction, error) {
	k := len(out) / max(1, rows)
	for i, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("predict: %w", &NonFiniteError{Row: first + i/k, Value: v})
		}
	}
	pred := &Prediction{}
	switch p.Target.Task {
	case model.Regression:
		pred.Values = out
	case model.Binary:
		pred.Values = out
		pred.Probs = make([]float64, 2*len(out))
		pred.Labels = make([]string, len(out))
		for i, p1 := range out {
			pred.Probs[2*i], pred.Probs[2*i+1] = 1-p1, p1
			pred.Labels[i] = p.Target.Classes[btoi(p1 >= 0.5)]
		}
	case model.Multiclass:
		k := len(p.Target.Classes)
		pred.Probs = out
		pred.Labels = make([]string, rows)
		for i := range rows {
			row := out[i*k : (i+1)*k]
			best := 0
			for c := range row {
				if row[c] > row[best] {
					best = c
				}
			}
			pred.Labels[i] = p.Target.Classes[best]
		}
	}
	return pred, nil
}

// raw returns p's model outputs on x (NumOutputs per row) and the number
// of rows; x has passed checkSchema.
func (p *Predictor) raw(ctx context.Context, x *frame.Frame) ([]float64, int, error) {
	if p.Routes != nil {
		return p.route(ctx, x)
	}
	return p.rawOwn(ctx, x)
}

// rawOwn is raw for p's own model or ensemble, ignoring Routes.
func (p *Predictor) rawOwn(ctx context.Context, x *frame.Frame) ([]float64, int, error) {
	if len(p.Members) == 0 {
		out, err := applyModel(ctx, x, p.Chain, p.Design, p.Model)
		return out, x.NumRows(), err
	}
	// Members run concurrently: one member's sequential steps (reading
	// its design matrix, say) overlap the others' parallel prediction.
	// Models and fitted features are safe for concurrent use.
	preds := make([][]float64, len(p.Members))
	var g errgroup.Group
	for i, m := range p.Members {
		g.Go(func() (err error) {
			defer par.Recover(&err) // a member's panic fails this prediction, not the process
			out, err := applyModel(ctx, x, m.Chain, m.Design, m.Model)
			if err != nil {
				return &rowError{prefix: "member " + m.Name + ": ", err: err}
			}
			preds[i] = out
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	out := make([]float64, len(preds[0]))
	if err := p.Combiner.Combine(out, preds); err != nil {
		return nil, 0, fmt.Errorf("predict: %w", err)
	}
	return out, x.NumRows(), nil
}

// applyModel runs one fitted chain, design and model on x.
func applyModel(ctx context.Context, x *frame.Frame, chain features.FittedChain, design *features.Design, m model.Model) ([]float64, error) {
	if len(chain) > 0 {
		var err error
		if x, err = chain.Transform(x); err != nil {
			return nil, fmt.Errorf("advanced features: %w", err)
		}
	}
	n, k := x.NumRows(), m.NumOutputs()
	out := make([]float64, n*k)
	for lo := 0; lo < n || lo == 0; lo += predictBlockRows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+predictBlockRows, n)
		if err := applyBlock(out[lo*k:hi*k], x, lo, hi, design, m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// predictBlockRows is the most rows one design matrix holds when
// predicting: a large batch is encoded and predicted a block at a time,
// so that memory holds one block's matrix per model rather than the
// whole batch's (a 3-model ensemble predicting 1M rows of credit data
// peaked at 680 MB with the whole batch's matrices).
const predictBlockRows = 1 << 16

// applyBlock predicts x's rows [lo, hi) into out. The matrix lives only
// for m.Predict (models keep no reference to their input), so its array
// goes back to the pool afterwards.
func applyBlock(out []float64, x *frame.Frame, lo, hi int, design *features.Design, m model.Model) error {
	mat, err := design.RowsTo(designArrays.get((hi-lo)*design.NumFeatures()), x, lo, hi)
	if err != nil {
		return err
	}
	defer designArrays.put(mat.Data)
	if err := m.Predict(out, mat); err != nil {
		// A model that refuses infinite features (linear ones do) was
		// given a value so far outside the training data that encoding
		// it overflowed (1e308, standardised): the input's fault, said
		// as Predict says it of an overflowing output. Models that route
		// ±Inf (trees) are not held to it.
		if nf := infiniteFeature(mat, design, lo); nf != nil {
			return &rowError{prefix: "predict: ", err: nf}
		}
		return fmt.Errorf("predict: %w", err)
	}
	return nil
}

// rowError is err with a prefix, formatted when read rather than when
// wrapped (as fmt.Errorf would): the row of a *NonFiniteError in err is
// counted in the rows at hand, and a caller that gave a block of a longer
// input (PredictStream) renumbers it afterwards, through errors.As.
type rowError struct {
	prefix string
	err    error
}

func (e *rowError) Error() string { return e.prefix + e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }

// infiniteFeature returns the first ±Inf value of mat, a design block
// whose first row is row lo of the batch, or nil when there is none.
func infiniteFeature(mat *model.Matrix, design *features.Design, lo int) *NonFiniteError {
	for i, v := range mat.Data {
		if math.IsInf(v, 0) {
			name := design.FeatureNames()[i%mat.Cols]
			return &NonFiniteError{Row: lo + i/mat.Cols, Value: v, Feature: name}
		}
	}
	return nil
}

// ReadOptions returns o with the missing-value texts p's training data
// was read with, so that a class or category spelled "NA" in a model
// trained to keep it is read as that label, not as missing, and a
// column's own texts (a blood pressure of 0) are missing in that column
// only. A model that records its texts (Missing, non-nil since they were
// kept) has its column texts, none included, replace o's; o keeps its
// own for a model saved before.
func (p *Predictor) ReadOptions(o frame.ReadOptions) frame.ReadOptions {
	if p.Missing != nil {
		o.Missing, o.ColumnMissing = p.Missing, p.ColumnMissing
	}
	return o
}

// TargetMissing returns the texts p's training data read as missing in
// its target column (Missing and the target's ColumnMissing), which the
// actuals of its predictions are read with; nil for a model that records
// none, read with frame's default.
func (p *Predictor) TargetMissing() []string {
	if p.Missing == nil {
		return nil
	}
	return p.ReadOptions(frame.ReadOptions{}).MissingIn(p.Target.Name)
}

// ReadSchema returns the column kinds p expects, to pin them when reading
// new data (frame.ReadOptions.Schema), so that a column inferred
// differently in a small batch (a categorical of digits, say) still reads
// as the model was trained. It names the feature columns only, so new
// rows without the target read with it as they are.
func (p *Predictor) ReadSchema() map[string]frame.Kind {
	m := make(map[string]frame.Kind, len(p.Schema)+1)
	for _, f := range p.Schema {
		m[f.Name] = f.Kind
	}
	return m
}

// InputSchema is ReadSchema with a classifier's target column pinned as
// text when its classes are not NumberCoded, for data that may hold the
// target (evaluation data, actuals), read with frame.ReadOptions'
// SchemaOptional: a batch of labels "01" and "1" would otherwise read as
// numbers, both class "1", where training read a column of text with two
// classes.
func (p *Predictor) InputSchema() map[string]frame.Kind {
	m := p.ReadSchema()
	if p.Target.Task != model.Regression && p.Target.Name != "" && !NumberCoded(p.Target.Classes) {
		m[p.Target.Name] = frame.Categorical
	}
	return m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SchemaError reports input data that does not fit a predictor's schema.
type SchemaError struct {
	Column string
	Reason string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("column %q: %s", e.Column, e.Reason)
}

func (p *Predictor) checkSchema(x *frame.Frame) error {
	return p.CheckInput(x).Err(false)
}
