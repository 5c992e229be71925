package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
)

// TestAdvancedStagesZeroSettings checks that the config's "none" values
// reach the feature stages as none: cleared temporal_lags and
// rolling_windows made the stages fall back to their own default lags
// (1, 2, 3, 12) and windows, and target_encoding_smoothing 0 encoded with
// Market's default prior weight of 10 instead of the raw segment mean.
func TestAdvancedStagesZeroSettings(t *testing.T) {
	const months, segs = 24, 2
	var dates, segLabels []string
	var y []float64
	for s := range segs {
		for m := range months {
			dates = append(dates, fmt.Sprintf("%04d-%02d-01", 2020+m/12, m%12+1))
			segLabels = append(segLabels, fmt.Sprintf("s%d", s))
			y = append(y, float64(100*s+m))
		}
	}
	times := make([]float64, len(dates))
	for i, d := range dates {
		tm, err := config.ParseDate(d)
		if err != nil {
			t.Fatal(err)
		}
		times[i] = float64(tm.Unix())
	}
	train, err := frame.New(frame.NewDatetime("date", times), frame.NewCategoricalFromStrings("city", segLabels),
		frame.NewNumeric("y", y))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(config.Sources{Set: []string{"enable_advanced_features=true", "time_column=date",
		"segment_column=city", "temporal_lags=", "rolling_windows=", "target_encoding_smoothing=0"}})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := advancedStages(cfg, "y", 1)
	if len(stages) != 2 {
		t.Fatalf("advancedStages gave %d stages; want temporal and market", len(stages))
	}
	ctx := context.Background()
	fitted, err := stages[0].t.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range fitted.(*features.FittedTemporal).Names() {
		if strings.Contains(n, "_lag") || strings.Contains(n, "_roll") {
			t.Errorf("temporal feature %q with temporal_lags and rolling_windows cleared; want none", n)
		}
	}
	fm, err := stages[1].t.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	out, err := fm.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	te, ok := out.Lookup("city_y_te")
	if !ok {
		t.Fatalf("no target encoding among %v", out.Names())
	}
	for s := range segs {
		// Segment s holds y = 100s + 0..23: mean 100s + 11.5.
		want := float64(100*s) + 11.5
		i := slices.Index(segLabels, fmt.Sprintf("s%d", s))
		if got := te.Num[i]; math.Abs(got-want) > 1e-9 {
			t.Errorf("segment s%d encoding = %g; want the raw mean %g (smoothing 0)", s, got, want)
		}
	}
}

// TestAdvancedFallbackWarnsOnce forces the temporal stage to fail (a time
// column of three parts, which the split orders by but the stage cannot
// read) and checks that the run goes on, says so in Result.Fallbacks and
// logs the fallback once: it was logged twice, by the trial fit and again
// as a run warning.
func TestAdvancedFallbackWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("yr,mo,dy,x,y\n")
	for i := range 120 {
		fmt.Fprintf(&b, "%d,%d,1,%d,%d\n", 2010+i/12, i%12+1, i%7, 2*(i%7)+i%3)
	}
	data := filepath.Join(dir, "three.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Out = data, "y", "yr,mo,dy", dir
	cfg.EnableAdvancedFeatures, cfg.EnableMarketFeatures, cfg.ForceProductionQuality = true, false, false
	cfg.Models, cfg.CVFolds = []string{"ridge"}, 2
	var logs bytes.Buffer
	res, err := Train(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fallbacks) != 1 || !strings.Contains(res.Fallbacks[0], "temporal features failed") || len(res.Stages) != 0 {
		t.Fatalf("fallbacks %q, stages %q; want the temporal stage fallen back", res.Fallbacks, res.Stages)
	}
	if n := strings.Count(logs.String(), "temporal features failed"); n != 1 {
		t.Errorf("the fallback is logged %d times; want once:\n%s", n, logs.String())
	}
}
