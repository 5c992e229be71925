package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// The helper process's settings: which store, and where.
const (
	envHelperBackend = "TABFORGE_LEASE_HELPER_BACKEND"
	envHelperDSN     = "TABFORGE_LEASE_HELPER_DSN"
)

func openBackend(ctx context.Context, backend, dsn string) (store.Store, error) {
	if backend == "redis" {
		return redis.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, dsn)
}

// TestLeaseHelperProcess is the lease holder TestStoppedHolderLosesLease
// runs as a separate process; run directly, it does nothing. It claims
// job/p with a one-second lease, says so on stdout, and works under the
// lease's context until that ends, then exits 3 with the cause.
func TestLeaseHelperProcess(t *testing.T) {
	backend := os.Getenv(envHelperBackend)
	if backend == "" {
		return
	}
	ctx := context.Background()
	s, err := openBackend(ctx, backend, os.Getenv(envHelperDSN))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	lctx, l, err := store.Claim(ctx, s, "job", "p", time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println("claim:", err)
		os.Exit(2)
	}
	fmt.Println("claimed", l.Token)
	<-lctx.Done()
	fmt.Println("stopped:", context.Cause(lctx))
	os.Exit(3)
}

// TestStoppedHolderLosesLease stops a real holder process (SIGSTOP) past
// its lease, takes the lease over, and continues it (SIGCONT): the
// holder's next renewal finds the lease lost and it stops working, and
// the lease keeps the successor's token. The stopped holder used to
// renew over its successor on waking, and both went on working.
func TestStoppedHolderLosesLease(t *testing.T) {
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "tf.db")
			if backend == "redis" {
				dsn = redistest.URL(t)
			}
			testStoppedHolder(t, backend, dsn)
		})
	}
}

func testStoppedHolder(t *testing.T, backend, dsn string) {
	ctx := context.Background()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseHelperProcess$")
	cmd.Env = append(os.Environ(), envHelperBackend+"="+backend, envHelperDSN+"="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "claimed ") {
		t.Fatalf("holder's first line %q; want it claimed", lines.Text())
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	s, err := openBackend(ctx, backend, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Claimed as soon as the stopped holder's lease has expired.
	var l *store.Lease
	for deadline := time.Now().Add(30 * time.Second); l == nil; {
		_, l, err = store.Claim(ctx, s, "job", "p", time.Minute, slog.New(slog.DiscardHandler))
		if err != nil && (!errors.Is(err, store.ErrClaimed) || time.Now().After(deadline)) {
			t.Fatalf("successor's claim: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer l.Release()
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// A holder that never notices is killed after a while, which fails
	// the test below (it exits by the signal, not with 3).
	stuck := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer stuck.Stop()
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || len(rest) == 0 || !strings.Contains(rest[0], "lost: it expired") {
		t.Fatalf("continued holder: %v, said %q; want it stopped by the lost lease (exit 3)", err, rest)
	}
	r, err := s.GetRecord(ctx, "job", "p")
	if err != nil || store.LeaseToken(r) != l.Token {
		t.Fatalf("lease after the old holder continued = %v, %v; want the successor's token %d", r, err, l.Token)
	}
	if err := l.Renew(ctx); err != nil {
		t.Errorf("successor's Renew: %v", err)
	}
}
