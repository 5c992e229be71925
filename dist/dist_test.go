package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/pipeline"
)

// squareRunner squares the number in a unit's spec; spec "fail" fails.
type squareRunner struct{ runs atomic.Int64 }

func (r *squareRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, _ int) ([]byte, error) {
	r.runs.Add(1)
	if string(spec) == `"fail"` {
		return nil, errors.New("bad unit")
	}
	n, err := strconv.Atoi(string(spec))
	if err != nil {
		return nil, err
	}
	return []byte(strconv.Itoa(n * n)), nil
}

func squareUnits(n int) []pipeline.Unit {
	units := make([]pipeline.Unit, n)
	for i := range units {
		i := i
		units[i] = pipeline.Unit{Key: fmt.Sprintf("unit-%d-%d", time.Now().UnixNano(), i), Kind: "test", Spec: json.RawMessage(strconv.Itoa(i)),
			Run: func(context.Context) ([]byte, error) { return []byte(strconv.Itoa(i * i)), nil }}
	}
	return units
}

func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(0)
	if errors.Is(err, ErrNoEmbedded) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// startWorkers runs n in-process workers until the test ends.
func startWorkers(t *testing.T, url string, r Runner, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Worker{Runner: r, Concurrency: 2, ID: fmt.Sprint("w", i)}
			if err := w.Run(ctx, url); err != nil {
				t.Errorf("worker: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func collect(t *testing.T, e *Executor, units []pipeline.Unit) (map[int]string, error) {
	return collectTimeout(t, e, units, time.Minute)
}

func collectTimeout(t *testing.T, e *Executor, units []pipeline.Unit, d time.Duration) (map[int]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	got := map[int]string{}
	err := e.Execute(ctx, units, func(i int, r pipeline.UnitResult) error {
		if _, dup := got[i]; dup {
			t.Errorf("unit %d reported twice", i)
		}
		if r.Worker == "" {
			t.Errorf("unit %d: no worker named", i)
		}
		got[i] = string(r.Value)
		return nil
	})
	return got, err
}

func TestExecuteOnWorkers(t *testing.T) {
	s := startServer(t)
	r := &squareRunner{}
	startWorkers(t, s.URL(), r, 2)
	e, err := Dial(context.Background(), s.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	units := squareUnits(20)
	units[7].Key = units[3].Key // the same work twice: run once, reported for both
	units[7].Spec = units[3].Spec
	got, err := collect(t, e, units)
	if err != nil {
		t.Fatal(err)
	}
	for i := range units {
		want := strconv.Itoa(i * i)
		if i == 7 {
			want = "9"
		}
		if got[i] != want {
			t.Errorf("unit %d = %q; want %s", i, got[i], want)
		}
	}
	if n := r.runs.Load(); n != 19 {
		t.Errorf("workers ran %d units; want 19 (20 with one duplicate)", n)
	}
	// Running the same units again reads their results: nothing reruns.
	if _, err := collect(t, e, units); err != nil {
		t.Fatal(err)
	}
	if n := r.runs.Load(); n != 19 {
		t.Errorf("after a rerun workers ran %d units; want still 19", n)
	}
	bad := squareUnits(2)
	bad[1].Spec = json.RawMessage(`"fail"`)
	for try := range 2 { // the second time within the duplicate window too
		if _, err := collectTimeout(t, e, bad, 20*time.Second); err == nil || !strings.Contains(err.Error(), "bad unit") {
			t.Errorf("try %d: a failing unit gave %v; want its error", try, err)
		}
	}
}

func TestNoWorkers(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name     string
		fallback pipeline.Executor
	}{{"error", nil}, {"fallback local", pipeline.Local{Workers: 1}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Dial(context.Background(), s.URL(), Options{WaitWorkers: time.Second, Fallback: tt.fallback})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			start := time.Now()
			got, err := collect(t, e, squareUnits(3))
			if tt.fallback == nil {
				if !errors.Is(err, ErrNoWorkers) || !strings.Contains(err.Error(), "tabforge worker --queue") {
					t.Errorf("Execute without workers = %v; want ErrNoWorkers saying how to start one", err)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("took %s to say there is no worker", d)
				}
				return
			}
			if err != nil || got[2] != "4" {
				t.Errorf("fallback gave %v, %v; want the local results", got, err)
			}
		})
	}
}
