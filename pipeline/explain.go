package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// ExplainInput is a predictor applied to a frame, in the feature space
// its explanations use. For a single model that is the design matrix the
// model sees (Model is set, FeatureNames are the design's). An ensemble
// or a predictor with per-segment routes has no single design, so it is
// explained on its raw input columns (Raw): numeric columns as their
// values, datetime ones as their civil time (frame.Column.Local, Unix
// seconds of the wall clock as written; their instants for a predictor
// with features saved before offsets were kept, which read those),
// categorical ones as codes into the data's levels, and Predict rebuilds
// a frame from such a matrix and runs the whole predictor. Raw explanations of a predictor whose feature chain looks
// across rows (panel history features) see synthetic rows' history, so
// they approximate those features' effects.
type ExplainInput struct {
	X            *model.Matrix
	FeatureNames []string
	// Categorical marks the columns holding category codes.
	Categorical []bool
	// Predict writes Outputs raw outputs per row: the model's Predict, or
	// the whole predictor's on raw inputs.
	Predict explain.Func
	Outputs int
	// Model is the single model explained in design space; nil when Raw.
	Model model.Model
	Raw   bool
	// frame rebuilds a frame of the input columns from rows of a raw
	// matrix, as Predict does; nil unless Raw.
	frame func(m *model.Matrix) (*frame.Frame, error)
}

// NewExplainInput checks x against p's schema (a missing column or a
// column of another kind is a *SchemaError) and returns p's input for
// explainers: the design matrix of x for a single model (p's feature
// chain and design applied to all rows of x), or x's raw input columns
// for an ensemble or a routed predictor.
func NewExplainInput(p *Predictor, x *frame.Frame) (*ExplainInput, error) {
	if err := p.checkSchema(x); err != nil {
		return nil, err
	}
	if len(p.Members) == 0 && p.Routes == nil {
		return designInput(p, x, nil)
	}
	return rawInput(p, x, nil)
}

// designInput is a single model's explanation input of x: the design
// matrix of all of x's rows when rows is nil, else of rows alone, in
// rows' order (a row out of range is left zero, for the caller to
// refuse). Every row is still encoded, a block at a time, so a value the
// design refuses fails as it does for the whole matrix, naming the same
// row; only the rows asked for are kept, which on a 5M-row file is the
// difference between a few MB and over a GB.
func designInput(p *Predictor, x *frame.Frame, rows []int) (*ExplainInput, error) {
	xt := x
	if len(p.Chain) > 0 {
		// The chain sees every row, as it does when predicting: its
		// features may look across rows.
		var err error
		if xt, err = p.Chain.Transform(x); err != nil {
			return nil, fmt.Errorf("advanced features: %w", err)
		}
	}
	var mat *model.Matrix
	var err error
	if rows == nil {
		mat, err = p.Design.Matrix(xt)
	} else {
		mat, err = designRows(p, xt, rows)
	}
	if err != nil {
		return nil, err
	}
	return designed(p, mat), nil
}

// designed is the explanation input of a single model p whose design
// matrix is mat.
func designed(p *Predictor, mat *model.Matrix) *ExplainInput {
	m := p.Model
	return &ExplainInput{X: mat, FeatureNames: p.Design.FeatureNames(), Categorical: p.Design.Categorical(),
		Predict: m.Predict, Outputs: m.NumOutputs(), Model: m}
}

// rawInput lays x's schema columns out as a matrix and returns the
// predictor on such matrices. zones are those of the schema's datetime
// columns, in schema order, when x holds some of the rows they are of;
// nil means x's own.
func rawInput(p *Predictor, x *frame.Frame, zones []*datetimeZones) (*ExplainInput, error) {
	n, k := x.NumRows(), len(p.Schema)
	in := &ExplainInput{X: model.NewMatrix(n, k), Categorical: make([]bool, k), Raw: true}
	tmpl := make([]*frame.Column, k)
	if zones == nil {
		zones = make([]*datetimeZones, k)
		civil := !p.readsInstants()
		for j, f := range p.Schema {
			c, _ := x.Lookup(f.Name) // checkSchema found it
			zones[j] = newDatetimeZones(c, civil)
		}
	}
	for j, f := range p.Schema {
		c, _ := x.Lookup(f.Name)
		tmpl[j] = c
		in.FeatureNames = append(in.FeatureNames, f.Name)
		in.Categorical[j] = c.Kind == frame.Categorical
		for r := range n {
			v := math.NaN()
			if c.Kind == frame.Categorical {
				if c.Codes[r] >= 0 {
					v = float64(c.Codes[r])
				}
			} else if zones[j] != nil {
				v = zones[j].value(c, r)
			} else {
				v = c.Num[r]
			}
			in.X.Data[r*k+j] = v
		}
	}
	in.Outputs = outputsOf(p)
	in.frame = func(m *model.Matrix) (*frame.Frame, error) {
		cols := make([]*frame.Column, k)
		for j, t := range tmpl {
			cols[j] = rawColumn(t, zones[j], m, j)
		}
		return frame.New(cols...)
	}
	in.Predict = func(dst []float64, m *model.Matrix) error {
		f, err := in.frame(m)
		if err != nil {
			return err
		}
		out, _, err := p.raw(context.Background(), f)
		if err != nil {
			return err
		}
		if len(out) != len(dst) {
			return fmt.Errorf("predictor wrote %d outputs for %d rows of %d", len(out), m.Rows, in.Outputs)
		}
		copy(dst, out)
		return nil
	}
	return in, nil
}

// rawColumn rebuilds column j of a raw input matrix m as a column like
// t: codes into t's levels, a datetime at the instants and offsets of
// its values (zones; nil when t keeps no offsets), or numbers.
func rawColumn(t *frame.Column, zones *datetimeZones, m *model.Matrix, j int) *frame.Column {
	if t.Kind == frame.Categorical {
		codes := make([]int32, m.Rows)
		for r := range m.Rows {
			v := m.At(r, j)
			codes[r] = -1
			if !math.IsNaN(v) && v >= 0 && int(v) < len(t.Levels) {
				codes[r] = int32(math.Round(v))
			}
		}
		return frame.NewCategorical(t.Name, codes, t.Levels)
	}
	v := make([]float64, m.Rows)
	for r := range m.Rows {
		v[r] = m.At(r, j)
	}
	if zones != nil {
		return zones.column(t.Name, v)
	}
	return &frame.Column{Name: t.Name, Kind: t.Kind, Num: v}
}

// outputsOf is the number of raw outputs per row of p.
func outputsOf(p *Predictor) int {
	switch {
	case len(p.Members) > 0:
		return p.Combiner.NumOutputs()
	case p.Model != nil:
		return p.Model.NumOutputs()
	case p.Target.Task == model.Multiclass:
		return len(p.Target.Classes)
	}
	return 1
}

// ExplainOptions configure Explain.
type ExplainOptions struct {
	explain.Options
	// Rows are the data rows to explain, any order, each in range; nil
	// means a sample of MaxRows rows (all rows when MaxRows <= 0 or the
	// data is smaller), drawn with Seed. An empty list, like data
	// without rows, is an error (explain.ErrNoRows).
	Rows []int
	// MaxRows caps the rows explained when Rows is nil: the
	// max_explain_rows config key.
	MaxRows int
	// Raw explains the whole predictor on its raw input columns with
	// KernelSHAP even when it is a single model with an exact explainer.
	Raw bool
}

// Explain computes SHAP values of predictor p on rows of frame x: with
// explain.Explain (TreeSHAP, linear SHAP or KernelSHAP) on the design
// matrix of a single model (of the explained rows alone when they are
// measured against training rows, so a sample of a large file costs its
// rows, not the file's; of all rows otherwise), and on the raw input columns
// for an ensemble or routed predictor (see ExplainInput): exactly, from
// the members' exact values, for an ensemble whose members all have
// exact explainers of their predictions and whose combiner is linear in
// them (see exactEnsemble), with interventional SHAP (the members'
// margins rescaled through their links; explain.InterventionalSHAP) for
// one whose classifier or log(1+y) members allow that, against
// up to o.InterventionalBackground of the background rows, else with KernelSHAP,
// noting why in Values.Notes. KernelSHAP's background is the training
// rows the predictor keeps (Predictor.Background, read on every call),
// or all rows of x for a predictor saved without them. Values.RowIndex holds the data row of each explained row,
// Values.X their feature values, and OutputNames the class labels when
// outputs are per class, or the positive class of a binary classifier.
func Explain(ctx context.Context, p *Predictor, x *frame.Frame, o ExplainOptions) (*explain.Values, error) {
	e, err := setUpExplanation(p, x, o)
	if err != nil {
		return nil, err
	}
	return e.explain(ctx, p, x, o)
}

// explain computes the SHAP values of e's rows, as Explain does; x, the
// data, is read only to explain raw inputs, and not when e.xr holds the
// rows explained.
func (e *explanation) explain(ctx context.Context, p *Predictor, x *frame.Frame, o ExplainOptions) (*explain.Values, error) {
	in, rows, sub := e.in, e.rows, e.sub
	opts := o.Options
	opts.FeatureNames = in.FeatureNames
	if opts.Background == nil {
		opts.Background = e.background
	}
	var v *explain.Values
	var err error
	if in.Raw {
		xr := e.xr
		if xr == nil {
			xr = x.Take(rows)
		}
		if v, err = explainRaw(ctx, p, xr, e, opts, o.Raw); err != nil {
			return nil, err
		}
	} else if v, err = explain.Explain(ctx, in.Model, sub, opts); err != nil {
		return nil, err
	}
	if (v.Method == explain.MethodKernel || v.Method == explain.MethodInterventional) && !e.training {
		// The reference is every row of x (interventional SHAP: a sample
		// of them), not just the ones explained (--rows picks among
		// them): say which, and how many.
		which := fmt.Sprintf("the %d rows", e.n)
		limit := cmp.Or(max(opts.InterventionalBackground, 0), explain.InterventionalBackground)
		if v.Method == explain.MethodInterventional && e.n > limit {
			which = fmt.Sprintf("%d rows sampled from the %d", limit, e.n)
		}
		v.Notes = append(v.Notes, fmt.Sprintf("measured against %s of the data given, not training rows: the model was saved without them (retrain it to keep them); with one data row every value is 0", which))
	}
	for i, x := range v.Values {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("explain: %w", &NonFiniteError{Row: rows[i/(v.Outputs*v.Features)], Value: x})
		}
	}
	v.RowIndex = slices.Clone(rows)
	v.X = sub.Data
	switch {
	case v.Outputs > 1 && v.Outputs == len(p.Target.Classes):
		v.OutputNames = slices.Clone(p.Target.Classes)
	case v.Outputs == 1 && p.Target.Task == model.Binary && len(p.Target.Classes) == 2:
		// The one output is the positive class's probability or margin,
		// which need not be the class sorted last (credit's "bad" is
		// first): name it, as predict's prob_ columns are named.
		v.OutputNames = []string{p.Target.Classes[1]}
	}
	return v, nil
}

// LIME fits LIME surrogates (explain.LIME) of p's first output on rows
// of x, chosen as Explain chooses them, in the space Explain uses.
// Perturbations are drawn from the statistics of the training rows p
// keeps (Predictor.Background), or of all rows of x for a predictor saved
// without them: drawn from the explained rows alone, one row would
// explain nothing. It returns the surrogates (each Row a row of x) and
// the data row of each.
func LIME(ctx context.Context, p *Predictor, x *frame.Frame, o ExplainOptions) (*explain.LIMEExplanation, []int, error) {
	e, err := setUpExplanation(p, x, o)
	if err != nil {
		return nil, nil, err
	}
	return e.lime(ctx, o)
}

// lime fits LIME surrogates of e's rows, as LIME does.
func (e *explanation) lime(ctx context.Context, o ExplainOptions) (*explain.LIMEExplanation, []int, error) {
	in := e.in
	ex, err := explain.LIME(ctx, in.Predict, in.Outputs, e.sub, e.background,
		explain.LIMEOptions{Seed: o.Seed, Workers: o.Workers, Categorical: in.Categorical, Progress: o.Progress}, in.FeatureNames)
	if err != nil {
		return nil, nil, err
	}
	for i := range ex.Results {
		ex.Results[i].Row = e.rows[i] // the data row, not its place among the explained ones
	}
	return ex, e.rows, nil
}

// explanation is what Explain and LIME share: p's input for x, the rows
// of x to explain and their feature values, and the rows they are
// measured against.
type explanation struct {
	in   *ExplainInput
	n    int           // the data's rows
	rows []int         // rows of x
	sub  *model.Matrix // their values in in's space
	// held says that in.X holds, after its background rows, the rows
	// explained alone, in rows' order, not every data row; xr, when not
	// nil, are those rows of the data (on raw inputs).
	held bool
	xr   *frame.Frame
	// background is o.Background, else the design or raw rows of the
	// training sample p keeps, else all rows of x; training says it is
	// not x's.
	background *model.Matrix
	training   bool
}

// setUpExplanation builds the explanation input of x for p (see
// Explain) and picks the rows to explain (o.Rows, else a seeded sample
// of at most o.MaxRows). On raw inputs the training sample's rows go
// before x's in one frame, so that categorical codes agree; in design
// space they are designed apart, so that a feature chain looking across
// rows sees x's rows alone.
func setUpExplanation(p *Predictor, x *frame.Frame, o ExplainOptions) (*explanation, error) {
	if err := p.checkSchema(x); err != nil {
		return nil, err
	}
	raw := explainsRaw(p, o)
	keeps := o.Background == nil && p.Background != "" // use p's training rows
	return setUp(p, x.NumRows(), o, func(e *explanation, picked bool) (nb int, err error) {
		switch {
		case raw && keeps:
			e.in, nb, err = withBackground(p, x)
		case raw:
			e.in, err = rawInput(p, x, nil)
		case picked:
			e.in, err = designInput(p, x, e.rows)
		default:
			e.in, err = designInput(p, x, nil)
		}
		return nb, err
	})
}

// explainsRaw says whether p is explained on its raw input columns.
func explainsRaw(p *Predictor, o ExplainOptions) bool {
	return o.Raw || len(p.Members) > 0 || p.Routes != nil
}

// setUp picks the rows to explain of n data rows and completes the
// explanation whose input (e.in) input builds: of e.rows alone when
// picked, which is when the design space is explained against rows that
// are not the data's, else of all data rows, after nb background rows.
func setUp(p *Predictor, n int, o ExplainOptions, input func(e *explanation, picked bool) (nb int, err error)) (*explanation, error) {
	if n == 0 {
		return nil, fmt.Errorf("%w: the data has no rows", explain.ErrNoRows)
	}
	if o.Rows != nil && len(o.Rows) == 0 {
		// As for data without rows: on raw inputs and with LIME an empty
		// list used to pass, giving values of no row, while the design
		// space refused it.
		return nil, fmt.Errorf("%w: the row list is empty", explain.ErrNoRows)
	}
	raw := explainsRaw(p, o)
	keeps := o.Background == nil && p.Background != "" // use p's training rows
	e := &explanation{training: o.Background != nil || keeps, n: n}
	e.rows = o.Rows
	if e.rows == nil {
		e.rows = explain.SampleRows(n, o.MaxRows, o.Seed)
	}
	// picked says that in.X holds e.rows alone: in design space, when
	// the background is not x's own rows, nothing else of x is needed.
	// input may hold e.rows alone on raw inputs too (e.held).
	picked := !raw && e.training
	e.held = picked
	nb, err := input(e, picked)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Background != nil:
		e.background = o.Background
	case raw && keeps:
		e.background = e.in.X.TakeRows(seq(nb))
	case keeps:
		if e.background, err = designBackground(p, e.in.X.Cols); err != nil {
			return nil, err
		}
	default:
		e.background = e.in.X
	}
	for _, r := range e.rows {
		if r < 0 || r >= n {
			return nil, &explain.RowsError{Row: r, Rows: n}
		}
	}
	if e.held && nb == 0 {
		e.sub = e.in.X
	} else {
		shifted := make([]int, len(e.rows))
		for i, r := range e.rows {
			shifted[i] = nb + r
			if e.held {
				shifted[i] = nb + i
			}
		}
		e.sub = e.in.X.TakeRows(shifted)
	}
	if err := checkFinite(e.sub, e.in.FeatureNames, e.rows); err != nil {
		return nil, err
	}
	return e, nil
}

// checkFinite refuses an infinite feature value in sub, whose rows are
// the data rows rows.
func checkFinite(sub *model.Matrix, names []string, rows []int) error {
	for i, x := range sub.Data {
		if math.IsInf(x, 0) {
			name := fmt.Sprintf("column %d", i%sub.Cols)
			if i%sub.Cols < len(names) {
				name = names[i%sub.Cols]
			}
			return fmt.Errorf("explain: %w", &NonFiniteError{Row: rows[i/sub.Cols], Value: x, Feature: name})
		}
	}
	return nil
}

// explainRaw explains e's rows, xr, on p's raw input columns: exactly
// for an ensemble that allows it (exactEnsemble) unless KernelSHAP is
// asked for (method kernel, or raw, --raw's request for KernelSHAP over
// the whole pipeline), else with KernelSHAP, noting why.
func explainRaw(ctx context.Context, p *Predictor, xr *frame.Frame, e *explanation, opts explain.Options, raw bool) (*explain.Values, error) {
	auto := opts.Method == "" || opts.Method == explain.MethodAuto
	var why string
	if auto && !raw && len(p.Members) > 0 {
		bg, err := ensembleBackground(e.in, opts.Background, opts.InterventionalBackground, opts.Seed)
		if err != nil {
			return nil, err
		}
		v, err := exactEnsemble(ctx, p, xr, bg, e.in.FeatureNames, opts.Workers, opts.Seed, opts.Progress)
		if err == nil || !errors.Is(err, explain.ErrUnsupported) {
			return v, err
		}
		why = "no exact explanation: " + explain.Why(err)
	}
	v, err := kernelOnRaw(ctx, p, e.in, e.sub, opts)
	if err == nil && why != "" {
		v.Notes = append(v.Notes, why)
	}
	return v, err
}

// kernelOnRaw explains sub with KernelSHAP through p's whole pipeline on
// its raw input columns.
func kernelOnRaw(ctx context.Context, p *Predictor, in *ExplainInput, sub *model.Matrix, opts explain.Options) (*explain.Values, error) {
	if opts.Method != explain.MethodAuto && opts.Method != explain.MethodKernel && opts.Method != "" {
		return nil, fmt.Errorf("explain: %s predictors are explained with KernelSHAP on their raw inputs, not %s", p.Family(), opts.Method)
	}
	bg, err := backgroundOf(ctx, opts)
	if err != nil {
		return nil, err
	}
	v, err := explain.KernelSHAP(ctx, in.Predict, in.Outputs, sub, bg,
		explain.KernelOptions{Samples: opts.KernelSamples, Seed: opts.Seed, Workers: opts.Workers, Progress: opts.Progress}, in.FeatureNames)
	if err != nil {
		return nil, err
	}
	why := p.Family() + " has no single design matrix"
	if len(p.Members) == 0 && p.Routes == nil {
		why = "raw input columns asked for" // --raw on a single model, which has one
	}
	v.Notes = append(v.Notes, fmt.Sprintf("%s; explained with KernelSHAP on its raw input columns through the whole pipeline (categorical columns as level codes)", why))
	return v, nil
}
