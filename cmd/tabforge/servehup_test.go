package main

import (
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

type countReopens struct{ n int }

func (c *countReopens) ReopenLog() error { c.n++; return nil }

// lineWriter sends each log line it is given on its channel.
type lineWriter chan string

func (w lineWriter) Write(b []byte) (int, error) {
	w <- string(b)
	return len(b), nil
}

// TestReopenOnHUP: SIGHUP reopens the prediction log and says so; with
// no --prediction-log it is ignored and says that, rather than "prediction
// log reopened" of a log that does not exist.
func TestReopenOnHUP(t *testing.T) {
	for _, tc := range []struct {
		hasLog  bool
		reopens int
		say     string
	}{
		{true, 1, "prediction log reopened"},
		{false, 0, "no --prediction-log to reopen"},
	} {
		srv := &countReopens{}
		lines := make(lineWriter, 1)
		stop := reopenOnHUP(srv, tc.hasLog, slog.New(slog.NewTextHandler(lines, nil)))
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-lines:
			if !strings.Contains(l, tc.say) || srv.n != tc.reopens {
				t.Errorf("SIGHUP with a log %t: logged %q, %d reopens; want %q, %d", tc.hasLog, l, srv.n, tc.say, tc.reopens)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("SIGHUP with a log %t: nothing logged within 10s", tc.hasLog)
		}
		stop()
	}
}
