package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
)

// TestCVUndefinedFolds: with time-series CV over data whose middle third
// holds one class only, one fold's AUC is undefined. The CV mean is then
// over the other folds, which the leaderboard (and the report, and
// --json) must say: it was left out silently, so "cv auc 0.87" read as a
// mean over all five folds.
func TestCVUndefinedFolds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("t,x,y\n")
	for i := range 300 {
		x := rng.Float64()
		y := "no"
		if (i < 90 || i >= 180) && x+rng.Float64()/2 > 0.75 {
			y = "yes"
		}
		fmt.Fprintf(&b, "%d,%g,%s\n", i, x, y)
	}
	data := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Models, cfg.CVFolds, cfg.Out = data, "y", "t", []string{"logistic"}, 5, t.TempDir()
	cfg.ForceProductionQuality = false
	// Training rows 0-239 in six blocks of 40: the third fold tests rows
	// 120-159, all "no".
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Leaderboard[0]
	if e.Model != "logistic" || e.CVFolds != 5 || e.CVUndefined["auc"] != 1 {
		t.Fatalf("%s: cv_folds %d, cv_undefined %v; want auc undefined on 1 of 5 folds", e.Model, e.CVFolds, e.CVUndefined)
	}
	if _, ok := e.CVUndefined["accuracy"]; ok {
		t.Errorf("cv_undefined %v; accuracy is defined on every fold", e.CVUndefined)
	}
	want := "auc undefined on 1 of 5 folds (mean over the other 4)"
	if got := eval.UndefinedText(e.CVUndefined, e.CVFolds); got != want {
		t.Errorf("UndefinedText = %q; want %q", got, want)
	}
	d := ReportData(res)
	if d.Leaderboard[0].CVUndefined["auc"] != 1 || d.Leaderboard[0].CVFolds != 5 {
		t.Errorf("report entry %+v; want the undefined folds carried", d.Leaderboard[0])
	}
}
