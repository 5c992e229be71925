package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/internal/syncbuf"
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
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("queue: %s", queueState(s.URL()))
		}
	})
	return s
}

// queueState describes the stream and consumer on the server at url, for
// a failing test's log.
func queueState(url string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := dial(ctx, url, "test diagnostics")
	if err != nil {
		return err.Error()
	}
	defer c.close()
	si, err := c.stream.Info(ctx)
	if err != nil {
		return err.Error()
	}
	ci, err := c.cons.Info(ctx)
	if err != nil {
		return err.Error()
	}
	keys, _ := c.results.Keys(ctx)
	out := fmt.Sprintf("stream %d msgs (first %d, last %d); consumer delivered %d, ack floor %d, ack pending %d, redelivered %d, pending %d, waiting pulls %d; %d results",
		si.State.Msgs, si.State.FirstSeq, si.State.LastSeq, ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumAckPending, ci.NumRedelivered, ci.NumPending, ci.NumWaiting, len(keys))
	if bi, err := c.builds.Info(ctx); err == nil {
		out += fmt.Sprintf("; %s %d msgs", BuildsStream, bi.State.Msgs)
	}
	list := c.builds.ListConsumers(ctx)
	for ci := range list.Info() {
		out += fmt.Sprintf("; consumer %s delivered %d, ack floor %d, ack pending %d, pending %d, waiting pulls %d",
			ci.Name, ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumAckPending, ci.NumPending, ci.NumWaiting)
	}
	return out
}

// failureLog is a logger whose output the test shows, as who's log, only
// when it fails.
func failureLog(t *testing.T, who string) *slog.Logger {
	var log syncbuf.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", who, log.String())
		}
	})
	return slog.New(slog.NewTextHandler(&log, nil))
}

// startWorkers runs n in-process workers until the test ends.
func startWorkers(t *testing.T, url string, r Runner, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	log := failureLog(t, "workers")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Worker{Runner: r, Concurrency: 2, ID: fmt.Sprint("w", i), Logger: log}
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
	e, err := Dial(context.Background(), s.URL(), Options{Logger: failureLog(t, "driver")})
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
			// A wait long beside three local square units, so that a call
			// that waited again is told from a slow one on a loaded machine.
			const wait = 3 * time.Second
			e, err := Dial(context.Background(), s.URL(), Options{WaitWorkers: wait, Fallback: tt.fallback})
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
			// Once fallen back, later calls (a run's next candidates and
			// trials) look for a worker without waiting for one again.
			for call := 2; call <= 3; call++ {
				start := time.Now()
				if got, err := collect(t, e, squareUnits(3)); err != nil || got[2] != "4" {
					t.Errorf("call %d: fallback gave %v, %v; want the local results", call, got, err)
				}
				if d := time.Since(start); d >= wait {
					t.Errorf("call %d took %s: waited for workers again", call, d)
				}
			}
		})
	}
}

// TestMessagesHideQueuePassword: errors that name the queue show its URL
// without the password, as run records and `config show` do.
func TestMessagesHideQueuePassword(t *testing.T) {
	s := startServer(t)
	const secret = "s3cret"
	withPassword := func(url string) string { return strings.Replace(url, "nats://", "nats://tf:"+secret+"@", 1) }
	e, err := Dial(context.Background(), withPassword(s.URL()), Options{WaitWorkers: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, noWorkers := collect(t, e, squareUnits(1))
	_, unreachable := Dial(context.Background(), withPassword("nats://127.0.0.1:1"), Options{})
	for name, err := range map[string]error{"no worker": noWorkers, "unreachable": unreachable} {
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "tf:xxxxx@") {
			t.Errorf("%s: error %v; want one naming the queue with its password hidden", name, err)
		}
	}
}

// slowRunner is squareRunner taking a while per unit.
type slowRunner struct{ squareRunner }

func (r *slowRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, n int) ([]byte, error) {
	time.Sleep(1500 * time.Millisecond)
	return r.squareRunner.Run(ctx, key, kind, spec, n)
}

// TestStaleErrorIgnored: a unit's failure that an earlier run left in the
// results bucket uncollected (that run stopped at another unit's error)
// is not this run's outcome. A driver used to read it before any worker
// reran the unit, and a run reported a candidate failed that every
// worker could now compute (for a day: the results' TTL).
func TestStaleErrorIgnored(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	units := squareUnits(2)
	c, err := dial(ctx, s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := json.Marshal(result{Error: "left by an earlier run", Worker: "old", Seq: 1 << 40})
	_, err = c.results.Put(ctx, resultKey(units[1].Key), stale)
	c.close()
	if err != nil {
		t.Fatal(err)
	}
	// One slow worker: unit 1 waits in the queue while the driver polls.
	// It stops before the server does (cleanups run last first).
	ctxW, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		if err := (&Worker{Runner: &slowRunner{}, ID: "slow", Logger: failureLog(t, "worker")}).Run(ctxW, s.URL()); err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	e, err := Dial(ctx, s.URL(), Options{WaitWorkers: 10 * time.Second, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := collect(t, e, units)
	if err != nil || got[1] != "1" {
		t.Errorf("Execute = %v, %v; want unit 1 computed (1), not the stale failure", got, err)
	}
}
