package serve

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDrainTimeout: a request still uploading when the drain timeout
// passes is cut off, and Serve says so (it returned a bare "context
// deadline exceeded", which the CLI printed as its whole error). A
// handler still running after that may finish its prediction: its log
// line is dropped and counted, where it used to panic sending on the
// closed log queue.
func TestDrainTimeout(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, reg, Options{DrainTimeout: 100 * time.Millisecond, PredictionLog: &log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\nstate\n")
	waitFor(t, func() bool { return len(srv.reading) == 1 }) // the handler is reading the body
	cancel()
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "in flight after the drain timeout of 100ms") {
			t.Errorf("Serve past the drain timeout = %v; want an error saying requests were cut off", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of its context's end")
	}
	d := srv.set.Load().names["churn"]
	late := &call{id: "late", start: time.Now(), name: "churn", v: d.production(), variant: "production", t: &table{csv: []byte("state\nKS\n"), rows: 1}}
	srv.log.write(late, false, []string{"no"}, false)
	rec := httptest.NewRecorder()
	srv.metrics.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if m := rec.Body.String(); !strings.Contains(m, "tabforge_prediction_log_dropped_total 1") {
		t.Errorf("a line written after close is not counted as dropped:\n%s", grep(m, "dropped"))
	}
}
