package serve

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestUnknownTopLevelKeys pins that request bodies with top-level keys
// the protocols do not name are served, as the reference servers serve
// them: MLflow 2.x's scoring server keeps only its four format keys and
// "params" (mlflow/pyfunc/scoring_server, _split_data_and_params), and
// hands "params" to a model's predict only when that takes params (it
// logs that they are ignored otherwise; tabforge models take none);
// KServe's V2 InferenceRequest is a pydantic model that ignores extra
// fields (kserve/protocol/rest/v2_datamodels.py), and Triton reads the
// members it knows. Clients such as KServe's docs send "model_name" in
// a V2 body; refusing them would break clients that work there.
// Ignored params are logged once per version (they were ignored without
// a word); empty ones, as in MLflow, are not.
func TestUnknownTopLevelKeys(t *testing.T) {
	var logs syncBuffer
	f, churn := serveChurn(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	header, rows := csvRows(t, "mlc_churn.csv", 5)
	p, want := wantPredictions(t, f.reg, churn.Version, writeCSV(t, t.TempDir(), header, rows))
	bodies := mlflowBodies(header, rows)
	for _, empty := range []any{nil, map[string]any{}} {
		if code, out, _ := f.post("/invocations", "application/json", withKeys(t, bodies["dataframe_split"], map[string]any{"params": empty})); code != http.StatusOK {
			t.Fatalf("params %v: %d %s", empty, code, out)
		}
	}
	if n := strings.Count(logs.String(), "params are ignored"); n != 0 {
		t.Errorf("empty params logged %d times; want none, as MLflow\n%s", n, logs.String())
	}
	extra := map[string]any{"params": map[string]any{"temperature": 0.5}, "client_request": "batch-7"}
	for format, body := range bodies {
		if format == "csv" {
			continue
		}
		code, out, _ := f.post("/invocations", "application/json", withKeys(t, body, extra))
		if code != http.StatusOK {
			t.Fatalf("%s with %v: %d %s", format, extra, code, out)
		}
		checkMLflow(t, format, p, want, out)
	}
	if n := strings.Count(logs.String(), "params are ignored"); n != 1 || !strings.Contains(logs.String(), "temperature") ||
		!strings.Contains(logs.String(), "version="+churn.Version) {
		t.Errorf("%d requests with params logged %d warnings; want one naming the params and the version\n%s", len(bodies)-1, n, logs.String())
	}
	v2 := v2Body(header, rows)
	v2["model_name"], v2["trace"] = "churn", map[string]any{"span": "abc"}
	code, out, _ := f.postJSON("/v2/models/churn/infer", v2)
	if code != http.StatusOK {
		t.Fatalf("v2 with model_name and trace: %d %s", code, out)
	}
	checkV2(t, p, want, churn.Version, out)
}

// withKeys returns the JSON object body with the keys of extra added.
func withKeys(t *testing.T, body []byte, extra map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
