package report

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestBacktestPeriodAxis checks that the backtest chart's x axis names the
// periods by their start, one label each; it read "period (0 =
// 2013-01-01)" with ticks at 0, 0.5, 1, 1.5 and 2.
func TestBacktestPeriodAxis(t *testing.T) {
	// txhousing's backtest by year from 2013 (tabforge backtest --every
	// year --periods 3).
	b := &Backtest{Title: "Backtest of txhousing.csv", Metric: "r2", Periods: []string{"2013-01-01", "2014-01-01", "2015-01-01"},
		Series: []BacktestSeries{
			{Name: "static", Scores: []float64{0.8858, 0.7707, 0.6419}, Mean: 0.7661, Trainings: 1},
			{Name: "always", Scores: []float64{0.8858, 0.8871, 0.8891}, Mean: 0.8873, Trainings: 3},
		}}
	path := filepath.Join(t.TempDir(), "backtest.html")
	if err := WriteBacktest(path, b); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var xticks []string
	for _, m := range regexp.MustCompile(`class="tx">([^<]*)</text>`).FindAllSubmatch(page, -1) {
		xticks = append(xticks, string(m[1]))
	}
	if !slices.Equal(xticks, b.Periods) {
		t.Errorf("x tick labels %q; want the periods %q", xticks, b.Periods)
	}
}
