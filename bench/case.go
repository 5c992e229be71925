package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
)

// CaseOutput is what one run of a case reports on stdout, as one JSON line.
type CaseOutput struct {
	FitSeconds  float64 `json:"fit_seconds"`
	Metric      float64 `json:"metric"`
	MetricName  string  `json:"metric_name"`
	Description string  `json:"description"`
	// PredictSeconds is the time to predict all PredictRows rows of the
	// problem in one batch.
	PredictSeconds float64 `json:"predict_seconds"`
	PredictRows    int     `json:"predict_rows"`
}

// RunCase fits one tabforge learner on the first 80% of rows of the data in
// dir, times the fit alone, scores the remaining rows and writes a
// CaseOutput line to w. It is the body of `tabforge bench case`.
func RunCase(ctx context.Context, w io.Writer, reg *model.Registry, family, params string, task model.Task, rows int, dir string) error {
	fam, err := reg.Lookup(family)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if params != "" {
		raw = json.RawMessage(params)
	}
	learner, err := fam.New(task, 0, raw)
	if err != nil {
		return err
	}
	x, y, err := ReadData(dir, rows, task)
	if err != nil {
		return err
	}
	ntr := rows * 4 / 5
	train := &model.Dataset{X: &model.Matrix{Rows: ntr, Cols: x.Cols, Data: x.Data[:ntr*x.Cols]}, Y: y[:ntr], Task: task}
	if task.IsClassification() {
		train.NumClasses = 2
	}
	test := &model.Matrix{Rows: rows - ntr, Cols: x.Cols, Data: x.Data[ntr*x.Cols:]}

	start := time.Now()
	m, err := learner.Fit(ctx, train, model.FitOptions{})
	if err != nil {
		return fmt.Errorf("fit %s: %w", family, err)
	}
	fit := time.Since(start).Seconds()

	pred := make([]float64, test.Rows*m.NumOutputs())
	if err := m.Predict(pred, test); err != nil {
		return err
	}
	all := make([]float64, x.Rows*m.NumOutputs())
	start = time.Now()
	if err := m.Predict(all, x); err != nil {
		return err
	}
	out := CaseOutput{FitSeconds: fit, Description: "tabforge " + family,
		PredictSeconds: time.Since(start).Seconds(), PredictRows: x.Rows}
	if task == model.Regression {
		out.MetricName = "R2"
		out.Metric, err = eval.R2(y[ntr:], pred, nil)
	} else {
		out.MetricName = "AUC"
		labels := make([]int, test.Rows)
		for i, v := range y[ntr:] {
			labels[i] = int(v)
		}
		out.Metric, err = eval.ROCAUC(labels, pred, 2, nil)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(out)
}
