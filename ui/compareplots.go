package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/tabforge/tabforge/store"
)

// boardChart is one run's leaderboard as horizontal bars of the CV
// metric, on a scale shared by every compared run so they read side by
// side.
type boardChart struct {
	RunID  string
	Metric string
	Bars   []bar
	H      int
}

type bar struct {
	Model string
	Value string
	Y, W  int
}

// boardCharts draws the compared runs' leaderboards (up to 10 models
// each). Runs ranked by different metrics get one scale each metric.
func boardCharts(runs []*store.Run) []boardChart {
	type entry struct {
		model string
		v     float64
	}
	boards := make([][]entry, len(runs))
	metrics := make([]string, len(runs))
	hi := map[string]float64{}
	for i, run := range runs {
		res, err := decodeResult(run)
		if err != nil || res == nil {
			continue
		}
		metrics[i] = res.Metric
		for _, e := range res.Leaderboard[:min(10, len(res.Leaderboard))] {
			if v, ok := e.CV[res.Metric]; ok && !math.IsNaN(v) {
				boards[i] = append(boards[i], entry{e.Model, v})
				hi[res.Metric] = math.Max(hi[res.Metric], math.Abs(v))
			}
		}
	}
	out := make([]boardChart, len(runs))
	for i, run := range runs {
		c := boardChart{RunID: run.ID, Metric: metrics[i], H: 20*len(boards[i]) + 4}
		for j, e := range boards[i] {
			w := 0
			if h := hi[metrics[i]]; h > 0 {
				w = int(math.Round(200 * math.Abs(e.v) / h))
			}
			c.Bars = append(c.Bars, bar{Model: e.model, Value: metricText(e.v), Y: 20*j + 2, W: w})
		}
		out[i] = c
	}
	return out
}

// overlay is predicted against actual for the compared runs' test rows,
// one colour per run, from each run's report.json (package report writes
// the best model's test predictions there). Runs without it are named.
type overlay struct {
	Series       []overlaySeries
	Missing      []string // why a run has no points
	Lo, Hi       string
	W, H, L, B   int
	Diagonal     string
	AnyPredicted bool
}

type overlaySeries struct {
	RunID, Class string
	Dots         string
	N            int
}

// maxReportJSON bounds the report.json read per run.
const maxReportJSON = 64 << 20

// testPredictions reads the test rows' actual and predicted values from
// the run's report.json, or says why there are none.
func testPredictions(run *store.Run) (y, pred []float64, why string) {
	res, err := decodeResult(run)
	switch {
	case err != nil || res == nil:
		return nil, nil, "no result"
	case res.Report == "":
		return nil, nil, "no report"
	case res.Task != "" && res.Task != "regression":
		return nil, nil, "a " + string(res.Task) + " run (its report has calibration instead)"
	}
	f, err := os.Open(filepath.Join(filepath.Dir(res.Report), "report.json"))
	if err != nil {
		return nil, nil, "its report.json is not on this machine"
	}
	defer f.Close()
	var d struct {
		Test struct {
			Y    []float64 `json:"y"`
			Pred []float64 `json:"pred"`
		} `json:"test"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxReportJSON)).Decode(&d); err != nil {
		return nil, nil, "its report.json is unreadable"
	}
	if len(d.Test.Y) == 0 || len(d.Test.Y) != len(d.Test.Pred) {
		return nil, nil, "its report holds no test predictions"
	}
	return d.Test.Y, d.Test.Pred, ""
}

// predictedOverlay draws every run's test predictions on one shared
// scale, in a 420×420 view box, deduplicating points per pixel.
func predictedOverlay(runs []*store.Run) overlay {
	o := overlay{W: 420, H: 420, L: 50, B: 390}
	ys, preds := make([][]float64, len(runs)), make([][]float64, len(runs))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, run := range runs {
		y, p, why := testPredictions(run)
		if why != "" {
			o.Missing = append(o.Missing, run.ID+": "+why)
			continue
		}
		ys[i], preds[i] = y, p
		for j := range y {
			for _, v := range []float64{y[j], p[j]} {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 1) {
		return o
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	o.AnyPredicted, o.Lo, o.Hi = true, num(lo), num(hi)
	span := float64(o.B - 10)
	px := func(v float64) float64 { return (v - lo) / (hi - lo) * span }
	o.Diagonal = fmt.Sprintf("M%d %dL%d %d", o.L, o.B, o.L+int(span), o.B-int(span))
	for i := range runs {
		if ys[i] == nil {
			continue
		}
		var p pixels
		for j := range ys[i] {
			p.dot(float64(o.L)+px(ys[i][j]), float64(o.B)-px(preds[i][j]))
		}
		o.Series = append(o.Series, overlaySeries{RunID: runs[i].ID, Class: fmt.Sprintf("s%d", i%4), Dots: strings.TrimSpace(p.b.String()), N: len(ys[i])})
	}
	return o
}
