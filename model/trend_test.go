package model_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
)

// trendData is a monthly panel whose level rises 12 a year, with a
// seasonal swing in month and a step in a second feature: columns year,
// month, step. Rows before cut (in time) are returned as the training
// set, the rest as the later period.
func trendData(years int, cut float64) (train, later *model.Dataset) {
	names := []string{"year", "month", "step"}
	var tx, lx, ty, ly []float64
	for y := range years {
		for m := 1; m <= 12; m++ {
			for s := range 2 {
				year := 2000 + float64(y)
				v := 12*(year-2000) + 3*math.Sin(float64(m)) + 5*float64(s)
				row := []float64{year, float64(m), float64(s)}
				if year+float64(m-1)/12 < cut {
					tx, ty = append(tx, row...), append(ty, v)
				} else {
					lx, ly = append(lx, row...), append(ly, v)
				}
			}
		}
	}
	mk := func(x, y []float64) *model.Dataset {
		m := model.NewMatrix(len(y), 3)
		copy(m.Data, x)
		return &model.Dataset{X: m, Y: y, Task: model.Regression, FeatureNames: names}
	}
	return mk(tx, ty), mk(lx, ly)
}

func treeFamily(t *testing.T) model.Family {
	t.Helper()
	return model.WithTargetTransform(tree.Families()[0])
}

func TestTrendTargetForecastsBeyondTraining(t *testing.T) {
	fam := treeFamily(t)
	train, later := trendData(10, 2008)
	raw, err := fam.New(model.Regression, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"trend","trend_features":["year","month"]}`))
	if err != nil {
		t.Fatal(err)
	}
	rm, tm := mustFit(t, raw, train), mustFit(t, tl, train)
	// A tree alone predicts the last level it saw for two later years; the
	// detrended tree carries the 12-a-year rise forward.
	if a, b := sse(tm, later), sse(rm, later); !(a < b/20) {
		t.Errorf("later-period SSE: trend %g, raw %g; want the trend 20× better", a, b)
	}
	if c := tm.(*model.TrendModel).Coef[0]; math.Abs(c-12) > 1 {
		t.Errorf("year coefficient %g: want about 12", c)
	}
	if got := tm.Params()[model.TargetTransformKey]; got != model.TargetTrend {
		t.Errorf("params %v: want %s=%s", tm.Params(), model.TargetTransformKey, model.TargetTrend)
	}

	b := roundTrip(t, fam, tm, later)
	for _, bad := range [][]byte{b[:18], b[:30]} {
		if _, err := fam.Decode(bad); err == nil {
			t.Errorf("truncated trend model (%d bytes) decoded", len(bad))
		}
	}
	kr, _ := json.Marshal(raw)
	kt, _ := json.Marshal(tl)
	if string(kr) == string(kt) {
		t.Errorf("raw and trend learners encode alike: %s", kr)
	}
}

func TestTrendTargetConstantTime(t *testing.T) {
	train, _ := trendData(1, 2001)
	for r := range train.X.Rows {
		train.X.Data[r*3+1] = 6 // month constant too
	}
	l, err := treeFamily(t).New(model.Regression, 1, json.RawMessage(`{"target_transform":"trend","trend_features":["year","month"]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := l.Fit(context.Background(), train, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := m.(*model.TrendModel).Coef; c[0] != 0 || c[1] != 0 {
		t.Errorf("coefficients %v on a single year and month: want zeros", c)
	}
}

func TestTrendTargetErrors(t *testing.T) {
	fam := treeFamily(t)
	for _, tc := range []struct {
		name, params, want string
		task               model.Task
	}{
		{"no features", `{"target_transform":"trend"}`, "trend_features", model.Regression},
		{"features not a list", `{"target_transform":"trend","trend_features":"year"}`, "list of feature names", model.Regression},
		{"classification", `{"target_transform":"trend","trend_features":["year"]}`, "binary", model.Binary},
		{"features without transform", `{"trend_features":["year"]}`, "trend_features", model.Regression},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fam.New(tc.task, 1, json.RawMessage(tc.params))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v: want it to mention %q", err, tc.want)
			}
		})
	}
	l, err := fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"trend","trend_features":["date_year"]}`))
	if err != nil {
		t.Fatal(err)
	}
	train, _ := trendData(3, 2002)
	if _, err := l.Fit(context.Background(), train, model.FitOptions{}); err == nil || !strings.Contains(err.Error(), `"date_year"`) {
		t.Errorf("unknown time feature: err %v, want one naming it", err)
	}
	train.X.Data[4*3] = math.Inf(1)
	l, _ = fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"trend","trend_features":["year"]}`))
	if _, err := l.Fit(context.Background(), train, model.FitOptions{}); err == nil || !strings.Contains(err.Error(), "row 4") {
		t.Errorf("infinite time: err %v, want one naming row 4", err)
	}
}
