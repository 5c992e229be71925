package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// TestModelSavedBeforeOffsets loads a model saved before datetime offsets
// were kept and checks it predicts what it predicted then. The build of
// ddf8d11 made testdata/temporal_utc_v1.tfm with
//
//	tabforge train --data monthly_berlin.csv --target y --time-column date \
//	  --segment-column seg --profile production --models linear --cv-folds 2
//
// (monthly_berlin.csv: 3 segments × 48 months at 00:00 Europe/Berlin,
// +01:00 in winter and +02:00 in summer; y has a trend and a yearly
// cycle), and temporal_utc_v1_predictions.csv with tabforge predict on the
// same file. That build read the times in UTC (the last evening of the
// month before), in its temporal features and its design; the model must
// keep doing so, although tabforge now reads them in civil time.
func TestModelSavedBeforeOffsets(t *testing.T) {
	p, err := LoadPredictor(filepath.Join("testdata", "temporal_utc_v1.tfm"), Families())
	if err != nil {
		t.Fatal(err)
	}
	x, err := frame.ReadFile(filepath.Join("testdata", "monthly_berlin.csv"), frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := x.Lookup("date"); c == nil || c.Offsets == nil {
		t.Fatal("monthly_berlin.csv read without offsets")
	}
	got, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := readRecords(t, filepath.Join("testdata", "temporal_utc_v1_predictions.csv"))[1:]
	if len(got.Values) != len(want) {
		t.Fatalf("%d predictions; want %d", len(got.Values), len(want))
	}
	for i, rec := range want {
		w, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if got.Values[i] != w {
			t.Fatalf("row %d: predicted %v; the build that saved the model predicted %v", i, got.Values[i], w)
		}
	}
}

// TestHoldoutZonedDates splits monthly data written at 00:00 Europe/Berlin
// by date: an as-of date and the temporal split's description read the
// dates as written, not in UTC, where 2021-01-01T00:00:00+01:00 is still
// 2020 (so January went to training) and March began on 28 February.
func TestHoldoutZonedDates(t *testing.T) {
	f, err := frame.ReadFile(filepath.Join("testdata", "monthly_berlin.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	times, err := timeKey(f, "date")
	if err != nil {
		t.Fatal(err)
	}
	kept := make([]int, f.NumRows())
	for i := range kept {
		kept[i] = i
	}
	tests := []struct {
		asOf     string
		fraction float64
		test     int    // test rows
		split    string // p.split
	}{
		// 3 segments × the 12 months of 2021
		{"2021-01-01", 0, 36, "as of 2021-01-01"},
		// an instant: 2021-01-01T00:00:00+01:00 is before it
		{"2021-01-01T00:00:00Z", 0, 33, "as of 2021-01-01T00:00:00Z"},
		// the last 20%: 3 segments × 10 months from March 2021, 30 of 144 rows
		{"", 0.2, 30, "temporal: last 20.8% by date (20% asked; test from 2021-03-01)"},
		// a share asked with a decimal is printed with it (it read "12% asked")
		{"", 0.125, 18, "temporal: last 12.5% by date (12.5% asked; test from 2021-07-01)"},
	}
	for _, tt := range tests {
		p := &prepared{task: model.Regression}
		cfg := &config.Config{TimeColumn: "date", AsOf: tt.asOf, TestFraction: tt.fraction}
		h, err := p.holdout(f, cfg, kept, times)
		if err != nil {
			t.Fatalf("as of %q: %v", tt.asOf, err)
		}
		if len(h.Test) != tt.test || p.split != tt.split {
			t.Errorf("as of %q, fraction %g: %d test rows, %q; want %d, %q", tt.asOf, tt.fraction, len(h.Test), p.split, tt.test, tt.split)
		}
	}
}

// TestExplainZonedRaw explains models of monthly data at 00:00
// Europe/Berlin on their raw inputs. The raw input matrix was rebuilt
// into datetimes without their offsets, so a model reading civil time
// saw every row a month early: its predictions on the matrix, and the
// SHAP values adding up to them, were not the model's. The model saved
// before offsets were kept reads the instants and must still see them.
func TestExplainZonedRaw(t *testing.T) {
	data := filepath.Join("testdata", "monthly_berlin.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.SegmentColumn = data, "y", "date", "seg"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"linear"}, 2, t.TempDir()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{res.ModelPath, filepath.Join("testdata", "temporal_utc_v1.tfm")} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, err := LoadPredictor(path, Families())
			if err != nil {
				t.Fatal(err)
			}
			x, err := frame.ReadFile(data, frame.ReadOptions{Schema: p.ReadSchema()})
			if err != nil {
				t.Fatal(err)
			}
			want, err := p.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			checkRawInput(t, p, x, want.Values)
			v, err := Explain(context.Background(), p, x, ExplainOptions{Raw: true, Rows: []int{0, 3, 50, 143},
				Options: explain.Options{Seed: 7, BackgroundSize: 5, KernelSamples: 100}})
			if err != nil {
				t.Fatal(err)
			}
			for r, row := range v.RowIndex {
				if f, got := want.Values[row], v.Sum(r, 0); math.Abs(got-f) > 1e-6*math.Max(1, math.Abs(f)) {
					t.Errorf("row %d: base + Σφ = %v; the prediction is %v", row, got, f)
				}
			}
		})
	}
}

// TestCivilZones: a civil time a raw explanation made up (a k-means
// centroid, a LIME draw) takes the offset of the nearest one the data
// holds, so a synthesised spring date reads +01:00 before the change to
// summer time in the data and +02:00 after it.
func TestCivilZones(t *testing.T) {
	civil := func(s string) float64 {
		d, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return float64(d.Unix())
	}
	// 1 March (+01:00), 1 April and 1 May (+02:00), NaN, 1 March again.
	c := frame.NewDatetimeOffsets("d", []float64{civil("2019-03-01 00:00:00") - 3600, civil("2019-05-01 00:00:00") - 7200,
		civil("2019-04-01 00:00:00") - 7200, math.NaN(), civil("2019-03-01 00:00:00") - 3600}, []int32{3600, 7200, 7200, 0, 3600})
	z := newDatetimeZones(c, true)
	for _, tc := range []struct {
		civil float64
		want  int32
	}{
		{civil("2018-06-01 00:00:00"), 3600}, // before the data
		{civil("2019-03-01 00:00:00"), 3600},
		{civil("2019-03-10 00:00:00"), 3600},
		{civil("2019-03-25 00:00:00"), 7200}, // nearer 1 April
		{civil("2019-04-01 00:00:00"), 7200},
		{civil("2020-01-01 00:00:00"), 7200}, // after the data
		{math.NaN(), 0},
	} {
		if got := z.offset(tc.civil); got != tc.want {
			t.Errorf("offset of %s = %d; want %d", time.Unix(int64(tc.civil), 0).UTC(), got, tc.want)
		}
	}
	// Laid out as instants, the hour repeated when New York's clocks fall
	// back (01:30 at -04:00, then at -05:00) rebuilds as written.
	const first = 1793511000 // 2026-11-01T05:30:00Z
	repeated := frame.NewDatetimeOffsets("d", []float64{first, first + 3600}, []int32{-4 * 3600, -5 * 3600})
	back := newDatetimeZones(repeated, false).column("d", repeated.Num)
	if !slices.Equal(back.Num, repeated.Num) || !slices.Equal(back.Offsets, repeated.Offsets) {
		t.Errorf("instants %v at offsets %v rebuilt as %v at %v", repeated.Num, repeated.Offsets, back.Num, back.Offsets)
	}
	if newDatetimeZones(frame.NewDatetime("d", []float64{0}), true) != nil {
		t.Error("a column without offsets has civil zones; its values are its instants")
	}
}

// TestExplainRawRepeatedCivilTime explains rows that share a civil time
// but not an instant: the hour repeated when clocks fall back (01:30 at
// -04:00, then at -05:00, in New York), or one time written in two zones.
// The raw input matrix holds civil time, so it cannot tell them apart; a
// model saved before offsets were kept reads instants, and saw both rows
// at the first one's, predicting for one of them what it never predicts.
// Here the two 00:30s of 1 March fall in February and in March in UTC,
// which that model's month features read.
func TestExplainRawRepeatedCivilTime(t *testing.T) {
	p, err := LoadPredictor(filepath.Join("testdata", "temporal_utc_v1.tfm"), Families())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "monthly_berlin.csv"))
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "2021-03-01T00:30:00+01:00,s0,0.5,0\n2021-03-01T00:30:00-01:00,s0,0.5,0\n"...)
	path := filepath.Join(t.TempDir(), "repeated.csv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := frame.ReadFile(path, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	n := x.NumRows()
	if want.Values[n-2] == want.Values[n-1] {
		t.Fatal("the model predicts the same for both rows; the test cannot tell them apart")
	}
	checkRawInput(t, p, x, want.Values)
}

// checkRawInput checks that p's raw input matrix of x, as explain builds
// it, predicts want, p's predictions of x, exactly.
func checkRawInput(t *testing.T, p *Predictor, x *frame.Frame, want []float64) {
	t.Helper()
	in, err := rawInput(p, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, in.X.Rows*in.Outputs)
	if err := in.Predict(got, in.X); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != want[i] {
			t.Fatalf("row %d: raw-input prediction %v; the predictor says %v", i, v, want[i])
		}
	}
}
