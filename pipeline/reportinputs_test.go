package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/report"
)

// TestReportSections trains on small testdata files and checks that the
// report Train writes has the sections of its task: for classification
// the confusion matrix, ROC and precision–recall charts and the threshold
// table; for every run the data overview (every column of the file but
// the dropped ones, the target's distribution over all its rows) and the
// effective configuration with the parameters of the best model.
func TestReportSections(t *testing.T) {
	cases := []struct {
		name, data, target string
		models             []string
		drop               []string
		want, absent       []string // HTML fragments
	}{
		{"binary", "credit_data.csv", "Status", []string{"logistic", "tree"}, nil,
			[]string{`<section id="confusion">`, `aria-label="ROC curve (test rows)"`, `aria-label="Precision–recall curve (test rows)"`, "0.5 (in use)", "AUC "},
			nil},
		{"regression", "ames.csv", "Sale_Price", []string{"ridge"}, []string{"Longitude", "Latitude"},
			[]string{`aria-label="Target histogram: Sale_Price"`},
			[]string{`aria-label="ROC curve`, "(in use)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data = filepath.Join("..", "testdata", c.data)
			cfg.Target, cfg.Models, cfg.Drop = c.target, c.models, c.drop
			cfg.CVFolds, cfg.ForceProductionQuality, cfg.Out = 2, false, t.TempDir()
			cfg.Store = "redis://:s3cret@localhost:6379/0"
			res, err := Train(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(res.Report)
			if err != nil {
				t.Fatal(err)
			}
			html := string(page)
			for _, w := range append(c.want, `<section id="data">`, `<section id="params">`, "target: "+c.target, "(best)") {
				if !strings.Contains(html, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range append(c.absent, "s3cret") {
				if strings.Contains(html, w) {
					t.Errorf("report has %q", w)
				}
			}
			var d report.Data
			js, err := os.ReadFile(filepath.Join(filepath.Dir(res.Report), report.DataFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(js, &d); err != nil {
				t.Fatal(err)
			}
			checkOverview(t, cfg, &d)
		})
	}
}

// checkOverview compares the data overview with the file: rows with a
// target, one entry per kept column, the target distribution summing to
// the rows.
func checkOverview(t *testing.T, cfg *config.Config, d *report.Data) {
	t.Helper()
	o := d.Overview
	if o == nil {
		t.Fatal("no overview in report.json")
	}
	if o.Rows != d.TrainRows+d.TestRows {
		t.Errorf("overview rows %d; the run had %d train + %d test", o.Rows, d.TrainRows, d.TestRows)
	}
	head, err := os.ReadFile(cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Split(strings.SplitN(string(head), "\n", 2)[0], ",")
	if want := len(header) - len(cfg.Drop); len(o.Columns) != want {
		t.Errorf("overview has %d columns; the file has %d kept", len(o.Columns), want)
	}
	last := o.Columns[len(o.Columns)-1]
	if !last.Target || last.Name != cfg.Target {
		t.Errorf("last column %+v; want the target", last)
	}
	n := 0
	for _, b := range o.Target {
		n += b.Count
	}
	if n != o.Rows {
		t.Errorf("target distribution counts %d rows; want %d", n, o.Rows)
	}
	if len(d.Leaderboard) == 0 || len(d.Leaderboard[0].Params) == 0 {
		t.Error("no parameters of the best model in report.json")
	}
}
