package serve

import (
	"strings"
	"testing"
)

// TestFailureCountersStartAtZero: a served name's load-error and
// dropped-shadow counters are exported at 0 before anything fails. They
// appeared only with their first failure, at 1, so increase() over them
// saw no change and an alert on the first failure stayed silent.
func TestFailureCountersStartAtZero(t *testing.T) {
	f, _ := serveChurn(t, Options{})
	m := f.get("/metrics")
	for _, want := range []string{
		`tabforge_model_load_errors_total{model="churn"} 0`,
		`tabforge_shadow_dropped_total{model="churn"} 0`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %s:\n%s", want, grep(m, "tabforge_"))
		}
	}
}
