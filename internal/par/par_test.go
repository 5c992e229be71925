package par

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTasks checks that every task runs exactly once, for worker counts
// below, at and above the number of tasks, and none for n = 0.
func TestTasks(t *testing.T) {
	for _, tc := range []struct{ workers, n int }{{1, 10}, {2, 10}, {4, 3}, {8, 1000}, {3, 0}, {0, 5}} {
		counts := make([]atomic.Int32, tc.n)
		Tasks(tc.workers, tc.n, func(i int) { counts[i].Add(1) })
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Errorf("workers %d, n %d: task %d ran %d times", tc.workers, tc.n, i, c)
			}
		}
	}
}

// TestWorkerPanicReachesCaller: a panic in a task on a worker goroutine
// is re-raised on the calling goroutine as a *Panic carrying the value
// and the worker's stack, after the other tasks ran, so a caller's
// recover (a server's, per request) catches it. It used to end the
// process, whatever the caller recovered.
func TestWorkerPanicReachesCaller(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(fn func(i int))
	}{
		{"Tasks", func(fn func(i int)) { Tasks(4, 16, fn) }},
		{"Group", func(fn func(i int)) {
			var g Group
			for i := range 16 {
				g.Go(func() { fn(i) })
			}
			g.Wait()
		}},
		{"nested", func(fn func(i int)) { Tasks(2, 2, func(o int) { Tasks(4, 8, func(i int) { fn(o*8 + i) }) }) }},
	} {
		var ran atomic.Int32
		var got any
		func() {
			defer func() { got = recover() }()
			tc.run(func(i int) {
				ran.Add(1)
				if i == 5 {
					panic("model bug")
				}
			})
		}()
		p, ok := got.(*Panic)
		if !ok || p.Value != "model bug" || !strings.Contains(string(p.Stack), "par_test.go") {
			t.Errorf("%s: recovered %#v; want a *Panic with the value and the worker's stack", tc.name, got)
			continue
		}
		if n := ran.Load(); n != 16 {
			t.Errorf("%s: %d tasks ran; want all 16 (the others finish before the panic is re-raised)", tc.name, n)
		}
	}
}

// TestRecover: deferred on an errgroup's goroutine, Recover turns its
// panic into the goroutine's error.
func TestRecover(t *testing.T) {
	err := func() (err error) {
		defer Recover(&err)
		panic(errors.New("boom"))
	}()
	var p *Panic
	if !errors.As(err, &p) || err.Error() == "" || !strings.Contains(err.Error(), "boom") || errors.Unwrap(err) == nil {
		t.Errorf("Recover gave %v; want a *Panic wrapping the panic's error", err)
	}
}
