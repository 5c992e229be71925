package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serving runs srv.Serve on a new loopback listener until the returned
// stop is called, which returns Serve's error.
func serving(t *testing.T, srv *Server) (f *fixture, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return &fixture{t: t, srv: srv, url: "http://" + ln.Addr().String()}, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Serve did not return within 30s of its context's end")
			return nil
		}
	}
}

// TestServeTwice: of two Serve calls at once on two listeners, the first
// to end leaves the prediction log open for the other, whose lines are
// all logged; a Serve after the last one ended is refused with
// ErrClosed. The first Serve to end used to close the log, and every
// later line was dropped (counted only in a metric).
func TestServeTwice(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	var log syncBuffer
	srv, err := New(context.Background(), reg, Options{PredictionLog: &log, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	body := mlflowBodies(header, rows)["dataframe_split"]
	a, stopA := serving(t, srv)
	b, stopB := serving(t, srv)
	for _, f := range []*fixture{a, b} {
		if code, out, _ := f.post("/invocations", "application/json", body); code != 200 {
			t.Fatalf("POST = %d %s", code, out)
		}
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if code, out, _ := b.post("/invocations", "application/json", body); code != 200 {
			t.Fatalf("POST to the Serve still running = %d %s", code, out)
		}
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), `"request_id"`); n != 5 {
		t.Errorf("prediction log has %d lines; want 5, one per request", n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), ln); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after the server closed = %v; want ErrClosed", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the refused Serve left its listener open")
	}
}

// TestReopenLog rotates a LogFile by renaming it and calling ReopenLog
// between requests: each request's line is in exactly one of the two
// files, the ones before the rename in the renamed file. Serve had no
// reopen, so it wrote on into the renamed file for good.
func TestReopenLog(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	dir := t.TempDir()
	path := filepath.Join(dir, "pred.log")
	lf, err := OpenLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	srv, err := New(context.Background(), reg, Options{PredictionLog: lf, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f, stop := serving(t, srv)
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	body := mlflowBodies(header, rows)["dataframe_split"]
	seq := 0
	post := func(n int) (ids []string) {
		for range n {
			seq++
			id := fmt.Sprintf("req-%d", seq)
			if code, out, _ := f.post("/invocations", "application/json", body, "X-Request-Id", id); code != 200 {
				t.Fatalf("POST = %d %s", code, out)
			}
			ids = append(ids, id)
		}
		return ids
	}
	before := post(4)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := srv.ReopenLog(); err != nil {
		t.Fatal(err)
	}
	after := post(3)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]string{path + ".1": before, path: after} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := logIDs(t, b); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s has the lines of requests %v; want %v", filepath.Base(file), got, want)
		}
	}
	if err := srv.ReopenLog(); !errors.Is(err, ErrClosed) {
		t.Errorf("ReopenLog after Serve ended = %v; want ErrClosed", err)
	}
}

// logIDs returns the request ids of the prediction log lines in b, in
// order, failing t on a line that is not whole JSON.
func logIDs(t *testing.T, b []byte) []string {
	t.Helper()
	var ids []string
	for line := range strings.Lines(string(b)) {
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		ids = append(ids, l.RequestID)
	}
	return ids
}
