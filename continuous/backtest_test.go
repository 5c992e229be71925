package continuous

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// txhousingBacktest is a small backtest of Texas housing: ridge models,
// no cross-validation, periods months from January 2010.
func txhousingBacktest(t *testing.T, periods int, pol Policy) *BacktestResult {
	t.Helper()
	cfg := txConfig(filepath.Join("..", "testdata", "txhousing.csv"))
	r, err := Backtest(context.Background(), cfg, BacktestOptions{Every: "month", Start: "2010-01-01", Periods: periods, Policy: pol, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBacktest checks the shape and bookkeeping of a backtest: every
// strategy is scored on the same periods, the first period by the same
// first model, means are the periods' means, static trains once and
// always once a period; continuous, without on-demand, trains a
// challenger before every period and says what it decided.
func TestBacktest(t *testing.T) {
	r := txhousingBacktest(t, 3, Policy{})
	if r.Metric != "r2" || len(r.Strategies) != 3 {
		t.Fatalf("backtest = %s, %d strategies; want r2, 3", r.Metric, len(r.Strategies))
	}
	wantTrainings := map[string]int{Static: 1, Continuous: 3, Always: 3}
	for i, s := range r.Strategies {
		if s.Name != []string{Static, Continuous, Always}[i] || len(s.Periods) != 3 || s.Trainings != wantTrainings[s.Name] || s.TrainSeconds <= 0 {
			t.Fatalf("strategy %d = %+v; want %d periods and %d trainings", i, s, 3, wantTrainings[s.Name])
		}
		mean := 0.0
		for j, p := range s.Periods {
			// 46 Texas cities a month.
			if want := []string{"2010-01-01", "2010-02-01", "2010-03-01"}[j]; p.Start != want || p.Rows != 46 {
				t.Errorf("%s period %d = %+v; want %s, 46 rows", s.Name, j, p, want)
			}
			mean += p.Score / 3
		}
		if math.Abs(mean-s.Mean) > 1e-12 || s.Periods[0].Score != r.Strategies[0].Periods[0].Score {
			t.Errorf("%s: mean %v of %+v; want %v and the first model's first score", s.Name, s.Mean, s.Periods, mean)
		}
	}
	cont, always := r.Strategies[1], r.Strategies[2]
	for j, p := range cont.Periods[1:] {
		if p.Decision != Promote && p.Decision != Keep || p.Reason == "" || p.Version == "" {
			t.Errorf("continuous period %d = %+v; want a decision with its reason", j+1, p)
		}
		// A promoted challenger is the model always trained on the same
		// rows with the same configuration: the same scores.
		if p.Decision == Promote && p.Score != always.Periods[j+1].Score {
			t.Errorf("continuous promoted in period %d: score %v; want always's %v", j+1, p.Score, always.Periods[j+1].Score)
		}
	}
	html := filepath.Join(t.TempDir(), "backtest.html")
	if err := r.WriteHTML(html, "txhousing"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "continuous") {
		t.Errorf("backtest page: %v; want an SVG chart naming the strategies", err)
	}
}

// TestBacktestOnDemand: with a tolerance no decay exceeds, continuous
// never trains a challenger and serves the first model, as static does.
func TestBacktestOnDemand(t *testing.T) {
	r := txhousingBacktest(t, 2, Policy{OnDemand: true, Decay: 1e9})
	static, cont := r.Strategies[0], r.Strategies[1]
	if cont.Trainings != 1 || cont.Mean != static.Mean || cont.Periods[1].Decision != Keep || !strings.Contains(cont.Periods[1].Reason, "on demand") {
		t.Errorf("on-demand continuous = %+v; want no challenger and static's scores", cont)
	}
}

// TestBacktestMaxAge: with a tolerance no decay exceeds, an on-demand
// policy with MaxAge 2 keeps the first model for two periods, then
// trains a challenger because the champion is two data versions old.
func TestBacktestMaxAge(t *testing.T) {
	r := txhousingBacktest(t, 4, Policy{OnDemand: true, Decay: 1e9, MaxAge: 2})
	cont := r.Strategies[1]
	if cont.Trainings != 2 || cont.Periods[1].Decision != Keep || cont.Periods[2].Decision != Keep || !strings.Contains(cont.Periods[3].Reason, "max age 2") {
		t.Errorf("continuous with max age 2 = %+v; want a challenger in the fourth period only", cont)
	}
}

// TestBacktestPeriodWithoutTargets: a period whose targets are all
// missing fails the backtest with the reason, not a crash while its
// decision is recorded.
func TestBacktestPeriodWithoutTargets(t *testing.T) {
	cfg := editedTxhousing(t, func(header string, rows []string) []string {
		target := slices.Index(strings.Split(header, ","), `"median"`)
		for i, l := range rows {
			if strings.Contains(l, `"2010-02-`) { // the second period has no targets
				cells := strings.Split(l, ",")
				cells[target] = "NA"
				rows[i] = strings.Join(cells, ",")
			}
		}
		return rows
	})
	_, err := Backtest(context.Background(), cfg, BacktestOptions{Every: "month", Start: "2010-01-01", Periods: 2, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "2010-02-01") || !strings.Contains(err.Error(), "no values") {
		t.Errorf("backtest with a period of missing targets: %v; want its period and reason", err)
	}
}

// TestBacktestTinyPeriods: one city's last 14 months, a period a row.
// r2 is undefined on one row: a backtest that could score no period is
// an error, not a success of NaN scores (and the regression target is
// never read as classes).
func TestBacktestTinyPeriods(t *testing.T) {
	cfg := editedTxhousing(t, func(_ string, rows []string) []string {
		var city []string
		for _, l := range rows {
			if strings.HasPrefix(l, `"Abilene"`) {
				city = append(city, l)
			}
		}
		return city[len(city)-14:]
	})
	cfg.MinR2Threshold, cfg.MinBusinessAccuracy = 0, 0
	for _, c := range []struct {
		periods int
		want    string
	}{
		{1, "no period could be scored"}, // the first period alone: scored, undefined
		{3, "undefined"},                 // continuous refuses to decide on one row
	} {
		_, err := Backtest(context.Background(), cfg, BacktestOptions{Every: "month", Start: "2015-05-01", Periods: c.periods, Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "training label") {
			t.Errorf("backtest of %d periods of one row: %v; want an error saying %q", c.periods, err, c.want)
		}
	}
}

// editedTxhousing writes Texas housing with its data rows edited and
// returns its txConfig.
func editedTxhousing(t *testing.T, edit func(header string, rows []string) []string) *config.Config {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "txhousing.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	data := filepath.Join(t.TempDir(), "tx.csv")
	if err := os.WriteFile(data, []byte(lines[0]+"\n"+strings.Join(edit(lines[0], lines[1:]), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return txConfig(data)
}

// txConfig is a ridge backtest config of Texas housing at data: median
// by date, without volume, no cross-validation.
func txConfig(data string) *config.Config {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn = data, "median", "date"
	cfg.Drop, cfg.Models, cfg.CVFolds = []string{"volume"}, []string{"ridge"}, 0
	return cfg
}
