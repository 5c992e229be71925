package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
