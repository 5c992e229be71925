package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabforge/tabforge/pipeline"
)

const (
	buildOld = "tabforge 1.1+aaa"
	buildNew = "tabforge 1.2+bbb"
)

// startBuildWorker runs an in-process worker of build code (""
// names none) with runner r until the test ends.
func startBuildWorker(t *testing.T, url, id, code string, r Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		w := &Worker{Runner: r, ID: id, Concurrency: 2, CodeVersion: code, Logger: failureLog(t, "worker "+id)}
		if err := w.Run(ctx, url); err != nil {
			t.Errorf("worker %s: %v", id, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// awaitWorkers waits until the heartbeats of the workers ids are in.
func awaitWorkers(t *testing.T, url string, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dial(ctx, url, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for {
		ws, err := c.alive(ctx)
		seen := map[string]bool{}
		for _, w := range ws {
			seen[w.ID] = true
		}
		all := err == nil
		for _, id := range ids {
			all = all && seen[id]
		}
		if all {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("workers %v never announced themselves (last seen %v, %v)", ids, ws, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestMixedFleet: in a rolling upgrade, a fleet with workers of the old
// build and of the driver's runs every unit on the driver's; the old
// worker runs none (it used to get about half of them, and fail them
// and the run).
func TestMixedFleet(t *testing.T) {
	s := startServer(t)
	old, cur := &squareRunner{}, &squareRunner{}
	startBuildWorker(t, s.URL(), "old", buildOld, old)
	startBuildWorker(t, s.URL(), "new", buildNew, cur)
	awaitWorkers(t, s.URL(), "old", "new")
	e, err := Dial(context.Background(), s.URL(), Options{CodeVersion: buildNew, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if p := e.Parallelism(context.Background()); p != 2 {
		t.Errorf("Parallelism = %d; want 2 (the new worker's concurrency only)", p)
	}
	const n = 20
	got, err := collect(t, e, squareUnits(n))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got[i] != strconv.Itoa(i*i) {
			t.Errorf("unit %d = %q; want %d", i, got[i], i*i)
		}
	}
	if r := old.runs.Load(); r != 0 {
		t.Errorf("the old build's worker ran %d units; want 0", r)
	}
	if r := cur.runs.Load(); r != n {
		t.Errorf("the driver's build's worker ran %d units; want %d", r, n)
	}
}

// TestNoWorkerOfBuild: with only workers of other builds on the queue, a
// run fails within WaitWorkers with ErrNoWorkers naming the driver's
// build and theirs, instead of hanging or having them fail its units;
// executor_fallback=local runs the units in the driver instead.
func TestNoWorkerOfBuild(t *testing.T) {
	s := startServer(t)
	old := &squareRunner{}
	startBuildWorker(t, s.URL(), "old", buildOld, old)
	startBuildWorker(t, s.URL(), "older", "", old)
	awaitWorkers(t, s.URL(), "old", "older")
	e, err := Dial(context.Background(), s.URL(), Options{CodeVersion: buildNew, WaitWorkers: time.Second, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = collectTimeout(t, e, squareUnits(3), 30*time.Second)
	if !errors.Is(err, ErrNoWorkers) {
		t.Fatalf("Execute = %v; want ErrNoWorkers", err)
	}
	for _, want := range []string{"driver's build " + buildNew, buildOld + " (1 worker)", "no build named"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := old.runs.Load(); n != 0 {
		t.Errorf("workers of other builds ran %d units", n)
	}

	local, err := Dial(context.Background(), s.URL(), Options{CodeVersion: buildNew, WaitWorkers: time.Second, Fallback: pipeline.Local{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if got, err := collectTimeout(t, local, squareUnits(3), 30*time.Second); err != nil || got[2] != "4" {
		t.Errorf("with a fallback: %v, %v; want the units run locally", got, err)
	}
}

// TestNoBuildDriver: the units of a driver that names no build (an older
// tabforge) run on workers that name theirs.
func TestNoBuildDriver(t *testing.T) {
	s := startServer(t)
	r := &squareRunner{}
	startBuildWorker(t, s.URL(), "new", buildNew, r)
	e, err := Dial(context.Background(), s.URL(), Options{Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := collectTimeout(t, e, squareUnits(4), 30*time.Second)
	if err != nil || got[3] != "9" {
		t.Errorf("Execute = %v, %v; want the units run", got, err)
	}
	if n := r.runs.Load(); n != 4 {
		t.Errorf("the worker ran %d units; want 4", n)
	}
}

// sharedUnits publishes n units naming build code on the shared subject,
// as drivers of 2026-12-07 did, and returns their results once workers
// wrote them.
func sharedUnits(t *testing.T, url, code string, n int) []result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dial(ctx, url, "driver of 2026-12-07")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	units := squareUnits(n)
	for _, u := range units {
		b, _ := json.Marshal(message{Key: u.Key, Kind: u.Kind, Spec: u.Spec, Published: time.Now().UnixNano(), Code: code})
		if _, err := c.js.Publish(ctx, unitSubject+u.Kind, b, jetstream.WithMsgID(u.Key)); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]result, n)
	for i, u := range units {
		for {
			e, err := c.results.Get(ctx, resultKey(u.Key))
			if err == nil {
				if err := json.Unmarshal(e.Value(), &out[i]); err != nil {
					t.Fatal(err)
				}
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("unit %d: no result: %v", i, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return out
}

// TestWorkerRefusesOtherBuild: a unit naming another build that reaches a
// worker on the shared subject (drivers of 2026-12-07 sent them there)
// fails without running, with an error naming both builds; but while a
// worker announcing no build (an older one, maybe of the unit's build)
// is alive, the worker leaves such units to it.
func TestWorkerRefusesOtherBuild(t *testing.T) {
	t.Run("alone", func(t *testing.T) {
		s := startServer(t)
		r := &squareRunner{}
		startBuildWorker(t, s.URL(), "new", buildNew, r)
		awaitWorkers(t, s.URL(), "new")
		for i, res := range sharedUnits(t, s.URL(), buildOld, 2) {
			want := fmt.Sprintf("sent by %s, this worker is %s", buildOld, buildNew)
			if !strings.Contains(res.Error, want) {
				t.Errorf("unit %d: result %+v; want an error with %q", i, res, want)
			}
		}
		if n := r.runs.Load(); n != 0 {
			t.Errorf("the worker ran %d units of another build", n)
		}
	})
	t.Run("beside an older worker", func(t *testing.T) {
		s := startServer(t)
		older, cur := &squareRunner{}, &squareRunner{}
		startBuildWorker(t, s.URL(), "older", "", older)
		awaitWorkers(t, s.URL(), "older")
		startBuildWorker(t, s.URL(), "new", buildNew, cur)
		awaitWorkers(t, s.URL(), "new")
		for i, res := range sharedUnits(t, s.URL(), buildOld, 10) {
			if res.Error != "" || res.Worker != "older" {
				t.Errorf("unit %d: result %+v; want it run by the older worker", i, res)
			}
		}
		if n := cur.runs.Load(); n != 0 {
			t.Errorf("the worker of another build ran %d units", n)
		}
	})
}

// TestPreviousBuildQueue: a server a previous build set up (the stream
// and its unfiltered shared consumer, nothing else) keeps them as they
// were, so that the previous build's workers and drivers still work on
// it, while this build's units go past them to this build's workers.
func TestPreviousBuildQueue(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: StreamName, Subjects: []string{unitSubject + ">"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	previous := jetstream.ConsumerConfig{Durable: ConsumerName, AckPolicy: jetstream.AckExplicitPolicy, AckWait: AckWait,
		MaxDeliver: MaxDeliver, MaxAckPending: -1}
	if _, err := st.CreateConsumer(ctx, previous); err != nil {
		t.Fatal(err)
	}
	r := &squareRunner{}
	startBuildWorker(t, s.URL(), "new", buildNew, r)
	e, err := Dial(ctx, s.URL(), Options{CodeVersion: buildNew, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got, err := collect(t, e, squareUnits(3)); err != nil || got[2] != "4" {
		t.Errorf("Execute = %v, %v; want the units run", got, err)
	}
	cons, err := st.Consumer(ctx, ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.FilterSubject != "" || info.Delivered.Stream != 0 {
		t.Errorf("the previous build's consumer has filter %q and delivered %d; want it unchanged and unused",
			info.Config.FilterSubject, info.Delivered.Stream)
	}
}

// TestBuildConsumerRecreated: a worker whose build's consumer is removed
// under it (the server deletes one idle for buildConsumerIdle, an
// operator may remove one) creates it again and runs its units; pulling
// from a consumer that is gone only ever finds nothing.
func TestBuildConsumerRecreated(t *testing.T) {
	s := startServer(t)
	startBuildWorker(t, s.URL(), "new", buildNew, &squareRunner{})
	awaitWorkers(t, s.URL(), "new")
	ctx := context.Background()
	c, err := dial(ctx, s.URL(), "operator")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.builds.DeleteConsumer(ctx, buildConsumerName(buildNew)); err != nil {
		t.Fatal(err)
	}
	e, err := Dial(ctx, s.URL(), Options{CodeVersion: buildNew, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got, err := collectTimeout(t, e, squareUnits(3), 30*time.Second); err != nil || got[2] != "4" {
		t.Errorf("Execute = %v, %v; want the units run", got, err)
	}
}

// announceGhost announces a worker of build code that pulls nothing, so
// that drivers of that build publish their units and they stay queued
// until a real worker joins. The heartbeat expires after heartbeatTTL.
func announceGhost(t *testing.T, url, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial(ctx, url, "ghost")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	b, _ := json.Marshal(Heartbeat{ID: "ghost", Concurrency: 1, Started: time.Now().UTC(), Code: code})
	if _, err := c.workers.Put(ctx, heartbeatKey("ghost"), b); err != nil {
		t.Fatal(err)
	}
}

// ghostQueue starts a server with a ghost worker of buildNew (see
// announceGhost) and returns it with a connection to inspect it by.
func ghostQueue(t *testing.T) (*Server, *conn) {
	t.Helper()
	s := startServer(t)
	announceGhost(t, s.URL(), buildNew)
	c, err := dial(context.Background(), s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return s, c
}

// buildMsgs is the number of messages in the builds stream.
func buildMsgs(t *testing.T, c *conn) uint64 {
	t.Helper()
	info, err := c.builds.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// awaitBuildMsgs waits until the builds stream holds n messages.
func awaitBuildMsgs(t *testing.T, c *conn, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for buildMsgs(t, c) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d messages after 10s; want %d", BuildsStream, buildMsgs(t, c), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run is the outcome of an Execute running in the background.
type run struct {
	got map[int]string
	err error
}

// executeAsync runs units on e in the background, for at most d.
func executeAsync(t *testing.T, e *Executor, units []pipeline.Unit, d time.Duration) <-chan run {
	out := make(chan run, 1)
	go func() {
		got, err := collectTimeout(t, e, units, d)
		out <- run{got, err}
	}()
	return out
}

// TestLostUnitRequeued: a driver whose units' messages leave the stream
// without a result (an operator purged it) queues them again, and gets
// their results once a worker joins; it used to wait for ever.
func TestLostUnitRequeued(t *testing.T) {
	s, c := ghostQueue(t)
	ctx := context.Background()
	e, err := Dial(ctx, s.URL(), Options{CodeVersion: buildNew, WaitWorkers: time.Minute, Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// 45s: four times requeueEvery, ample for a loaded machine.
	res := executeAsync(t, e, squareUnits(3), 45*time.Second)
	awaitBuildMsgs(t, c, 3)
	if err := c.builds.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	startBuildWorker(t, s.URL(), "new", buildNew, &squareRunner{})
	if r := <-res; r.err != nil || r.got[2] != "4" {
		t.Errorf("Execute = %v, %v; want the units run", r.got, r.err)
	}
}

// blockRunner runs no unit to its end: it announces each start on
// started and returns once its worker stops.
type blockRunner struct{ started chan struct{} }

func (r *blockRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, _ int) ([]byte, error) {
	select {
	case r.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestBuildUnitsRemovedOnGiveUp: when every worker of the driver's build
// leaves mid-run, the driver gives up (ErrNoWorkers, or runs the units
// itself) and removes the units it queued: they used to stay in the
// builds stream for good (no worker of the build might ever return),
// and be run for nobody if one did.
func TestBuildUnitsRemovedOnGiveUp(t *testing.T) {
	tests := []struct {
		name     string
		fallback pipeline.Executor
	}{{"error", nil}, {"fallback local", pipeline.Local{Workers: 1}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			ctx := context.Background()
			r := &blockRunner{started: make(chan struct{}, 1)}
			ctxW, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(func() {
				w := &Worker{Runner: r, ID: "leaving", Concurrency: 2, CodeVersion: buildNew, Logger: failureLog(t, "worker")}
				if err := w.Run(ctxW, s.URL()); err != nil {
					t.Errorf("worker: %v", err)
				}
			})
			t.Cleanup(func() { stop(); wg.Wait() })
			awaitWorkers(t, s.URL(), "leaving")
			e, err := Dial(ctx, s.URL(), Options{CodeVersion: buildNew, WaitWorkers: time.Second, Fallback: tt.fallback, Logger: failureLog(t, "driver")})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			const n = 10
			res := executeAsync(t, e, squareUnits(n), 45*time.Second)
			select {
			case <-r.started:
			case <-time.After(30 * time.Second):
				t.Fatal("the worker started no unit")
			}
			stop() // the worker leaves mid-run, handing back the units it ran
			wg.Wait()
			got := <-res
			if tt.fallback == nil && !errors.Is(got.err, ErrNoWorkers) {
				t.Errorf("Execute = %v; want ErrNoWorkers", got.err)
			}
			if tt.fallback != nil && (got.err != nil || got.got[n-1] != strconv.Itoa((n-1)*(n-1))) {
				t.Errorf("Execute = %v, %v; want the units run locally", got.got, got.err)
			}
			c, err := dial(ctx, s.URL(), "test")
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			if left := buildMsgs(t, c); left != 0 {
				t.Errorf("%s holds %d units after the driver gave up; want 0", BuildsStream, left)
			}
		})
	}
}

// TestSharedUnitSurvivesGiveUp: two drivers of a build wait on the same
// units, hence on the same messages (the duplicate window gives the
// second the first's); one gives up and removes them, and the other
// queues them anew, so it gets their results once a worker joins.
func TestSharedUnitSurvivesGiveUp(t *testing.T) {
	s, c := ghostQueue(t)
	ctx := context.Background()
	dialDriver := func(who string) *Executor {
		e, err := Dial(ctx, s.URL(), Options{CodeVersion: buildNew, WaitWorkers: time.Minute, Logger: failureLog(t, who)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	units := squareUnits(3)
	waiting := executeAsync(t, dialDriver("waiting driver"), units, 45*time.Second)
	awaitBuildMsgs(t, c, 3)
	if _, err := collectTimeout(t, dialDriver("leaving driver"), units, 2*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the leaving driver's Execute = %v; want its deadline", err)
	}
	startBuildWorker(t, s.URL(), "new", buildNew, &squareRunner{})
	if r := <-waiting; r.err != nil || r.got[2] != "4" {
		t.Errorf("the waiting driver's Execute = %v, %v; want the units run", r.got, r.err)
	}
}

// strandUnits queues units as a driver of build code does, and then
// has them delivered MaxDeliver times and never acked, as when each
// crashed the workers that ran it: the server then keeps the messages
// in the stream but delivers them no more, and its advisory saying so
// went to the driver that queued them, which is gone (killed before it
// could remove them). Debian's nats-server 2.9.10 also left a consumer
// that way during a tuned train: one fold unit's message stayed in the
// stream, undelivered, after the consumer had delivered the ones after
// it, with nothing pending or in flight.
func strandUnits(t *testing.T, e *Executor, c *conn, code string, units []pipeline.Unit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, u := range units {
		if _, err := e.send(ctx, u, u.Key); err != nil {
			t.Fatal(err)
		}
	}
	advisories, err := c.nc.SubscribeSync(maxDeliveriesSubject + BuildsStream + "." + buildConsumerName(code))
	if err != nil {
		t.Fatal(err)
	}
	defer advisories.Unsubscribe()
	cons, err := c.buildConsumer(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	for delivered := 0; delivered < MaxDeliver*len(units); {
		batch, err := cons.Fetch(len(units), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for msg := range batch.Messages() {
			if err := msg.Nak(); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n == 0 {
			t.Fatalf("the units were delivered %d times; want %d", delivered, MaxDeliver*len(units))
		}
		delivered += n
	}
	// The server gives up on a unit when a pull finds it delivered
	// MaxDeliver times: pull, while no driver listens, until it has on
	// every one.
	for seen := 0; seen < len(units); {
		if _, err := cons.FetchNoWait(len(units)); err != nil {
			t.Fatal(err)
		}
		if _, err := advisories.NextMsg(200 * time.Millisecond); err == nil {
			seen++
		} else if ctx.Err() != nil {
			t.Fatalf("%d of %d max-deliveries advisories", seen, len(units))
		}
	}
}

// TestStrandedUnitRequeued: a driver whose units' messages are in the
// stream but will never be delivered (see strandUnits: a resumed train
// after a killed one, within the duplicate window, is given the old
// messages) queues them again and gets their results; it used to wait
// for ever, with 0 units queued or in flight.
func TestStrandedUnitRequeued(t *testing.T) {
	s, c := ghostQueue(t)
	ctx := context.Background()
	dialDriver := func(who string) *Executor {
		e, err := Dial(ctx, s.URL(), Options{CodeVersion: buildNew, WaitWorkers: time.Minute, Logger: failureLog(t, who)})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	units := squareUnits(3)
	killed := dialDriver("killed driver")
	strandUnits(t, killed, c, buildNew, units)
	killed.Close()
	e := dialDriver("resumed driver")
	defer e.Close()
	startBuildWorker(t, s.URL(), "new", buildNew, &squareRunner{})
	// 45s: four times requeueEvery, ample for a loaded machine.
	if got, err := collectTimeout(t, e, units, 45*time.Second); err != nil || got[2] != "4" {
		t.Errorf("Execute = %v, %v; want the units run", got, err)
	}
	awaitBuildMsgs(t, c, 0) // the stranded messages are removed, not left for good
}
