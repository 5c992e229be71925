package report

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/eval"
)

// fullData returns a Data with every section filled, from a seeded
// synthetic regression problem.
func fullData(t testing.TB) *Data {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	y := make([]float64, n)
	pred := make([]float64, n)
	x0 := make([]float64, n)
	seg := make([]string, n)
	for i := range n {
		x0[i] = rng.Float64() * 10
		y[i] = 100 + 20*x0[i] + 10*rng.NormFloat64()
		pred[i] = 100 + 19*x0[i] + 5*rng.NormFloat64()
		seg[i] = []string{"north", "south", "east"}[i%3]
	}
	top, err := eval.TopErrors(y, pred, seg, 5)
	if err != nil {
		t.Fatal(err)
	}
	bins, err := eval.ResidualsByBins(x0, y, pred, 8)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := eval.ResidualsBySegment(seg, y, pred)
	if err != nil {
		t.Fatal(err)
	}
	feats := []string{"x0", "x1", "x2"}
	sh := &SHAP{Features: feats}
	for i := range 200 {
		fv := []float64{x0[i], rng.Float64(), rng.NormFloat64()}
		sh.FeatureValues = append(sh.FeatureValues, fv)
		sh.Values = append(sh.Values, []float64{19 * (fv[0] - 5), 3 * (fv[1] - 0.5), 0.2 * fv[2]})
	}
	grid := []float64{0, 2, 4, 6, 8, 10}
	pd := PDP{Feature: "x0", Grid: grid}
	for _, g := range grid {
		pd.Average = append(pd.Average, 100+19*g)
	}
	for k := range 15 {
		ice := make([]float64, len(grid))
		for j, g := range grid {
			ice[j] = 90 + float64(k) + 19*g
		}
		pd.ICE = append(pd.ICE, ice)
	}
	curve := []eval.CurvePoint{
		{Size: 30, Train: eval.Metrics{"r2": 0.99}, Valid: eval.Metrics{"r2": 0.6}},
		{Size: 120, Train: eval.Metrics{"r2": 0.95}, Valid: eval.Metrics{"r2": 0.8}},
		{Size: 300, Train: eval.Metrics{"r2": 0.93}, Valid: eval.Metrics{"r2": 0.86}},
	}
	return &Data{
		RunID: "20260101-000000-abcdef", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
		Status: "succeeded", Task: "regression", Target: "price", Split: "random 20% test", TrainRows: 1200, TestRows: n,
		Metric: "r2", Best: "gbdt", Deployable: true, DatasetHash: "abc123",
		Leaderboard: []Entry{
			{Model: "gbdt", Params: map[string]any{"learning_rate": 0.05, "max_depth": 6, "objective": "squared"}, CV: eval.Metrics{"r2": 0.86}, CVStd: eval.Metrics{"r2": 0.02}, Test: eval.Metrics{"r2": 0.87, "rmse": 11, "within20": 90}, FitSeconds: 0.4},
			{Model: "ridge", CV: eval.Metrics{"r2": 0.8}, Test: eval.Metrics{"r2": 0.81, "rmse": 14, "within20": 85}, FitSeconds: 0.05},
			{Model: "tree", Error: "boom"},
		},
		Test: Predictions{Y: y, Pred: pred},
		Overview: &Overview{Rows: n, Columns: []ColumnOverview{{Name: "x0", Kind: "numeric", Missing: 3}, {Name: "region", Kind: "categorical", Missing: 0, Distinct: 3},
			{Name: "price", Kind: "numeric", Target: true}}, Target: TargetBins(y, nil, 20)},
		Config:            "target: price\nseed: 42\n",
		FeatureImportance: []Importance{{"x0", 0.8}, {"x1", 0.15}, {"x2", 0.05}},
		SHAP:              sh,
		PDP:               []PDP{pd},
		LearningCurve:     curve, LearningFamily: "gbdt",
		ValidationCurve: &ValidationCurve{Family: "tree", Param: "max_depth", Points: []eval.CurvePoint{
			{Value: 1, Train: eval.Metrics{"r2": 0.5}, Valid: eval.Metrics{"r2": 0.48}},
			{Value: 4, Train: eval.Metrics{"r2": 0.85}, Valid: eval.Metrics{"r2": 0.8}},
			{Value: 12, Train: eval.Metrics{"r2": 1}, Valid: eval.Metrics{"r2": 0.7}},
		}},
		BiasVariance: []FamilyBiasVariance{
			{Family: "tree", Result: &eval.BiasVarianceResult{Loss: "squared", Rounds: 20, ExpectedLoss: 11.7, Bias2: 5, Variance: 5.8, Noise: 0.9, NoiseAvailable: true}},
			{Family: "ridge", Result: &eval.BiasVarianceResult{Loss: "squared", Rounds: 20, ExpectedLoss: 8, Bias2: 7.5, Variance: 0.5}},
		},
		Segments: []Segment{
			{Segment: "south", Rows: 100, Test: eval.Metrics{"within20": 80, "r2": 0.7}},
			{Segment: "north", Rows: 100, Test: eval.Metrics{"within20": 92, "r2": math.NaN()}},
		},
		SegmentResiduals: segs,
		ResidualBins:     []FeatureResiduals{{Feature: "x0", Bins: bins}},
		TopErrors:        top,
		Rules: []eval.RuleResult{
			{Name: "positive price", Kind: eval.RuleBounds, Passed: true},
			{Name: "area increases price", Kind: eval.RuleMonotonic, Passed: false, Gate: true, Value: 0.2, Detail: "falls by 3"},
		},
		Gates:     []Gate{{Name: "min_r2_threshold", Metric: "r2", Threshold: 0.75, Value: 0.87, Passed: true}},
		Fallbacks: []string{"market features: boom"},
		Warnings:  []string{"market features: boom", "something else"},
		Cache:     &Cache{Hits: 30, Misses: 10},
		Meta: &Meta{Mode: "zero-shot", Known: 40, Nearest: 0.8, Threshold: 1.9, Rule: "Q3 + 1.5·IQR",
			Neighbours: []MetaNeighbor{{Name: "ames.csv", Distance: 0.8}},
			Tried:      []MetaTried{{Family: "gbdt", Use: "default", From: "ames.csv", Distance: 0.8, Params: map[string]any{"max_depth": 4.0}, Outcome: "leaderboard place 1 of 3"}}},
		Timings: map[string]float64{"load": 0.1, "candidate:gbdt": 0.4, "total": 0.6},
	}
}

func TestWriteFull(t *testing.T) {
	dir := t.TempDir()
	files, err := Write(context.Background(), dir, fullData(t))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	// Self-contained: no script, style, image or link loads anything.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`).FindString(html); m != "" {
		t.Errorf("page references an external resource: %s", m)
	}
	// Only the classifiers' sections are missing for a regression.
	missing := regexp.MustCompile(`Not available: [^<]*`).FindAllString(html, -1)
	if len(missing) != 4 {
		t.Errorf("full regression data has missing sections: %q", missing)
	}
	for _, m := range missing {
		if !strings.Contains(m, "classifi") {
			t.Errorf("regression section missing: %q", m)
		}
	}
	for _, id := range []string{"data", "params", "leaderboard", "predicted", "residuals", "errors", "importance", "shap", "pdp", "curves", "bias-variance", "segments", "rules", "gates", "fallbacks", "meta", "cache"} {
		if !strings.Contains(html, `<section id="`+id+`">`) {
			t.Errorf("section %s missing", id)
		}
	}
	if n := strings.Count(html, "<svg"); n < 15 {
		t.Errorf("%d inline charts; want at least 15", n)
	}
	wantPNG := []string{"leaderboard", "predicted_vs_actual", "residuals", "feature_importance", "shap_summary", "shap_dependence_00_x0",
		"pdp_00_x0", "learning_curve", "validation_curve", "bias_variance", "segments", "cache", "target_distribution"}
	have := map[string]bool{}
	for _, f := range files.PNG {
		have[strings.TrimSuffix(f, ".png")] = true
	}
	for _, w := range wantPNG {
		if !have[w] {
			t.Errorf("no %s.png (have %v)", w, files.PNG)
		}
	}
	for _, f := range files.PNG {
		checkPNG(t, filepath.Join(dir, f), 0.02)
	}
	// report.json round-trips.
	var back Data
	js, err := os.ReadFile(filepath.Join(dir, DataFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Best != "gbdt" || len(back.Leaderboard) != 3 || back.Cache.Hits != 30 {
		t.Errorf("report.json round trip: %+v", back)
	}
}

func TestWriteEmpty(t *testing.T) {
	dir := t.TempDir()
	files, err := Write(context.Background(), dir, &Data{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files.PNG) != 0 {
		t.Errorf("empty data wrote charts %v", files.PNG)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if strings.Contains(html, "<svg") {
		t.Error("empty data drew a chart")
	}
	if n := strings.Count(html, "Not available:"); n < 19 {
		t.Errorf("%d sections say not available; want at least 19", n)
	}
}

func TestWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, t.TempDir(), fullData(t)); err == nil {
		t.Error("cancelled context: no error")
	}
}

// checkPNG decodes a PNG and checks that it is not blank: at least
// minShare of its pixels differ from white and it has several colours.
func checkPNG(t *testing.T, path string, minShare float64) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := img.Bounds()
	colours := map[[3]uint32]bool{}
	nonWhite := 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			colours[[3]uint32{cr >> 10, cg >> 10, cb >> 10}] = true
			if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				nonWhite++
			}
		}
	}
	share := float64(nonWhite) / float64((r.Dx()/2)*(r.Dy()/2))
	if share < minShare || len(colours) < 8 {
		t.Errorf("%s looks blank: %.3f non-white, %d colours", path, share, len(colours))
	}
	return img
}

// chromium is Debian's browser; the test is skipped only where it is not
// installed.
const chromium = "/usr/bin/chromium"

// TestChromiumRendersOffline opens the report in headless Chromium with
// the network disabled, checks that the page ran without a script error
// (data-status="ok", set by the page itself; any error or console.error
// sets "error: ...") and that a screenshot shows the charts.
func TestChromiumRendersOffline(t *testing.T) {
	_, img := renderInChromium(t, fullData(t))
	// The charts are SVG: the screenshot must hold the palette's blue
	// (bars and points) somewhere, not just text.
	if !hasColour(img, palette[0], 8) {
		t.Error("screenshot has no chart colour: charts did not render")
	}
}

// renderInChromium writes d's report, opens it in headless Chromium with
// the network disabled and checks that the page ran without a script
// error; it returns the DOM the page built and a screenshot of its top.
// It skips the test only where Chromium is not installed.
func renderInChromium(t *testing.T, d *Data) (string, image.Image) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not installed: %v", chromium, err)
	}
	dir := t.TempDir()
	if _, err := Write(context.Background(), dir, d); err != nil {
		t.Fatal(err)
	}
	page := "file://" + filepath.Join(dir, HTMLFile)
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--no-first-run",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1280,2000", "--hide-scrollbars"}
	run := func(args ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append(append([]string{}, base...), args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
		}
		return out.String(), errb.String()
	}
	dom, stderr := run("--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", page)
	status := regexp.MustCompile(`<html[^>]*data-status="([^"]*)"`).FindStringSubmatch(dom)
	if status == nil {
		t.Fatalf("no data-status in the dumped DOM (%d bytes); stderr:\n%s", len(dom), stderr)
	}
	if status[1] != "ok" {
		t.Errorf("page status %q; want ok", status[1])
	}
	for _, bad := range []string{"Uncaught", "CONSOLE(", "ERR_"} {
		for _, line := range strings.Split(stderr, "\n") {
			if strings.Contains(line, bad) && strings.Contains(line, "report.html") {
				t.Errorf("console error: %s", line)
			}
		}
	}
	shot := filepath.Join(dir, "screenshot.png")
	run("--screenshot="+shot, page)
	img := checkPNG(t, shot, 0.05)
	if keep := os.Getenv("TABFORGE_KEEP_SCREENSHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(keep, b, 0o644)
	}
	return dom, img
}

// hasColour reports whether some pixel of img is within tol (per channel,
// 0-255) of c.
func hasColour(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }, tol int) bool {
	wr, wg, wb, _ := c.RGBA()
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if abs(int(pr>>8)-int(wr>>8)) <= tol && abs(int(pg>>8)-int(wg>>8)) <= tol && abs(int(pb>>8)-int(wb>>8)) <= tol {
				return true
			}
		}
	}
	return false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
