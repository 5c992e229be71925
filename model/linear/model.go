package linear

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/internal/prob"
	"github.com/tabforge/tabforge/model"
)

// Family names, as registered by Families and reported by Model.Family.
const (
	FamilyOLS      = "ols"
	FamilyRidge    = "ridge"
	FamilyLogistic = "logistic"
)

// formatV1 tags the JSON encoding written by Model.MarshalBinary.
const formatV1 = "tabforge.linear/v1"

// fitParams are the resolved hyperparameters a model was fitted with.
type fitParams struct {
	Alpha        float64 `json:"alpha,omitempty"`    // least squares
	C            float64 `json:"c,omitempty"`        // logistic; 0 = no penalty
	MaxIter      int     `json:"max_iter,omitempty"` // logistic
	Tol          float64 `json:"tol,omitempty"`      // logistic
	FitIntercept bool    `json:"fit_intercept"`
}

// Model is a fitted linear model. It is immutable and safe for concurrent
// use. A regression or binary model has one row of coefficients; a
// multiclass model has one per class (multinomial parametrisation).
type Model struct {
	family       string
	task         model.Task
	numClasses   int
	p            int
	coef         []float64 // rows()×p, row-major
	intercept    []float64 // rows()
	means        []float64 // weighted training means of the features
	featureNames []string
	params       fitParams
	solver       string
	iterations   int
}

var _ model.Model = (*Model)(nil)

// rows returns the number of coefficient rows.
func (m *Model) rows() int {
	if m.task == model.Multiclass {
		return m.numClasses
	}
	return 1
}

// Family returns "ols", "ridge" or "logistic".
func (m *Model) Family() string { return m.family }

// Task returns the task the model was fitted for.
func (m *Model) Task() model.Task { return m.task }

// NumFeatures returns the number of input columns the model expects.
func (m *Model) NumFeatures() int { return m.p }

// NumOutputs returns 1 for regression and binary classification and the
// number of classes for multiclass classification.
func (m *Model) NumOutputs() int {
	if m.task == model.Multiclass {
		return m.numClasses
	}
	return 1
}

// Coef returns a copy of the coefficients: p values for regression and
// binary classification (the log-odds of class 1), NumOutputs()×p values
// row-major for multiclass (row k holds class k's scores). Coefficients
// refer to the model's input columns as given to Fit.
func (m *Model) Coef() []float64 { return append([]float64(nil), m.coef...) }

// Intercept returns a copy of the intercepts, one per coefficient row;
// zeros when the model was fitted without an intercept.
func (m *Model) Intercept() []float64 { return append([]float64(nil), m.intercept...) }

// Means returns a copy of the (sample-weighted) means of the training
// features, the baseline for linear SHAP values.
func (m *Model) Means() []float64 { return append([]float64(nil), m.means...) }

// Iterations returns the number of optimiser iterations a logistic model
// took (0 for least squares).
func (m *Model) Iterations() int { return m.iterations }

// Params returns the hyperparameters the model was fitted with: "alpha"
// (ridge), "c" (logistic; 0 means unpenalised), "max_iter", "tol" (logistic)
// and "fit_intercept".
func (m *Model) Params() map[string]any {
	out := map[string]any{"fit_intercept": m.params.FitIntercept}
	switch m.family {
	case FamilyRidge:
		out["alpha"] = m.params.Alpha
	case FamilyLogistic:
		out["c"] = m.params.C
		out["max_iter"] = m.params.MaxIter
		out["tol"] = m.params.Tol
	}
	return out
}

// Predict writes NumOutputs() values per row of x into dst: the predicted
// value (regression), the probability of class 1 (binary) or the class
// probabilities (multiclass). x must have NumFeatures() columns and no
// missing values.
func (m *Model) Predict(dst []float64, x *model.Matrix) error {
	if x == nil {
		return fmt.Errorf("linear: predict: nil matrix")
	}
	if x.Cols != m.p {
		return fmt.Errorf("linear: predict: matrix has %d columns, model expects %d", x.Cols, m.p)
	}
	k := m.NumOutputs()
	if len(x.Data) != x.Rows*x.Cols {
		return fmt.Errorf("linear: predict: matrix data has %d values, want %d×%d", len(x.Data), x.Rows, x.Cols)
	}
	if len(dst) != x.Rows*k {
		return fmt.Errorf("linear: predict: dst has length %d, want %d", len(dst), x.Rows*k)
	}
	nr := m.rows()
	for i := range x.Rows {
		row := x.Data[i*m.p : (i+1)*m.p]
		for j, v := range row {
			if v-v != 0 {
				return fmt.Errorf("linear: predict: row %d: %w", i, badValueError(m.featureNames, j, v))
			}
		}
		out := dst[i*k : (i+1)*k]
		for c := range nr {
			out[c] = m.intercept[c] + dot(m.coef[c*m.p:(c+1)*m.p], row)
		}
		switch m.task {
		case model.Binary:
			out[0] = prob.Sigmoid(out[0])
		case model.Multiclass:
			prob.Softmax(out, out)
		}
	}
	return nil
}

// savedModel is the JSON document MarshalBinary writes. Field order is
// fixed, so equal models encode to equal bytes.
type savedModel struct {
	Format       string     `json:"format"`
	Family       string     `json:"family"`
	Task         model.Task `json:"task"`
	NumClasses   int        `json:"num_classes,omitempty"`
	Features     int        `json:"features"`
	FeatureNames []string   `json:"feature_names,omitempty"`
	Coef         []float64  `json:"coef"`
	Intercept    []float64  `json:"intercept"`
	Means        []float64  `json:"means"`
	Params       fitParams  `json:"params"`
	Solver       string     `json:"solver,omitempty"`
	Iterations   int        `json:"iterations,omitempty"`
}

// MarshalBinary encodes the model as JSON; Decode restores it. Equal models
// give equal bytes, and floats round-trip exactly.
func (m *Model) MarshalBinary() ([]byte, error) {
	b, err := json.Marshal(savedModel{
		Format: formatV1, Family: m.family, Task: m.task, NumClasses: m.numClasses,
		Features: m.p, FeatureNames: m.featureNames, Coef: m.coef, Intercept: m.intercept,
		Means: m.means, Params: m.params, Solver: m.solver, Iterations: m.iterations,
	})
	if err != nil {
		return nil, fmt.Errorf("linear: encode model: %w", err)
	}
	return b, nil
}

// Decode restores a model written by Model.MarshalBinary, checking that
// its parts are consistent.
func Decode(data []byte) (*Model, error) {
	// The format is read first: a newer format's fields would fail the
	// strict decode and read as a malformed model, not a newer one.
	var tag struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(data, &tag) == nil {
		if err := formatversion.CheckTag("linear model", tag.Format, "tabforge.linear/v", 1); err != nil {
			return nil, fmt.Errorf("linear: decode model: %w", err)
		}
	}
	var s savedModel
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("linear: decode model: %w", err)
	}
	if s.Format != formatV1 {
		return nil, fmt.Errorf("linear: decode model: format %q, want %q", s.Format, formatV1)
	}
	m := &Model{
		family: s.Family, task: s.Task, numClasses: s.NumClasses, p: s.Features,
		coef: s.Coef, intercept: s.Intercept, means: s.Means, featureNames: s.FeatureNames,
		params: s.Params, solver: s.Solver, iterations: s.Iterations,
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("linear: decode model: %w", err)
	}
	return m, nil
}

// check validates a decoded model's consistency.
func (m *Model) check() error {
	switch {
	case m.family != FamilyOLS && m.family != FamilyRidge && m.family != FamilyLogistic:
		return fmt.Errorf("unknown family %q", m.family)
	case m.family == FamilyLogistic && !m.task.IsClassification():
		return fmt.Errorf("logistic model with task %q", m.task)
	case m.family != FamilyLogistic && m.task != model.Regression:
		return fmt.Errorf("%s model with task %q", m.family, m.task)
	case m.task == model.Multiclass && m.numClasses < 2:
		return fmt.Errorf("multiclass model with %d classes", m.numClasses)
	case m.task == model.Binary && m.numClasses != 2:
		return fmt.Errorf("binary model with %d classes", m.numClasses)
	case m.p <= 0:
		return fmt.Errorf("model has %d features", m.p)
	case len(m.coef) != m.rows()*m.p:
		return fmt.Errorf("%d coefficients, want %d", len(m.coef), m.rows()*m.p)
	case len(m.intercept) != m.rows():
		return fmt.Errorf("%d intercepts, want %d", len(m.intercept), m.rows())
	case len(m.means) != m.p:
		return fmt.Errorf("%d feature means, want %d", len(m.means), m.p)
	case m.featureNames != nil && len(m.featureNames) != m.p:
		return fmt.Errorf("%d feature names, want %d", len(m.featureNames), m.p)
	}
	return nil
}
