package pipeline

import (
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestReportRows: the report explains at most the test rows there are,
// and says the budget cut them only when it did.
func TestReportRows(t *testing.T) {
	// A row costs 1/467 of the budget: 467 rows fit it.
	s := reportSizing{exact: true, rowCost: 1, budget: 467.5, minRows: 10, why: "costly"}
	for _, tc := range []struct {
		name     string
		s        reportSizing
		n, max   int
		want     int
		warnings bool
	}{
		{"fewer test rows than fit", s, 88, 0, 88, false},
		{"budget cuts", s, 1000, 0, 467, true},
		{"max_explain_rows cuts", s, 1000, 50, 50, false},
		{"floor", reportSizing{exact: true, rowCost: 1e9, budget: 1, minRows: 10, why: "costly"}, 1000, 0, 10, true},
		{"floor above the test rows", reportSizing{exact: true, rowCost: 1e9, budget: 1, minRows: 10, why: "costly"}, 6, 0, 6, false},
		{"free rows", reportSizing{exact: true}, 1000, 0, reportSHAPRows, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.MaxExplainRows = tc.max
			got, warning := reportRows(cfg, tc.s, tc.n)
			if got != tc.want || (warning != "") != tc.warnings {
				t.Fatalf("reportRows(%d test rows) = %d, %q; want %d rows, a warning %v", tc.n, got, warning, tc.want, tc.warnings)
			}
			if tc.warnings && !strings.Contains(warning, "SHAP values of ") {
				t.Errorf("warning %q does not say how many rows", warning)
			}
		})
	}
}
