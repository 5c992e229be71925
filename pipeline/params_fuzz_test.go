package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// paramsDataset is a small fit for task: 48 rows, a numeric, a
// categorical code column and a column with missing values.
func paramsDataset(task model.Task) *model.Dataset {
	const n = 48
	d := &model.Dataset{X: model.NewMatrix(n, 3), Y: make([]float64, n), Task: task, Categorical: []bool{false, true, false}}
	for i := range n {
		x := float64(i%12) / 3
		row := d.X.Row(i)
		row[0], row[1], row[2] = x, float64(i%3), math.NaN()
		if i%4 != 0 {
			row[2] = float64(i % 5)
		}
		switch task {
		case model.Regression:
			d.Y[i] = 2*x + float64(i%3)
		case model.Binary:
			d.Y[i] = float64(i % 2)
		default:
			d.Y[i] = float64(i % 3)
		}
	}
	if task == model.Binary {
		d.NumClasses = 2
	} else if task == model.Multiclass {
		d.NumClasses = 3
	}
	return d
}

// smallNumbers reports whether every number in the JSON value v is at
// most 64 in magnitude: sizes beyond that (n_estimators, max_depth)
// make a fit slow, not wrong, so the fuzzer does not fit them.
func smallNumbers(v any) bool {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return err == nil && math.Abs(f) <= 64
	case map[string]any:
		for _, e := range v {
			if !smallNumbers(e) {
				return false
			}
		}
	case []any:
		return !slices.ContainsFunc(v, func(e any) bool { return !smallNumbers(e) })
	}
	return true
}

// FuzzFamilyParams feeds model_params objects to each family's New, the
// decoding and validation of `model_params: {FAMILY: {...}}`: no panic;
// a refusal says why; parameters it accepts fit a small dataset
// of the task without a panic, to a model whose predictions are finite
// (probabilities in [0, 1]) and survive MarshalBinary and Decode.
func FuzzFamilyParams(f *testing.F) {
	reg := Families()
	names := reg.Names()
	tasks := []model.Task{model.Regression, model.Binary, model.Multiclass}
	for _, p := range []string{`{}`, `null`, `{"max_depth": 3}`, `{"n_estimators": 5, "learning_rate": 0.5, "early_stopping_rounds": 2}`,
		`{"alpha": 0.1}`, `{"max_features": "sqrt"}`, `{"max_features": 0.5}`, `{"min_samples_leaf": 0}`, `{"subsample": 0.5, "colsample_bytree": 0.5}`,
		`{"objective": "huber", "huber_slope": 2}`, `{"categorical_splits": true, "max_bin": 2}`, `{"target_transform": "log"}`,
		`{"n_estimators": 3, "max_samples": 0.5}`, `{"grow_policy": "lossguide", "max_leaves": 4}`, `{"lambda": -1}`, `{"x": 1}`, `[]`, `{"max_depth": 1e400}`} {
		for fi := range names {
			for ti := range tasks {
				f.Add(uint8(fi), uint8(ti), p)
			}
		}
	}
	f.Fuzz(func(t *testing.T, fi, ti uint8, params string) {
		fam, _ := reg.Lookup(names[int(fi)%len(names)])
		task := tasks[int(ti)%len(tasks)]
		if !fam.Supports(task) {
			return
		}
		l, err := fam.New(task, 7, json.RawMessage(params))
		if err != nil {
			// config validation prefixes the family name (model_params:
			// extra_trees: forest: ...); the message itself must say something.
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("%s.New(%s, %s): empty error", fam.Name, task, params)
			}
			return
		}
		dec := json.NewDecoder(strings.NewReader(params))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil || !smallNumbers(v) {
			return
		}
		checkFit(t, fam, l, paramsDataset(task), params)
	})
}

// checkFit fits l to d and checks the model's predictions and its
// encoding round trip.
func checkFit(t *testing.T, fam model.Family, l model.Learner, d *model.Dataset, params string) {
	m, err := l.Fit(context.Background(), d, model.FitOptions{Workers: 1})
	if err != nil {
		return // a fit may refuse parameters New could not judge without data
	}
	pred := make([]float64, d.X.Rows*m.NumOutputs())
	if err := m.Predict(pred, d.X); err != nil {
		t.Fatalf("%s %s %s: Predict: %v", fam.Name, d.Task, params, err)
	}
	for _, p := range pred {
		if math.IsNaN(p) || math.IsInf(p, 0) || d.Task.IsClassification() && (p < 0 || p > 1) {
			t.Fatalf("%s %s %s: prediction %v", fam.Name, d.Task, params, p)
		}
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatalf("%s %s %s: MarshalBinary: %v", fam.Name, d.Task, params, err)
	}
	back, err := fam.Decode(b)
	if err != nil {
		t.Fatalf("%s %s %s: Decode of MarshalBinary: %v", fam.Name, d.Task, params, err)
	}
	again := make([]float64, len(pred))
	if err := back.Predict(again, d.X); err != nil || !slices.Equal(again, pred) {
		t.Fatalf("%s %s %s: decoded model predicts differently (%v)", fam.Name, d.Task, params, err)
	}
	if b2, _ := back.MarshalBinary(); !bytes.Equal(b, b2) {
		t.Fatalf("%s %s %s: MarshalBinary changed after Decode", fam.Name, d.Task, params)
	}
}
