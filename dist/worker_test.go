package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabforge/tabforge/internal/syncbuf"
	"github.com/tabforge/tabforge/store"
)

// TestWorkerBeforeServer: a worker started before its server (compose and
// Kubernetes start them together) waits for it and then runs units,
// rather than exiting and leaving the queue without workers; one stopped
// while it waits exits cleanly.
func TestWorkerBeforeServer(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	dir := t.TempDir()
	s, err := SpawnIn("", dir, 0) // to learn a free port, then stopped
	if err != nil {
		t.Fatal(err)
	}
	url, port := s.URL(), s.Port()
	s.Shutdown()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		w := &Worker{Runner: &squareRunner{}, ID: "early", Logger: failureLog(t, "worker")}
		errc <- w.Run(ctx, url)
	}()
	time.Sleep(4 * dialRetryEvery)
	select {
	case err := <-errc:
		t.Fatalf("a worker without a server returned %v; want it to wait for the server", err)
	default:
	}

	again, err := SpawnIn("", dir, port)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown()
	e, err := Dial(context.Background(), again.URL(), Options{WaitWorkers: 20 * time.Second, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := collect(t, e, squareUnits(3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got[i] != strconv.Itoa(i*i) {
			t.Errorf("unit %d = %q; want %d", i, got[i], i*i)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("worker stopped with %v; want nil", err)
	}

	// Stopped before any server came up: a clean exit, not an error.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*dialRetryEvery)
	defer cancel2()
	if err := (&Worker{Runner: &squareRunner{}}).Run(ctx2, "nats://127.0.0.1:1"); err != nil {
		t.Errorf("worker stopped while waiting for a server: %v; want nil", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	_, parseErr := neturl.Parse("nats://127.0.0.1:abc")
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dist: connect: %w", nats.ErrNoServers), true},
		{fmt.Errorf("dist: connect: %w", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}), true},
		{fmt.Errorf("dist: connect: %w", parseErr), false}, // a *url.Error is a net.Error too
		{fmt.Errorf("dist: stream: %w", jetstream.ErrJetStreamNotEnabled), false},
		{nats.ErrAuthorization, false},
	}
	for _, tt := range tests {
		if got := unreachableServer(tt.err); got != tt.want {
			t.Errorf("unreachableServer(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

// TestWorkerDropsUndecodable: a message on a unit subject that is not a
// unit (another program's, a corrupt or hostile publisher's) is
// terminated with a warning: it is not redelivered, no worker crashes on
// it, and the units after it run.
func TestWorkerDropsUndecodable(t *testing.T) {
	s := startServer(t)
	var log syncbuf.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", log.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		w := &Worker{Runner: &squareRunner{}, ID: "w0", Logger: slog.New(slog.NewTextHandler(&log, nil))}
		done <- w.Run(ctx, s.URL())
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	c, err := dial(ctx, s.URL(), "hostile publisher")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	bad := []string{`not json`, `{"key":""}`, `{"kind":"test","spec":"MQ=="}`, `{"key":"k","published":1e30}`, `{"key":"k","spec":"!"}`, `[]`, ``}
	for i, b := range bad {
		if _, err := c.js.Publish(ctx, unitSubject+"test", []byte(b), jetstream.WithMsgID(fmt.Sprint("bad", i))); err != nil {
			t.Fatal(err)
		}
	}
	e, err := Dial(ctx, s.URL(), Options{Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := collectTimeout(t, e, squareUnits(2), 30*time.Second)
	if err != nil {
		t.Fatalf("units after the bad messages: %v", err)
	}
	if got[0] != "0" || got[1] != "1" {
		t.Errorf("results %v; want 0 and 1", got)
	}
	// The worker fetches one message at a time in stream order, so the bad
	// ones were handled before the units.
	if n := strings.Count(log.String(), "dropping a message that is not a unit"); n != len(bad) {
		t.Errorf("%d warnings about messages that are not units; want %d", n, len(bad))
	}
	ci, err := c.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumAckPending != 0 || ci.NumRedelivered != 0 || ci.NumPending != 0 {
		t.Errorf("consumer: %d ack pending, %d redelivered, %d pending; want none (terminated)", ci.NumAckPending, ci.NumRedelivered, ci.NumPending)
	}
	si, err := c.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Msgs != 0 {
		t.Errorf("%d messages left in the stream; want 0", si.State.Msgs)
	}
}

// panicRunner panics on spec "panic" and squares the others.
type panicRunner struct{ squareRunner }

func (r *panicRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, n int) ([]byte, error) {
	if string(spec) == `"panic"` {
		panic("index out of range [3] with length 3")
	}
	return r.squareRunner.Run(ctx, key, kind, spec, n)
}

// TestWorkerSurvivesPanic: a unit whose run panics (a bug its spec hits)
// fails with the panic's message, once, and the worker lives on to run
// the next units; it does not crash, nor every worker it would be
// redelivered to.
func TestWorkerSurvivesPanic(t *testing.T) {
	s := startServer(t)
	r := &panicRunner{}
	startWorkers(t, s.URL(), r, 1)
	e, err := Dial(context.Background(), s.URL(), Options{Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	units := squareUnits(2)
	units[1].Spec = json.RawMessage(`"panic"`)
	_, err = collectTimeout(t, e, units, 30*time.Second)
	if want := "internal error (panic): index out of range"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a panicking unit gave %v; want an error with %q", err, want)
	}
	got, err := collectTimeout(t, e, squareUnits(3), 30*time.Second)
	if err != nil {
		t.Fatalf("units after the panic: %v", err)
	}
	if got[2] != "4" {
		t.Errorf("results after the panic %v; want 2 squared = 4 for the last", got)
	}
}

// outageRunner fails its first run with the store unreachable (a Redis
// restart under the worker), then squares as squareRunner does.
type outageRunner struct {
	squareRunner
	failed atomic.Bool
}

func (r *outageRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, workers int) ([]byte, error) {
	if !r.failed.Swap(true) {
		return nil, fmt.Errorf("pipeline: run x: get run x: %w: dial tcp 127.0.0.1:6379: connect: connection refused", store.ErrUnavailable)
	}
	return r.squareRunner.Run(ctx, key, kind, spec, workers)
}

// TestUnitRetriedWhileStoreDown: a unit that fails because the store is
// unreachable is handed back and run again, and the driver gets its
// result; the failure used to be its result, and failed the whole run
// over a Redis restart of a second.
func TestUnitRetriedWhileStoreDown(t *testing.T) {
	s := startServer(t)
	r := &outageRunner{}
	startWorkers(t, s.URL(), r, 1)
	e, err := Dial(context.Background(), s.URL(), Options{Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// 30s: the unit comes back after AckWait (6s).
	got, err := collectTimeout(t, e, squareUnits(1), 30*time.Second)
	if err != nil || got[0] != "0" {
		t.Fatalf("Execute = %v, %v; want the unit run again once the store answers", got, err)
	}
	if n := r.runs.Load(); n != 1 {
		t.Errorf("the unit ran %d times after the outage; want 1", n)
	}
}
