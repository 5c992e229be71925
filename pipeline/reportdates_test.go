package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/report"
)

// TestReportResidualBinsOfDates trains on txhousing and checks that the
// report's residual bins of the datetime column date say so, for the page
// to label them with dates rather than Unix seconds; the numeric year
// beside it stays a number.
func TestReportResidualBinsOfDates(t *testing.T) {
	cfg := txhousingConfig(t)
	// Few numeric inputs, so date and year are among the four binned.
	cfg.Drop = append(cfg.Drop, "listings", "inventory", "month")
	cfg.Models, cfg.CVFolds = []string{"ridge"}, 2
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := reportData(t, res)
	want := map[string]bool{"date": true, "year": false}
	for _, f := range d.ResidualBins {
		w, ok := want[f.Feature]
		if !ok {
			continue
		}
		if f.Datetime != w {
			t.Errorf("residual bins of %s: datetime %v; want %v", f.Feature, f.Datetime, w)
		}
		delete(want, f.Feature)
	}
	if len(want) > 0 {
		t.Errorf("no residual bins of %v among %d binned features", want, len(d.ResidualBins))
	}
}

// reportData reads the report.json a run wrote beside its report.
func reportData(t *testing.T, res *Result) *report.Data {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(res.Report), report.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	var d report.Data
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", report.DataFile, err)
	}
	return &d
}

// TestReportPDPOfDates trains gbdt on txhousing and checks that the
// report's partial dependence over the datetime column date says so, for
// the page to label its axis with dates rather than Unix seconds.
func TestReportPDPOfDates(t *testing.T) {
	cfg := txhousingConfig(t)
	cfg.Models, cfg.CVFolds = []string{"gbdt"}, 2
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := reportData(t, res)
	var names []string
	for _, p := range d.PDP {
		names = append(names, p.Feature)
		if p.Datetime != (p.Feature == "date") {
			t.Errorf("PDP of %s: datetime %v", p.Feature, p.Datetime)
		}
	}
	if !slices.Contains(names, "date") {
		t.Errorf("PDPs of %q; want date among them", names)
	}
}
