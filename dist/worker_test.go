package dist

import (
	"context"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
