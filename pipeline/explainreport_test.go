package pipeline

import (
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestReportRows: the report explains at most the test rows there are,
// says the budget cut them only when it did, and explains an
// interventional model whose fewest rows overrun the budget against
// fewer background rows, then on fewer rows, within the budget.
func TestReportRows(t *testing.T) {
	// A row costs 1/467 of the budget: 467 rows fit it.
	s := reportSizing{exact: true, rowCost: 1, budget: 467.5, minRows: 10, why: "costly"}
	// Interventional rows costing 1 against 100 background rows; the
	// budget's share of the 10 rows' cost of 10 is the background share.
	iv := func(budget float64) reportSizing {
		return reportSizing{exact: true, probe: true, rowCost: 1, budget: budget, minRows: 10, background: 100, why: "costly"}
	}
	for _, tc := range []struct {
		name     string
		s        reportSizing
		n, max   int
		want     reportPlan
		warnings bool
	}{
		{"fewer test rows than fit", s, 88, 0, reportPlan{rows: 88}, false},
		{"budget cuts", s, 1000, 0, reportPlan{rows: 467}, true},
		{"max_explain_rows cuts", s, 1000, 50, reportPlan{rows: 50}, false},
		{"floor", reportSizing{exact: true, rowCost: 1, budget: 20.5, minRows: 20, why: "costly"}, 1000, 0, reportPlan{rows: 20}, true},
		{"below the floor", reportSizing{exact: true, rowCost: 1, budget: 4.5, minRows: 20, why: "costly"}, 1000, 0, reportPlan{rows: 4}, true},
		{"one row over the budget", reportSizing{exact: true, rowCost: 1e9, budget: 1, minRows: 20, why: "costly"}, 1000, 0, reportPlan{rows: 1}, true},
		{"below the floor, few test rows", reportSizing{exact: true, rowCost: 1, budget: 4.5, minRows: 10, why: "costly"}, 6, 0, reportPlan{rows: 4}, true},
		{"free rows", reportSizing{exact: true}, 1000, 0, reportPlan{rows: reportSHAPRows}, false},
		{"interventional within the budget", iv(40), 1000, 0, reportPlan{rows: 40}, true},
		{"interventional, fewer background rows", iv(4), 1000, 0, reportPlan{rows: 10, background: 40}, true},
		{"interventional, fewest background rows", iv(2), 1000, 0, reportPlan{rows: 10, background: 20}, true},
		{"interventional, fewer rows", iv(1), 1000, 0, reportPlan{rows: 5, background: 20}, true},
		{"interventional, one row", iv(0.01), 1000, 0, reportPlan{rows: 1, background: 20}, true},
		{"interventional, few test rows", iv(4), 5, 0, reportPlan{rows: 5, background: 80}, true},
		{"interventional, failed probe", reportSizing{exact: true, probe: true, rowCost: math.Inf(1), budget: 4, minRows: 10, why: "costly"}, 1000, 0, reportPlan{rows: 10}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.MaxExplainRows = tc.max
			got := reportRows(cfg, tc.s, tc.n)
			if got.rows != tc.want.rows || got.background != tc.want.background || (got.warning != "") != tc.warnings {
				t.Fatalf("reportRows(%d test rows) = %+v; want %d rows against %d background rows, a warning %v", tc.n, got, tc.want.rows, tc.want.background, tc.warnings)
			}
			if tc.warnings && !strings.Contains(got.warning, "SHAP values of ") {
				t.Errorf("warning %q does not say how many rows", got.warning)
			}
			if tc.want.background > 0 && !strings.Contains(got.warning, "background rows") {
				t.Errorf("warning %q does not say the background was cut", got.warning)
			}
		})
	}
}
