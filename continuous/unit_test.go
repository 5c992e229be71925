package continuous

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/internal/unitrec"
	"github.com/tabforge/tabforge/pipeline"
)

func strategiesText(r *BacktestResult) string {
	var b strings.Builder
	for _, s := range r.Strategies {
		fmt.Fprintf(&b, "%s mean %v trainings %d:", s.Name, s.Mean, s.Trainings)
		for _, p := range s.Periods {
			fmt.Fprintf(&b, " %s=%v %s", p.Start, p.Score, p.Decision) // versions are ids, not results
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestBacktestUnits: with an executor, the always strategy's periods
// after the first are units, and the backtest equals the one without;
// a worker's UnitRunner rebuilds a unit to the same score and refuses a
// unit of another build or whose file changed.
func TestBacktestUnits(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn = filepath.Join("..", "testdata", "txhousing.csv"), "median", "date"
	cfg.Drop, cfg.Models, cfg.CVFolds = []string{"volume"}, []string{"ridge"}, 0
	o := BacktestOptions{Every: "month", Start: "2010-01-01", Periods: 3, Policy: Policy{OnDemand: true, Decay: 0.05, MaxAge: 1}}
	o.Dir = t.TempDir()
	want, err := Backtest(t.Context(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	rec := &unitrec.Recorder{Local: pipeline.Local{Workers: 2}}
	o.Dir, o.Executor, o.CodeVersion = t.TempDir(), rec, "test build"
	got, err := Backtest(t.Context(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := strategiesText(got), strategiesText(want); g != w {
		t.Errorf("backtest with always as units:\n%s\nwant the one without:\n%s", g, w)
	}
	if len(rec.Units) != 2 {
		t.Fatalf("%d units; want the always strategy's 2 periods after the first", len(rec.Units))
	}
	u := rec.Units[1]
	for _, tc := range []struct {
		name, code string
		want       float64
		err        string
	}{
		{name: "same build", code: "test build", want: want.Strategies[2].Periods[2].Score},
		{name: "another build", code: "other build", err: "different tabforge build"},
	} {
		b, err := UnitRunner{CodeVersion: tc.code}.Run(t.Context(), u.Key, UnitKind, u.Spec, 1)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.err)
			}
			continue
		}
		var r periodResult
		if err != nil || json.Unmarshal(b, &r) != nil || r.Score == nil || *r.Score != tc.want {
			t.Errorf("%s: worker result %s, %v; want score %v", tc.name, b, err, tc.want)
		}
	}
	var s periodSpec
	if err := json.Unmarshal(u.Spec, &s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Test.Path, []byte("other rows"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (UnitRunner{CodeVersion: "test build"}).Run(t.Context(), u.Key, UnitKind, u.Spec, 1); err == nil || !strings.Contains(err.Error(), "holds other data") {
		t.Errorf("a unit whose period file changed: error %v; want one saying the file holds other data", err)
	}
}
