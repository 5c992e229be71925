package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestReportMulticlassPDP trains a three-species classifier on
// palmerpenguins and checks that its report has partial dependence
// curves (multiclass runs had none): for each plotted numeric input, a
// curve per species whose probabilities sum to 1 at every grid point, in
// report.json and as a chart in report.html.
func TestReportMulticlassPDP(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), "species"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 2, t.TempDir(), false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := reportData(t, res)
	if len(d.PDP) == 0 {
		t.Fatalf("no partial dependence in the report (warnings %q)", d.Warnings)
	}
	for _, p := range d.PDP {
		if len(p.Classes) != 3 || p.OtherClasses != 0 || p.Average != nil || p.ICE != nil {
			t.Fatalf("PDP of %s: %d class curves (%d left out), average %v, %d ICE curves; want the 3 species' curves alone",
				p.Feature, len(p.Classes), p.OtherClasses, p.Average, len(p.ICE))
		}
		for g, x := range p.Grid {
			sum := 0.0
			for _, c := range p.Classes {
				sum += c.Average[g]
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("PDP of %s at %v: the species' probabilities sum to %v", p.Feature, x, sum)
			}
		}
	}
	html, err := os.ReadFile(res.Report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Partial dependence: "+d.PDP[0].Feature) {
		t.Errorf("report.html has no partial dependence chart of %s", d.PDP[0].Feature)
	}
}
