package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
)

// SegmentLabel is the routing key of row r of a segment column: its label
// for a categorical column, its number otherwise, "(missing)" when empty.
func SegmentLabel(c *frame.Column, r int) string {
	switch {
	case c.IsMissing(r):
		return "(missing)"
	case c.Kind == frame.Categorical:
		return c.Label(r)
	}
	return strconv.FormatFloat(c.Num[r], 'g', -1, 64)
}

// route computes raw outputs row by row with each row's segment
// predictor, or p's own model when its segment has none.
func (p *Predictor) route(ctx context.Context, x *frame.Frame) ([]float64, int, error) {
	col, ok := x.Lookup(p.Routes.Column)
	if !ok {
		return nil, 0, &SchemaError{Column: p.Routes.Column, Reason: "missing from the data; the per-segment models are routed by it"}
	}
	groups := map[*Predictor][]int{}
	var order []*Predictor
	for r := range x.NumRows() {
		sub, ok := p.Routes.Models[SegmentLabel(col, r)]
		if !ok {
			sub = p
		}
		if _, seen := groups[sub]; !seen {
			order = append(order, sub)
		}
		groups[sub] = append(groups[sub], r)
	}
	var out []float64
	for _, sub := range order {
		rows := groups[sub]
		part, _, err := sub.rawOwn(ctx, x.Take(rows))
		if err != nil {
			return nil, 0, segmentRow(err, rows)
		}
		k := len(part) / len(rows)
		if out == nil {
			out = make([]float64, x.NumRows()*k)
		}
		for i, r := range rows {
			copy(out[r*k:(r+1)*k], part[i*k:(i+1)*k])
		}
	}
	return out, x.NumRows(), nil
}

// segmentRow makes the row of a *NonFiniteError in err, counted in the
// rows of one segment, the row of the input those rows were taken from
// (rows[i]). The errors between err and it format when read (rowError),
// so the message names the user's row, not its place in the segment.
func segmentRow(err error, rows []int) error {
	var nf *NonFiniteError
	if errors.As(err, &nf) && nf.Row >= 0 && nf.Row < len(rows) {
		nf.Row = rows[nf.Row]
	}
	return err
}

// SegmentModels compares one model per segment with the global model;
// the report shows it as it is.
type SegmentModels = report.SegmentModels

// SegmentComparison is one segment's test metrics under the global model
// and under the model it is routed to.
type SegmentComparison = report.SegmentModel

// trainSegments fits the best candidate's family, parameters and feature
// variant once per segment of cfg.SegmentBy with at least MinSegmentRows
// training rows, and returns global wrapped with the routes, plus the
// side-by-side comparison on the test rows. Segments below the minimum,
// or whose fit fails, fall back to the global model.
func trainSegments(ctx context.Context, cfg *config.Config, o Options, p *prepared, lb []Entry, cands map[string]candidate, global *Predictor, log *slog.Logger) (*Predictor, *SegmentModels, error) {
	col, ok := p.x.Lookup(cfg.SegmentBy)
	if !ok {
		return nil, nil, fmt.Errorf("segment_by: column %q not found among the features", cfg.SegmentBy)
	}
	best, c, err := bestSingleModel(lb, cands)
	if err != nil {
		return nil, nil, err
	}
	globalPred := lb[0].testPred
	fam, err := o.Families.Lookup(c.family)
	if err != nil {
		return nil, nil, err
	}
	params, err := json.Marshal(segmentParams(cfg, p, best.Params))
	if err != nil {
		return nil, nil, fmt.Errorf("segment_by: parameters of %s: %w", best.Model, err)
	}
	spec := designSpec(fam, len(p.train))
	q := *p
	q.chain = c.chain
	// Segment folds use rows a worker cannot rebuild from the run's
	// record: they run in this process.
	q.exec = nil

	trainBy, testBy, labels := rowsBySegment(col, p.train, p.test)

	testPos := make(map[int]int, len(p.test)) // row → position in p.test
	for i, r := range p.test {
		testPos[r] = i
	}
	k := len(globalPred) / len(p.test)
	routed := slices.Clone(globalPred)
	sm := &SegmentModels{Column: cfg.SegmentBy, Model: best.Model, MinRows: cfg.MinSegmentRows}
	routes := &Routes{Column: cfg.SegmentBy, Models: map[string]*Predictor{}}
	for _, l := range labels {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		tr, te := trainBy[l], testBy[l]
		sc := SegmentComparison{Segment: l, TrainRows: len(tr), TestRows: len(te)}
		if len(tr) < cfg.MinSegmentRows {
			sc.Note = fmt.Sprintf("%d training rows < min_segment_rows %d: global model", len(tr), cfg.MinSegmentRows)
		} else if sub, pred, err := fitSegment(ctx, cfg, fam, params, spec, &q, tr, te); err != nil {
			sc.Note = fmt.Sprintf("fit failed (%v): global model", err)
			log.Warn("segment model failed; using the global model", "segment", l, "err", err)
		} else {
			sub.Schema, sub.RunID, sub.Dataset = global.Schema, global.RunID, global.Dataset
			routes.Models[l] = sub
			sc.OwnModel = true
			for i, r := range te {
				copy(routed[testPos[r]*k:(testPos[r]+1)*k], pred[i*k:(i+1)*k])
			}
		}
		if sc.OwnModel {
			sm.Trained++
		} else {
			sm.Fallback++
		}
		if len(te) > 0 {
			sc.Global = segmentScore(p, te, testPos, globalPred, k)
			sc.Routed = segmentScore(p, te, testPos, routed, k)
		}
		sm.Segments = append(sm.Segments, sc)
	}
	if sm.Global, sm.Routed, err = globalAndRoutedMetrics(p, globalPred, routed); err != nil {
		return nil, nil, err
	}
	out := *global
	out.Routes = routes
	log.Info("per-segment models", "column", cfg.SegmentBy, "trained", sm.Trained, "fallback", sm.Fallback,
		"global_"+PrimaryMetric(p.task), sm.Global[PrimaryMetric(p.task)], "routed_"+PrimaryMetric(p.task), sm.Routed[PrimaryMetric(p.task)])
	return &out, sm, nil
}

// segmentParams returns the parameters the segment models are built from:
// the best entry's, which describe its fitted model. A trend's
// coefficients are what the global model learnt, which no learner takes
// (gbdt rejected "trend_coef" and every segment fell back to the global
// model); each segment fits its own trend on the run's time features.
func segmentParams(cfg *config.Config, p *prepared, params map[string]any) map[string]any {
	if params[model.TargetTransformKey] != model.TargetTrend {
		return params
	}
	out := maps.Clone(params)
	delete(out, model.TrendCoefKey)
	out[model.TrendFeaturesKey] = trendFeatures(cfg, p)
	return out
}

// bestSingleModel picks the leaderboard's best entry that succeeded and
// is a single candidate. Segment models copy a single model because an
// ensemble at the top stays the global model the small segments fall
// back to; lb is in rank order, so the first match is the best.
func bestSingleModel(lb []Entry, cands map[string]candidate) (Entry, candidate, error) {
	var best Entry
	var c candidate
	for _, e := range lb {
		if cc, ok := cands[e.Model]; ok && e.Error == "" {
			best, c = e, cc
			break
		}
	}
	if c.family == "" {
		return Entry{}, candidate{}, fmt.Errorf("segment_by: no single model succeeded")
	}
	return best, c, nil
}

// rowsBySegment groups the training and test rows by their segment label
// in col. The labels come back sorted, and include segments seen in only
// one of the two parts, so that the comparison lists every segment in an
// order that does not depend on the rows' order.
func rowsBySegment(col *frame.Column, train, test []int) (trainBy, testBy map[string][]int, labels []string) {
	trainBy, testBy = map[string][]int{}, map[string][]int{}
	add := func(m map[string][]int, rows []int) {
		for _, r := range rows {
			l := SegmentLabel(col, r)
			if _, seen := trainBy[l]; !seen {
				if _, seen := testBy[l]; !seen {
					labels = append(labels, l)
				}
			}
			m[l] = append(m[l], r)
		}
	}
	add(trainBy, train)
	add(testBy, test)
	slices.Sort(labels)
	return trainBy, testBy, labels
}

// globalAndRoutedMetrics scores the global model's and the routed
// artifact's predictions on all of p's test rows, the summary the
// per-segment comparison is judged by.
func globalAndRoutedMetrics(p *prepared, globalPred, routedPred []float64) (global, routed eval.Metrics, err error) {
	yTest := make([]float64, len(p.test))
	for i, r := range p.test {
		yTest[i] = p.y[r]
	}
	if global, err = taskMetrics(p.task, yTest, globalPred, len(p.classes)); err != nil {
		return nil, nil, err
	}
	if routed, err = taskMetrics(p.task, yTest, routedPred, len(p.classes)); err != nil {
		return nil, nil, err
	}
	return global, routed, nil
}

// fitSegment fits one segment's predictor on its training rows and
// predicts its test rows.
func fitSegment(ctx context.Context, cfg *config.Config, fam model.Family, params json.RawMessage, spec features.DesignSpec, p *prepared, train, test []int) (*Predictor, []float64, error) {
	l, err := fam.New(p.task, cfg.Seed, params)
	if err != nil {
		return nil, nil, err
	}
	pre, err := p.preprocess(ctx, "", spec, train, test)
	if err != nil {
		return nil, nil, err
	}
	m, err := l.Fit(ctx, pre.train, model.FitOptions{Workers: cfg.Workers})
	if err != nil {
		return nil, nil, err
	}
	pred := make([]float64, pre.eval.Rows*m.NumOutputs())
	if err := m.Predict(pred, pre.eval); err != nil {
		return nil, nil, fmt.Errorf("predict: %w", err)
	}
	sub := &Predictor{Target: Target{Name: cfg.Target, Task: p.task, Classes: p.classes}, Chain: pre.chain, Design: pre.design, Model: m}
	return sub, pred, nil
}

// segmentScore scores the predictions pred (k values per test position)
// on the test rows rows, leaving out metrics a small segment cannot carry.
func segmentScore(p *prepared, rows []int, testPos map[int]int, pred []float64, k int) eval.Metrics {
	y := make([]float64, len(rows))
	sp := make([]float64, 0, len(rows)*k)
	for i, r := range rows {
		y[i] = p.y[r]
		j := testPos[r]
		sp = append(sp, pred[j*k:(j+1)*k]...)
	}
	m, err := taskMetrics(p.task, y, sp, len(p.classes))
	if err != nil {
		return eval.Metrics{}
	}
	return dropNaN(m)
}
