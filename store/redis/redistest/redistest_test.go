package redistest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fatalTB stops a helper at its Fatal, as testing.T does, but lets the
// test look at the message and run the cleanups itself.
type fatalTB struct {
	testing.TB
	cleanups []func()
}

type fatal string

func (f *fatalTB) Fatal(args ...any)                 { panic(fatal(fmt.Sprint(args...))) }
func (f *fatalTB) Fatalf(format string, args ...any) { panic(fatal(fmt.Sprintf(format, args...))) }
func (f *fatalTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }

// catch runs fn and returns what it panicked with, or nil.
func catch(fn func()) (r any) {
	defer func() { r = recover() }()
	fn()
	return nil
}

// TestStartUnrunnable: a redis-server that cannot be executed fails the
// test with the exec error; Start and its cleanup must not panic on the
// process that never started.
func TestStartUnrunnable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redis-server"), []byte("not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	ft := &fatalTB{TB: t}
	r := catch(func() { Start(ft) })
	if msg, ok := r.(fatal); !ok || !strings.Contains(string(msg), "start redis-server") {
		t.Errorf("Start with an unrunnable redis-server: %v (%T), want a Fatal with the exec error", r, r)
	}
	for i := len(ft.cleanups) - 1; i >= 0; i-- {
		if r := catch(ft.cleanups[i]); r != nil {
			t.Errorf("cleanup panicked: %v", r)
		}
	}
}

// TestServerPidSilentPeer: the port picked for a server may be taken by
// any process, not only a Redis: serverPid must return an error from one
// that accepts and never answers instead of blocking start for good. The
// 10 s bound only tells a hang from an answer; the read times out in 1 s.
func TestServerPidSilentPeer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		_, err := serverPid(l.Addr().String())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("serverPid of a peer that never answers: no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serverPid blocked on a peer that never answers")
	}
}
