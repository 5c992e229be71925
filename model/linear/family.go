package linear

import (
	"encoding/json"
	"fmt"

	"github.com/tabforge/tabforge/model"
)

// linearInput returns the design every linear family wants: one-hot
// encoded categories, standardised numeric columns, no missing values.
func linearInput() model.Input { return model.Input{OneHot: true, Scale: true} }

// Families returns the linear model families for a model.Registry:
//
//   - "ols": Regression with Alpha 0; parameters {"fit_intercept"}.
//   - "ridge": Regression; parameters {"alpha" (> 0, default 1),
//     "fit_intercept"}.
//   - "logistic": Logistic for binary and multiclass tasks; parameters
//     {"c" (default 1; <= 0 means no penalty), "max_iter", "tol",
//     "fit_intercept"}.
//
// New rejects unknown parameters and tasks the family does not support;
// the seed is unused (the fits are deterministic). Decode restores models of
// the family from Model.MarshalBinary.
func Families() []model.Family {
	return []model.Family{
		{
			Name:   FamilyOLS,
			Tasks:  []model.Task{model.Regression},
			Input:  linearInput(),
			New:    newOLS,
			Decode: decoder(FamilyOLS),
		},
		{
			Name:   FamilyRidge,
			Tasks:  []model.Task{model.Regression},
			Input:  linearInput(),
			New:    newRidge,
			Decode: decoder(FamilyRidge),
		},
		{
			Name:   FamilyLogistic,
			Tasks:  []model.Task{model.Binary, model.Multiclass},
			Input:  linearInput(),
			New:    newLogistic,
			Decode: decoder(FamilyLogistic),
		},
	}
}

func newOLS(task model.Task, _ uint64, params json.RawMessage) (model.Learner, error) {
	if task != model.Regression {
		return nil, fmt.Errorf("linear: family %q does not support task %q", FamilyOLS, task)
	}
	var p struct {
		FitIntercept *bool `json:"fit_intercept"`
	}
	if err := model.DecodeStrict(params, &p); err != nil {
		return nil, fmt.Errorf("linear: %s: %w", FamilyOLS, err)
	}
	return Regression{FitIntercept: p.FitIntercept}, nil
}

func newRidge(task model.Task, _ uint64, params json.RawMessage) (model.Learner, error) {
	if task != model.Regression {
		return nil, fmt.Errorf("linear: family %q does not support task %q", FamilyRidge, task)
	}
	r := Regression{Alpha: 1}
	if err := model.DecodeStrict(params, &r); err != nil {
		return nil, fmt.Errorf("linear: %s: %w", FamilyRidge, err)
	}
	if !(r.Alpha > 0) || r.Alpha > 1e300 {
		return nil, fmt.Errorf("linear: %s: alpha = %v; want a finite value > 0 (use %q for alpha 0)", FamilyRidge, r.Alpha, FamilyOLS)
	}
	return r, nil
}

func newLogistic(task model.Task, _ uint64, params json.RawMessage) (model.Learner, error) {
	if !task.IsClassification() {
		return nil, fmt.Errorf("linear: family %q does not support task %q", FamilyLogistic, task)
	}
	l := Logistic{C: 1}
	if err := model.DecodeStrict(params, &l); err != nil {
		return nil, fmt.Errorf("linear: %s: %w", FamilyLogistic, err)
	}
	switch {
	case l.MaxIter < 0:
		return nil, fmt.Errorf("linear: %s: max_iter = %d; want >= 0", FamilyLogistic, l.MaxIter)
	case !(l.Tol >= 0) || l.Tol > 1:
		return nil, fmt.Errorf("linear: %s: tol = %v; want a value in [0, 1]", FamilyLogistic, l.Tol)
	}
	return l, nil
}

// decoder returns a Family.Decode that accepts models of family name only.
func decoder(name string) func([]byte) (model.Model, error) {
	return func(data []byte) (model.Model, error) {
		m, err := Decode(data)
		if err != nil {
			return nil, err
		}
		if m.family != name {
			return nil, fmt.Errorf("linear: decode: model is %q, want %q", m.family, name)
		}
		return m, nil
	}
}
