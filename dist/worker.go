package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store"
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
	// CodeVersion names this worker's build (registry.CodeVersion). The
	// worker pulls the units of drivers of its build (see BuildsStream),
	// and those of drivers naming no build while no older worker is
	// alive to take them; a unit naming another build that still reaches
	// it fails without running, with an error naming both. Empty pulls
	// only the units of drivers naming no build, and runs every one,
	// leaving the Runner to refuse what it cannot rebuild.
	CodeVersion string

	conn    atomic.Pointer[conn]
	running atomic.Int64
	done    atomic.Int64
	// shared is whether a worker naming a build pulls the shared
	// consumer too: while no worker announcing no build is alive.
	shared atomic.Bool
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
	var own jetstream.Consumer // the consumer of this worker's build
	if w.CodeVersion != "" {
		if own, err = c.buildConsumer(ctx, w.CodeVersion); err != nil {
			return err
		}
		w.checkShared(ctx, c)
	}
	w.conn.Store(c)
	defer w.conn.Store(nil)
	hb := Heartbeat{ID: w.ID, Host: host, PID: os.Getpid(), Concurrency: n, Started: time.Now().UTC(), Code: w.CodeVersion}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { w.heartbeat(gctx, c, hb, own); return nil })
	for range n {
		g.Go(func() error { return w.loop(gctx, c, own) })
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

func (w *Worker) heartbeat(ctx context.Context, c *conn, hb Heartbeat, own jetstream.Consumer) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		hb.Running, hb.Done = int(w.running.Load()), w.done.Load()
		b, _ := json.Marshal(hb)
		if _, err := c.workers.Put(ctx, heartbeatKey(hb.ID), b); err != nil && ctx.Err() == nil {
			w.Logger.Warn("heartbeat", "err", err)
		}
		if own != nil {
			w.tend(ctx, c, own)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loop fetches and handles one unit at a time until ctx ends: from own,
// the consumer of the worker's build, and, when w.shared says so, from
// the shared consumer without waiting, so that units of its build start
// at once and the others within a fetch's wait (at once while units keep
// coming: then neither fetch waits); with own nil, from the shared
// consumer only.
func (w *Worker) loop(ctx context.Context, c *conn, own jetstream.Consumer) error {
	busy := false
	for ctx.Err() == nil {
		if own == nil {
			w.fetch(ctx, c, c.cons, true)
			continue
		}
		busy = w.fetch(ctx, c, own, !busy)
		if w.shared.Load() && ctx.Err() == nil {
			busy = w.fetch(ctx, c, c.cons, false) || busy
		}
	}
	return nil
}

// fetch handles the next unit of cons, waiting up to 2 s for one if
// wait, and reports whether there was one.
func (w *Worker) fetch(ctx context.Context, c *conn, cons jetstream.Consumer, wait bool) (got bool) {
	var batch jetstream.MessageBatch
	var err error
	if wait {
		batch, err = cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	} else {
		batch, err = cons.FetchNoWait(1)
	}
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Warn("fetch", "err", err)
			time.Sleep(250 * time.Millisecond) // the server may be restarting
		}
		return false
	}
	for msg := range batch.Messages() {
		w.handle(ctx, c, msg)
		got = true
	}
	return got
}

// tend keeps the pulls of a worker naming a build right, once a
// heartbeat: it creates own, its build's consumer, again when that is
// gone (the server deletes one idle for buildConsumerIdle, after a long
// partition say, or an operator removed it; fetching from a consumer
// that is gone just finds nothing), and checks w.shared again while units
// wait in the shared consumer.
func (w *Worker) tend(ctx context.Context, c *conn, own jetstream.Consumer) {
	if _, err := own.Info(ctx); errors.Is(err, jetstream.ErrConsumerNotFound) {
		w.Logger.Warn("the consumer of this build is gone; creating it again", "consumer", buildConsumerName(w.CodeVersion))
		if _, err := c.buildConsumer(ctx, w.CodeVersion); err != nil && ctx.Err() == nil {
			w.Logger.Warn("creating the consumer failed; trying again at the next heartbeat", "err", err)
		}
	}
	if w.sharedWaiting(ctx, c) {
		w.checkShared(ctx, c)
	}
}

// sharedWaiting reports whether units wait in the shared consumer.
func (w *Worker) sharedWaiting(ctx context.Context, c *conn) bool {
	info, err := c.cons.Info(ctx)
	return err == nil && info.NumPending > 0
}

// checkShared sets w.shared from the workers alive now, and reports
// whether a worker announcing no build is among them. Listing them costs
// a request per worker, so the heartbeat does it only while units wait
// in the shared consumer.
func (w *Worker) checkShared(ctx context.Context, c *conn) (older bool) {
	ws, err := c.alive(ctx)
	if err != nil {
		return !w.shared.Load() // keep the last answer
	}
	older = olderAlive(ws, w.ID)
	w.shared.Store(!older)
	return older
}

// handle runs one unit and writes its result once.
func (w *Worker) handle(ctx context.Context, c *conn, msg jetstream.Msg) {
	m, err := decodeMessage(msg.Data())
	if err != nil {
		// Redelivering it would fail the same way on every worker.
		w.Logger.Warn("dropping a message that is not a unit", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	if m.Code != "" && w.CodeVersion != "" && m.Code != w.CodeVersion && w.checkShared(ctx, c) {
		// A unit of another build from the shared consumer, taken while
		// an older worker (maybe of its build) joined: hand it back.
		_ = msg.Nak()
		return
	}
	rk := resultKey(m.Key)
	if e, err := c.results.Get(ctx, rk); err == nil {
		if old, err := decodeResult(e.Value()); err == nil && old.Error == "" {
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
	if errors.Is(runErr, store.ErrUnavailable) && delivery < MaxDeliver {
		// The store is down (a Redis restart): a failure would be the
		// unit's result and fail the driver's run, while a delivery
		// AckWait later may find it back. The last delivery records
		// the failure, so the driver hears why.
		w.Logger.Warn("the store is unreachable; handing the unit back to run again", "kind", m.Kind, "unit", rk[:13], "delivery", delivery, "err", runErr)
		_ = msg.NakWithDelay(AckWait)
		return
	}
	r := result{Value: b, Worker: w.ID, Seq: seq, QueuedMS: ms(start.Sub(time.Unix(0, m.Published))), RunMS: ms(time.Since(start))}
	if runErr != nil {
		r.Value, r.Error = nil, runErr.Error()
		w.Logger.Warn("unit failed", "kind", m.Kind, "err", runErr)
	}
	enc, _ := json.Marshal(r)
	_, err = c.results.Create(ctx, rk, enc)
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
// sent it (a driver of 2026-12-07 that named its build on the shared
// subject, with no older worker alive to take the unit): the spec of a newer driver's unit may mean more than this
// build reads from it (a field it does not know, a family it lacks), and
// an older driver's less, so neither is run by this build's rules.
//
// A panic in the Runner fails the unit instead of the worker: the unit
// came from the network, and left to crash the process it would crash
// every worker it is redelivered to, MaxDeliver of them.
func (w *Worker) run(ctx context.Context, m message) (b []byte, err error) {
	if m.Code != "" && w.CodeVersion != "" && m.Code != w.CodeVersion {
		return nil, fmt.Errorf("dist: this %s unit was sent by %s, this worker is %s: run workers of the driver's build", m.Kind, m.Code, w.CodeVersion)
	}
	defer func() {
		if p := recover(); p != nil {
			w.Logger.Error("unit panicked", "kind", m.Kind, "unit", resultKey(m.Key)[:13], "panic", p, "stack", string(debug.Stack()))
			b, err = nil, fmt.Errorf("dist: %s unit: internal error (panic): %v", m.Kind, p)
		}
	}()
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
