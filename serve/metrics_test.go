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

// TestDurationBucketsReachDeadline: the request duration histogram has
// finite buckets up to the default request deadline (30s), so a slow
// answered request is not read as 10s, the largest bucket it had.
func TestDurationBucketsReachDeadline(t *testing.T) {
	f, _ := serveChurn(t, Options{})
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	if code, out, _ := f.post("/invocations", "text/csv", []byte(strings.Join(header, ",")+"\n"+strings.Join(rows[0], ",")+"\n")); code != 200 {
		t.Fatalf("prediction: %d %s", code, out)
	}
	buckets := grep(f.get("/metrics"), `tabforge_request_duration_seconds_bucket{model="churn"`)
	if !strings.Contains(buckets, `le="30"} 1`) {
		t.Errorf("duration buckets stop short of the 30s deadline:\n%s", buckets)
	}
}
