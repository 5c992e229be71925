package serve

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCloseFlushesLog serves Handler on a server of the caller's own, as
// the package example does, with a prediction log: Close writes the
// queued line out. Before Close existed only Serve closed the log, so
// such a caller lost up to the last second of lines at exit and leaked
// the log's goroutine.
func TestCloseFlushesLog(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	var log syncBuffer
	srv, err := New(context.Background(), reg, Options{PredictionLog: &log})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	var body bytes.Buffer
	w := csv.NewWriter(&body)
	w.Write(header)
	w.WriteAll(rows)
	f := &fixture{t: t, reg: reg, srv: srv, url: ts.URL}
	if code, b, _ := f.post("/invocations", "text/csv", body.Bytes()); code != 200 {
		t.Fatalf("POST /invocations = %d %s", code, b)
	}
	ts.Close()
	for range 2 { // a second Close is harmless
		if err := srv.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}
	if n := strings.Count(log.String(), `"request_id"`); n != 1 {
		t.Errorf("prediction log after Close has %d lines; want 1:\n%s", n, log.String())
	}
}
