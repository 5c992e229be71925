package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/config"
)

// Runner runs a unit rebuilt from its key, kind and spec with the given
// number of threads; pipeline.UnitRunner is the tabforge one.
type Runner interface {
	Run(ctx context.Context, key, kind string, spec json.RawMessage, workers int) ([]byte, error)
}

// Kinds is a Runner that hands each unit to the Runner of its kind, so
// that one worker runs every kind of unit a driver sends: CV folds,
// ensemble fits, `meta build` datasets, backtest periods.
type Kinds map[string]Runner

// Run implements Runner.
func (k Kinds) Run(ctx context.Context, key, kind string, spec json.RawMessage, workers int) ([]byte, error) {
	r, ok := k[kind]
	if !ok {
		return nil, fmt.Errorf("dist: this worker runs no %q units (an older tabforge than the driver?)", kind)
	}
	return r.Run(ctx, key, kind, spec, workers)
}

// Worker pulls units from the queue and runs them.
type Worker struct {
	// Runner rebuilds and runs the units.
	Runner Runner
	// Concurrency is how many units run at once; 0 means 1.
	Concurrency int
	// ID names the worker in heartbeats and results; "" means
	// host:pid.
	ID string
	// DataDir caches the dataset files Fetch gets; "" means a directory
	// under os.TempDir().
	DataDir string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// CodeVersion names this worker's build (registry.CodeVersion). A
	// unit whose driver sent another build's name fails without running,
	// with an error naming both; empty runs every unit, leaving the
	// Runner to refuse what it cannot rebuild.
	CodeVersion string

	conn    atomic.Pointer[conn]
	running atomic.Int64
	done    atomic.Int64
}

// Run serves units from the server at url until ctx ends. A unit running
// when ctx ends is handed back to the queue (nak) for another worker.
func (w *Worker) Run(ctx context.Context, url string) error {
	host, _ := os.Hostname()
	if w.ID == "" {
		w.ID = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n := max(1, w.Concurrency)
	c, err := dialWait(ctx, url, "tabforge worker "+w.ID, w.Logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the server
		}
		return err
	}
	defer c.close()
	w.conn.Store(c)
	defer w.conn.Store(nil)
	hb := Heartbeat{ID: w.ID, Host: host, PID: os.Getpid(), Concurrency: n, Started: time.Now().UTC()}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { w.heartbeat(gctx, c, hb); return nil })
	for range n {
		g.Go(func() error { return w.loop(gctx, c) })
	}
	w.Logger.Info("worker ready", "queue", config.RedactURL(url), "id", w.ID, "concurrency", n)
	err = g.Wait()
	_ = c.workers.Delete(context.WithoutCancel(ctx), heartbeatKey(w.ID))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// heartbeatKey is a worker id made safe for a bucket key.
func heartbeatKey(id string) string { return resultKey(id)[:17] }

func (w *Worker) heartbeat(ctx context.Context, c *conn, hb Heartbeat) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		hb.Running, hb.Done = int(w.running.Load()), w.done.Load()
		b, _ := json.Marshal(hb)
		if _, err := c.workers.Put(ctx, heartbeatKey(hb.ID), b); err != nil && ctx.Err() == nil {
			w.Logger.Warn("heartbeat", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loop fetches and handles one unit at a time until ctx ends.
func (w *Worker) loop(ctx context.Context, c *conn) error {
	for ctx.Err() == nil {
		batch, err := c.cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			if ctx.Err() == nil {
				w.Logger.Warn("fetch", "err", err)
				time.Sleep(250 * time.Millisecond) // the server may be restarting
			}
			continue
		}
		for msg := range batch.Messages() {
			w.handle(ctx, c, msg)
		}
	}
	return nil
}

// handle runs one unit and writes its result once.
func (w *Worker) handle(ctx context.Context, c *conn, msg jetstream.Msg) {
	var m message
	if err := json.Unmarshal(msg.Data(), &m); err != nil || m.Key == "" {
		w.Logger.Warn("dropping a message that is not a unit", "err", err)
		_ = msg.Term()
		return
	}
	rk := resultKey(m.Key)
	if e, err := c.results.Get(ctx, rk); err == nil {
		var old result
		if json.Unmarshal(e.Value(), &old) == nil && old.Error == "" {
			// Done before (a redelivery, or a duplicate outside the window):
			// a worker killed after storing its result, before its ack.
			w.Logger.Info("unit already done", "kind", m.Kind, "unit", rk[:13], "by", old.Worker)
			_ = msg.Ack()
			_ = c.nc.Publish(doneSubject+rk, nil)
			return
		}
		_ = c.results.Delete(ctx, rk) // a failure no driver collected: try again
	}
	delivery, seq := uint64(1), uint64(0)
	if md, err := msg.Metadata(); err == nil {
		delivery, seq = md.NumDelivered, md.Sequence.Stream
	}
	w.Logger.Info("unit start", "kind", m.Kind, "unit", rk[:13], "delivery", delivery)
	start := time.Now()
	w.running.Add(1)
	stop := keepAlive(msg)
	var b []byte
	var runErr error
	if m.Kind != PingKind {
		b, runErr = w.run(ctx, m)
	}
	stop()
	w.running.Add(-1)
	if ctx.Err() != nil {
		_ = msg.Nak() // stopping: hand the unit to another worker now
		return
	}
	r := result{Value: b, Worker: w.ID, Seq: seq, QueuedMS: ms(start.Sub(time.Unix(0, m.Published))), RunMS: ms(time.Since(start))}
	if runErr != nil {
		r.Value, r.Error = nil, runErr.Error()
		w.Logger.Warn("unit failed", "kind", m.Kind, "err", runErr)
	}
	enc, _ := json.Marshal(r)
	_, err := c.results.Create(ctx, rk, enc)
	dup := errors.Is(err, jetstream.ErrKeyExists) // another worker finished it first: its result stands
	if err != nil && !dup {
		w.Logger.Warn("writing a result failed; the unit will be redelivered", "err", err)
		_ = msg.Nak()
		return
	}
	_ = c.nc.Publish(doneSubject+rk, nil)
	_ = msg.Ack()
	w.done.Add(1)
	w.Logger.Info("unit done", "kind", m.Kind, "unit", rk[:13], "delivery", delivery, "duplicate", dup, "run_ms", r.RunMS, "queued_ms", r.QueuedMS)
}

// run runs the unit m with w.Runner, unless a driver of another build
// sent it: the spec of a newer driver's unit may mean more than this
// build reads from it (a field it does not know, a family it lacks), and
// an older driver's less, so neither is run by this build's rules.
func (w *Worker) run(ctx context.Context, m message) ([]byte, error) {
	if m.Code != "" && w.CodeVersion != "" && m.Code != w.CodeVersion {
		return nil, fmt.Errorf("dist: this %s unit was sent by %s, this worker is %s: run workers of the driver's build", m.Kind, m.Code, w.CodeVersion)
	}
	return w.Runner.Run(ctx, m.Key, m.Kind, m.Spec, 1)
}

// keepAlive sends in-progress acks every AckWait/4 until stop is called,
// so a long unit is not redelivered while its worker lives.
func keepAlive(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(AckWait / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
