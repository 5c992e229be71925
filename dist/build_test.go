package dist

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWorkerRefusesOtherBuild: a worker runs the units of a driver of its
// own build, and of a driver that names none (an older one), but refuses
// a unit whose driver names another build, without running it, with an
// error naming both builds. The Runner got such units and ran them as
// its own build reads them.
func TestWorkerRefusesOtherBuild(t *testing.T) {
	s := startServer(t)
	r := &squareRunner{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		w := &Worker{Runner: r, ID: "old", CodeVersion: "tabforge 1.1+aaa", Logger: failureLog(t, "worker")}
		if err := w.Run(ctx, s.URL()); err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, tc := range []struct{ driver, err string }{
		{"tabforge 1.1+aaa", ""},
		{"", ""},
		{"tabforge 1.2+bbb", "sent by tabforge 1.2+bbb, this worker is tabforge 1.1+aaa"},
	} {
		e, err := Dial(context.Background(), s.URL(), Options{CodeVersion: tc.driver, Logger: failureLog(t, "driver")})
		if err != nil {
			t.Fatal(err)
		}
		before := r.runs.Load()
		got, err := collectTimeout(t, e, squareUnits(2), 30*time.Second)
		e.Close()
		if tc.err == "" {
			if err != nil || got[1] != "1" {
				t.Errorf("driver %q: %v, %v; want the units run", tc.driver, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("driver %q: %v; want an error with %q", tc.driver, err, tc.err)
		}
		if n := r.runs.Load() - before; n != 0 {
			t.Errorf("driver %q: the worker ran %d units", tc.driver, n)
		}
	}
}
