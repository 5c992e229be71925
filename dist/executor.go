package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
)

// ErrNoWorkers reports that no worker is connected to the queue; it is
// pipeline.ErrNoWorkers, which stops tuning and fails the run.
var ErrNoWorkers = pipeline.ErrNoWorkers

// Options configure an Executor; the zero value works.
type Options struct {
	// Fallback runs the units when no worker is connected (and the ones
	// left when every worker is gone); nil makes that ErrNoWorkers.
	Fallback pipeline.Executor
	// WaitWorkers is how long the driver waits for a first worker, and
	// how long it tolerates having none while units are pending; once
	// units ran in Fallback, later calls look for a worker without
	// waiting. Default 5s.
	WaitWorkers time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// CodeVersion names the driver's build (registry.CodeVersion). Its
	// units go only to workers of the same build (see BuildsStream),
	// which read their specs by the rules the driver wrote them by; with
	// no such worker alive, Execute fails (or falls back) with
	// ErrNoWorkers naming both builds. Empty sends units any worker runs.
	CodeVersion string
}

// Executor runs pipeline units on workers through JetStream. It is safe
// for concurrent use by the pipeline's Execute calls.
type Executor struct {
	c   *conn
	url string
	o   Options
	// waiters get result keys as workers announce them.
	notify *notifier
	// fellBack is set once units ran in Options.Fallback for want of
	// workers: later Execute calls then look for a worker once instead of
	// waiting WaitWorkers each (a run of many candidates or trials would
	// otherwise wait seconds before every one of them).
	fellBack atomic.Bool
}

var (
	_ pipeline.Executor = (*Executor)(nil)
	_ pipeline.Parallel = (*Executor)(nil)
	_ pipeline.Sharer   = (*Executor)(nil)
)

// Dial connects an Executor to the JetStream server at url, creating
// the stream, consumer and buckets if they are missing.
func Dial(ctx context.Context, url string, o Options) (*Executor, error) {
	if o.WaitWorkers <= 0 {
		o.WaitWorkers = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := dial(ctx, url, "tabforge driver")
	if err != nil {
		return nil, err
	}
	e := &Executor{c: c, url: url, o: o, notify: newNotifier()}
	_, err = c.nc.Subscribe(doneSubject+"*", func(m *nats.Msg) { e.notify.send(m.Subject[len(doneSubject):]) })
	if err == nil {
		// The server gave up on a unit after MaxDeliver deliveries.
		_, err = c.nc.Subscribe(e.maxDeliveries(), func(m *nats.Msg) {
			if seq, err := decodeAdvisory(m.Data); err == nil {
				e.notify.send(maxKey(seq))
			} else {
				o.Logger.Warn("ignoring a max-deliveries advisory", "err", err)
			}
		})
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("dist: subscribe: %w", err)
	}
	return e, nil
}

// unitStream is the stream the driver's units travel in.
func (e *Executor) unitStream() jetstream.Stream {
	if e.o.CodeVersion == "" {
		return e.c.stream
	}
	return e.c.builds
}

// maxDeliveries is the subject of the server's advisories for the
// driver's units it stopped redelivering.
func (e *Executor) maxDeliveries() string {
	if e.o.CodeVersion == "" {
		return maxDeliveriesSubject + StreamName + "." + ConsumerName
	}
	return maxDeliveriesSubject + BuildsStream + "." + buildConsumerName(e.o.CodeVersion)
}

// Close drains the connection.
func (e *Executor) Close() error {
	e.c.close()
	return nil
}

// URL is the server the executor sends units to.
func (e *Executor) URL() string { return e.url }

// Execute implements pipeline.Executor: it publishes the units, then
// collects their results from the results bucket as workers announce
// them (and by polling, in case an announcement was missed). A unit a
// worker failed is an error; so is a unit the server gave up redelivering.
func (e *Executor) Execute(ctx context.Context, units []pipeline.Unit, done func(i int, r pipeline.UnitResult) error) error {
	if len(units) == 0 {
		return nil
	}
	if err := e.waitWorkers(ctx); err != nil {
		return e.fallback(ctx, units, nil, done, err)
	}
	cl := &collection{e: e, units: units, done: done,
		keys:    make(map[string][]int, len(units)),  // result key → unit indices
		seqs:    make(map[string]uint64, len(units)), // result key → the message that runs it
		pending: make(map[int]bool, len(units)),
	}
	defer cl.abandon(ctx)
	ch := e.notify.subscribe()
	defer e.notify.unsubscribe(ch)
	for i, u := range units {
		rk := resultKey(u.Key)
		cl.keys[rk] = append(cl.keys[rk], i)
		cl.pending[i] = true
		if len(cl.keys[rk]) > 1 {
			continue // the same work twice: one message, one result
		}
		seq, err := e.publish(ctx, u)
		if err != nil {
			return err
		}
		cl.seqs[rk] = seq
		cl.keys[maxKey(seq)] = []int{i}
	}
	return e.collect(ctx, cl, ch)
}

// publish queues u and returns its stream sequence number.
func (e *Executor) publish(ctx context.Context, u pipeline.Unit) (uint64, error) {
	ack, err := e.send(ctx, u, u.Key)
	if err != nil {
		return 0, err
	}
	if ack.Duplicate {
		// The server dropped it as a duplicate of a recent message. If
		// that one is gone and left no result, or only a failure (not a
		// result: a rerun must retry it), nothing would run it: queue it
		// anew.
		_, gone := e.unitStream().GetMsg(ctx, ack.Sequence)
		r, ok, rerr := e.result(ctx, resultKey(u.Key))
		if errors.Is(gone, jetstream.ErrMsgNotFound) && rerr == nil && (!ok || r.Error != "") {
			return e.publishAnew(ctx, u)
		}
	}
	return ack.Sequence, nil
}

// publishAnew queues u under a message id of its own, which the
// duplicate window cannot match to an earlier message of u's, and
// returns its stream sequence number: for a unit whose message is gone.
func (e *Executor) publishAnew(ctx context.Context, u pipeline.Unit) (uint64, error) {
	ack, err := e.send(ctx, u, fmt.Sprintf("%s#%d", u.Key, time.Now().UnixNano()))
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// send publishes u with the message id id.
func (e *Executor) send(ctx context.Context, u pipeline.Unit, id string) (*jetstream.PubAck, error) {
	b, err := json.Marshal(message{Key: u.Key, Kind: u.Kind, Spec: u.Spec, Published: time.Now().UnixNano(), Code: e.o.CodeVersion})
	if err != nil {
		return nil, fmt.Errorf("dist: unit %s: %w", u.Key, err)
	}
	ack, err := e.publishRetry(ctx, unitSubjectOf(e.o.CodeVersion, u.Kind), b, id)
	if err != nil {
		return nil, fmt.Errorf("dist: publish unit %s: %w", u.Kind, err)
	}
	return ack, nil
}

// errRead marks a result that could not be read (the server is down),
// as opposed to one that could not be decoded.
var errRead = errors.New("read result")

// serverGrace is how long the driver keeps retrying while the server
// cannot be reached (a restart) before it gives up.
const serverGrace = 2 * time.Minute

// publishRetry publishes with the message id id, retrying while the
// server is unreachable for up to serverGrace: the id makes a repeated
// publish harmless (the stream drops duplicates).
func (e *Executor) publishRetry(ctx context.Context, subject string, b []byte, id string) (*jetstream.PubAck, error) {
	deadline := time.Now().Add(serverGrace)
	for {
		ack, err := e.c.js.Publish(ctx, subject, b, jetstream.WithMsgID(id))
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return ack, err
		}
		e.o.Logger.Warn("publish failed; retrying (is the server restarting?)", "err", err)
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// collect waits for the results of the pending units.
func (e *Executor) collect(ctx context.Context, cl *collection, ch <-chan string) error {
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	lost := time.NewTicker(requeueEvery)
	defer lost.Stop()
	noWorkerSince := time.Time{}
	for len(cl.pending) > 0 {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-lost.C:
			if err := cl.requeueLost(ctx); err != nil {
				return err
			}
		case rk := <-ch:
			if err := cl.check(ctx, rk); err != nil {
				return err
			}
		case <-poll.C:
			for rk := range cl.keys {
				if strings.HasPrefix(rk, maxPrefix) {
					continue
				}
				if err := cl.check(ctx, rk); err != nil {
					return err
				}
			}
			if len(cl.pending) == 0 {
				continue
			}
			ws, err := e.c.alive(ctx)
			switch {
			case err != nil || len(ofBuild(ws, e.o.CodeVersion)) > 0:
				noWorkerSince = time.Time{}
			case noWorkerSince.IsZero():
				noWorkerSince = time.Now()
			case time.Since(noWorkerSince) > e.o.WaitWorkers:
				// Before the fallback runs them here: a worker of the build
				// that joins meanwhile would run them again.
				cl.abandon(ctx)
				return e.fallback(ctx, cl.units, cl.pending, cl.done, e.noWorkers(ws, fmt.Sprintf("every worker left with %d units pending", len(cl.pending))))
			}
		}
	}
	return nil
}

// collection is the state of one collect: the units, the keys naming
// them (units with the same work share a result key; a max-deliveries
// key names the unit the server gave up on), the stream sequence of the
// message each result key was queued as, the units still pending, and
// since when results have been unreadable, and the undecodable results
// read of each key. It lets a key announced on
// the channel and one found by polling be handled the same way.
type collection struct {
	e                *Executor
	units            []pipeline.Unit
	keys             map[string][]int
	seqs             map[string]uint64
	pending          map[int]bool
	done             func(int, pipeline.UnitResult) error
	unreachableSince time.Time
	bad              map[string]badResults // by result key
}

// unreachable tolerates read errors for serverGrace (a restart): it
// returns err only once results have been unreadable for longer.
func (cl *collection) unreachable(err error) error {
	if cl.unreachableSince.IsZero() {
		cl.unreachableSince = time.Now()
		cl.e.o.Logger.Warn("cannot read results; retrying (is the server restarting?)", "err", err)
	}
	if time.Since(cl.unreachableSince) > serverGrace {
		return err
	}
	return nil
}

// check reads result key rk and, if its result is in, hands it to done
// for every pending unit it names. A unit that failed on its worker, or
// was delivered too often, is an error; a result not in yet is not, nor
// is one that does not decode, which is discarded and the unit run
// again, up to maxUndecodable times.
func (cl *collection) check(ctx context.Context, rk string) error {
	idx, ok := cl.keys[rk]
	if !ok || !cl.pending[idx[0]] {
		return nil
	}
	if strings.HasPrefix(rk, maxPrefix) {
		return fmt.Errorf("dist: %s unit was delivered %d times and never finished (did it crash every worker that ran it?)", cl.units[idx[0]].Kind, MaxDeliver)
	}
	r, ok, err := cl.e.result(ctx, rk)
	if errors.Is(err, errRead) {
		return cl.unreachable(err)
	}
	var bad *undecodable
	if errors.As(err, &bad) {
		return cl.discard(ctx, rk, bad)
	}
	if err != nil {
		return err
	}
	cl.unreachableSince = time.Time{}
	if !ok {
		return nil
	}
	if r.Error != "" && r.Seq != 0 && r.Seq != cl.seqs[rk] && cl.e.queued(ctx, cl.seqs[rk]) {
		// The failure of an earlier message with this key that no
		// driver collected (its run had stopped at another unit's
		// error), while this run's message still waits: the worker
		// that gets it drops the failure and runs the unit again.
		// Errors are left in the bucket (not deleted on reading), so
		// that every driver waiting on the unit sees its failure.
		return nil
	}
	if r.Error != "" {
		return fmt.Errorf("%s unit failed on worker %s: %s", cl.units[idx[0]].Kind, r.Worker, r.Error)
	}
	ur := pipeline.UnitResult{Value: r.Value, Worker: r.Worker, Queued: msDuration(r.QueuedMS), Run: msDuration(r.RunMS)}
	for _, i := range idx {
		delete(cl.pending, i)
		if err := cl.done(i, ur); err != nil {
			return err
		}
	}
	return nil
}

// abandonTimeout bounds the removal of the messages of units a driver
// gives up on: a request each, on a context of their own (the driver's
// may have ended, which is often why it gives up).
const abandonTimeout = 10 * time.Second

// abandon removes from the builds stream the messages of the units still
// pending, once the driver stops waiting for them: every worker of its
// build left, another unit failed, ctx ended. Nothing else would: the
// stream keeps messages until they are acked (no MaxAge, which would
// drop units that wait for a worker to join), and only workers of the
// driver's build pull them, which may never come back (development
// builds are named by their executable's hash), so they would take
// space on the server for good, and be run long after, for nobody, if
// one did come back. A message that is gone (a worker acked it
// meanwhile) is fine. Another driver of the build may wait on the same
// message (the duplicate window gives both the first one's): it finds it
// gone without a result and queues the unit anew (requeueLost).
//
// Units of a driver naming no build are left in the shared stream. Every
// worker, of every build, pulls them, so they do not stay for good; and
// the drivers sharing their messages include older tabforges, which
// would wait for ever on a message removed from under them.
func (cl *collection) abandon(ctx context.Context) {
	if cl.e.o.CodeVersion == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	left := 0
	for rk, seq := range cl.seqs {
		if !cl.pending[cl.keys[rk][0]] {
			continue
		}
		delete(cl.seqs, rk) // once: collect abandons before a fallback, Execute after
		err := cl.e.c.builds.DeleteMsg(ctx, seq)
		// The server says "not found" only in words: ask again rather
		// than match them.
		if err != nil && cl.e.queued(ctx, seq) {
			left++
		}
	}
	if left > 0 {
		cl.e.o.Logger.Warn("could not remove the messages of units no longer waited for", "stream", BuildsStream, "units", left)
	}
}

// requeueEvery is how often a waiting driver looks for messages of its
// pending units that left the stream without a result. A look costs a
// request per pending unit, and a message goes that way only when
// removed from the stream (by another driver that gave up on the same
// unit, see collection.abandon, or an operator purging it), so a unit
// waits up to this long more then, rather than every poll paying for
// the look.
const requeueEvery = 10 * time.Second

// requeueLost publishes anew the pending units whose message left the
// stream without a result, or stays in it stranded (see passed), which
// no worker would otherwise ever run. It looks at the consumer first,
// then at the message, then at the result, since workers write the
// result before they ack (which removes the message): a message acked
// between the looks has its result there.
func (cl *collection) requeueLost(ctx context.Context) error {
	passed := cl.e.passed(ctx)
	for rk, seq := range cl.seqs {
		idx := cl.keys[rk]
		if !cl.pending[idx[0]] {
			continue
		}
		queued := cl.e.queued(ctx, seq)
		if queued && !passed(seq) {
			continue
		}
		if _, ok, err := cl.e.result(ctx, rk); ok || err != nil {
			continue // the next poll collects it, or tells why it cannot
		}
		what := "a unit's message left the queue without a result; queueing it again"
		if queued {
			what = "a unit's message waits in the queue where no worker will get it (the server stopped delivering it); queueing it again"
			_ = cl.e.unitStream().DeleteMsg(ctx, seq) // gone already is fine
		}
		cl.e.o.Logger.Warn(what, "kind", cl.units[idx[0]].Kind, "unit", rk[:13])
		if err := cl.requeue(ctx, rk); err != nil {
			return err
		}
	}
	return nil
}

// passed returns whether the message with stream sequence seq, if still
// in the stream, is stranded there: the consumer that serves the
// driver's units has moved past it and has nothing in flight, so it
// will never deliver it. The server leaves a message so once it stopped
// redelivering it (MaxDeliver, whose advisory went to a driver gone
// since, one killed before a resume), and Debian's nats-server 2.9.10
// left one so in a tuned train, and the driver waited for ever. The
// consumer is read before the message: one in flight then has not been
// passed. When the consumer cannot be read, nothing counts as passed.
func (e *Executor) passed(ctx context.Context) func(seq uint64) bool {
	name := ConsumerName
	if e.o.CodeVersion != "" {
		name = buildConsumerName(e.o.CodeVersion)
	}
	cons, err := e.unitStream().Consumer(ctx, name)
	if err != nil {
		return func(uint64) bool { return false }
	}
	info := cons.CachedInfo()
	return func(seq uint64) bool { return info.NumAckPending == 0 && seq <= info.Delivered.Stream }
}

// maxKey is the notifier key of the max-deliveries advisory of the
// message with stream sequence seq.
func maxKey(seq uint64) string { return fmt.Sprintf("%s%d", maxPrefix, seq) }

// queued reports whether the message with stream sequence seq still
// waits in the work queue (it leaves once a worker acks it); when the
// server cannot say, it counts as queued, so the driver waits and asks
// again.
func (e *Executor) queued(ctx context.Context, seq uint64) bool {
	_, err := e.unitStream().GetMsg(ctx, seq)
	return !errors.Is(err, jetstream.ErrMsgNotFound)
}

// result reads a unit's result; ok is false while there is none.
func (e *Executor) result(ctx context.Context, rk string) (result, bool, error) {
	entry, err := e.c.results.Get(ctx, rk)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return result{}, false, nil
	}
	if err != nil {
		return result{}, false, fmt.Errorf("dist: %w: %w", errRead, err)
	}
	r, err := decodeResult(entry.Value())
	if err != nil {
		return result{}, false, &undecodable{key: rk, rev: entry.Revision(), err: err}
	}
	return r, true, nil
}

// waitWorkers returns nil once the heartbeat of a worker of the driver's
// build is seen, or ErrNoWorkers after WaitWorkers.
func (e *Executor) waitWorkers(ctx context.Context) error {
	deadline := time.Now().Add(e.o.WaitWorkers)
	if e.fellBack.Load() {
		deadline = time.Now() // waited once already: look, do not wait
	}
	for {
		ws, err := e.c.alive(ctx)
		if err == nil && len(ofBuild(ws, e.o.CodeVersion)) > 0 {
			e.fellBack.Store(false)
			return nil
		}
		if err != nil && time.Now().After(deadline.Add(serverGrace)) {
			return fmt.Errorf("dist: list workers: %w", err)
		}
		if err == nil && time.Now().After(deadline) {
			return e.noWorkers(ws, fmt.Sprint("waited ", e.o.WaitWorkers))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// noWorkers is the ErrNoWorkers error of a queue whose live workers ws
// include none of the driver's build; what says when, or what happened.
// With workers of other builds there, it names their builds and the
// driver's.
func (e *Executor) noWorkers(ws []Heartbeat, what string) error {
	shown := config.RedactURL(e.url) // a message must not carry the queue's password
	if len(ws) == 0 {
		return fmt.Errorf("%w %s (%s): start one with `tabforge worker --queue %s --store URL`, or set executor_fallback=local", ErrNoWorkers, shown, what, shown)
	}
	return fmt.Errorf("%w %s of the driver's build %s (%s), only workers of %s: run workers of the driver's build, or set executor_fallback=local",
		ErrNoWorkers, shown, e.o.CodeVersion, what, otherBuilds(ws))
}

// fallback runs the pending units (all when pending is nil) with
// Options.Fallback, or returns cause when there is none.
func (e *Executor) fallback(ctx context.Context, units []pipeline.Unit, pending map[int]bool, done func(int, pipeline.UnitResult) error, cause error) error {
	if e.o.Fallback == nil || !errors.Is(cause, ErrNoWorkers) {
		return cause
	}
	var idx []int
	var left []pipeline.Unit
	for i, u := range units {
		if pending == nil || pending[i] {
			idx, left = append(idx, i), append(left, u)
		}
	}
	if !e.fellBack.Swap(true) {
		e.o.Logger.Warn("no worker on the queue; running units in this process until one joins", "queue", config.RedactURL(e.url), "units", len(left))
	}
	return e.o.Fallback.Execute(ctx, left, func(i int, r pipeline.UnitResult) error { return done(idx[i], r) })
}

// Parallelism implements pipeline.Parallel: the total concurrency of the
// workers of the driver's build alive now (at least 1), so that tuning
// proposes as many trials at once as the workers that run them can.
func (e *Executor) Parallelism(ctx context.Context) int {
	ws, err := e.c.alive(ctx)
	if err != nil {
		return 1
	}
	n := 0
	for _, w := range ofBuild(ws, e.o.CodeVersion) {
		n += max(1, w.Concurrency)
	}
	return max(1, n)
}
