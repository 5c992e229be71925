package dist

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestSpawnPorts: a server asked for any port reports the one it took,
// two of them never share one, and a server asked for a port another
// process holds fails saying so instead of handing out the other's URL.
func TestSpawnPorts(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	a, err := Spawn("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	b, err := Spawn("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	if a.URL() == b.URL() {
		t.Fatalf("two servers on %s", a.URL())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s, err := Spawn("", port)
	if err == nil {
		s.Shutdown()
		t.Fatalf("a server on taken port %d started at %s", port, s.URL())
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) || !strings.Contains(err.Error(), "exited") {
		t.Errorf("taken port: %v; want an error naming the port and saying the server exited", err)
	}
	if errors.Is(err, ErrNoEmbedded) {
		t.Errorf("taken port reported as a missing server: %v", err)
	}
}

// TestSpawnInRestart: a server spawned again in its directory on its port
// comes back with what it stored.
func TestSpawnInRestart(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	dir := t.TempDir()
	s, err := SpawnIn("", dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dial(context.Background(), s.URL(), "test")
	if err != nil {
		s.Shutdown()
		t.Fatal(err)
	}
	_, err = c.results.Put(context.Background(), "k", []byte("kept"))
	c.close()
	s.Shutdown()
	if err != nil {
		t.Fatal(err)
	}
	again, err := SpawnIn("", dir, s.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown()
	if again.URL() != s.URL() {
		t.Errorf("restarted on %s, want %s", again.URL(), s.URL())
	}
	c, err = dial(context.Background(), again.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	e, err := c.results.Get(context.Background(), "k")
	if err != nil || string(e.Value()) != "kept" {
		t.Errorf("after the restart: %v; want the value stored before", err)
	}
}

// TestDialConcurrently: drivers and workers that connect to a new server
// at the same moment (as `bench dist` starts them) all get the queue and
// the object stores, whichever of them creates each, the server survives
// it (Debian's nats-server 2.9 crashed when one client updated the stream
// another was creating), and the consumer delivers.
func TestDialConcurrently(t *testing.T) {
	for round := range 5 {
		s := startServer(t)
		const n = 8
		conns := make([]*conn, n)
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			go func() {
				<-start
				ctx := context.Background()
				c, err := dial(ctx, s.URL(), "test "+strconv.Itoa(i))
				if err == nil {
					conns[i] = c
					t.Cleanup(c.close)
					_, err = c.artifacts(ctx)
				}
				if err == nil {
					_, err = c.datasets(ctx)
				}
				errs <- err
			}()
		}
		close(start)
		for range n {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		// nats-server 2.9 sometimes broke a consumer several clients
		// created at once: it counted deliveries no client received.
		if err := fetchOne(conns[0], conns[n-1]); err != nil {
			t.Errorf("round %d: %v; queue: %s", round, err, queueState(s.URL()))
		}
	}
}

// fetchOne publishes a message with pub and fetches it with sub.
func fetchOne(pub, sub *conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pub.js.Publish(ctx, unitSubject+"probe", []byte("probe")); err != nil {
		return err
	}
	for ctx.Err() == nil {
		batch, err := sub.cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			return m.Ack()
		}
	}
	return errors.New("the published message never reached the consumer")
}

// TestDialUpdatesConsumer: a consumer an older tabforge left with other
// settings gets this one's.
func TestDialUpdatesConsumer(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c, err := dial(ctx, s.URL(), "old tabforge")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	cfg := c.cons.CachedInfo().Config
	cfg.AckWait = 30 * time.Second
	if _, err := c.stream.UpdateConsumer(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	c2, err := dial(ctx, s.URL(), "new tabforge")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.close()
	info, err := c2.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.AckWait != AckWait {
		t.Errorf("consumer AckWait %s after dialling; want %s", info.Config.AckWait, AckWait)
	}
}

// TestConsumerLockOwnCreate: a client whose lock Create the server
// applied without answering (nats-server 2.9 leaves some requests
// unanswered) finds its own name in the lock and creates the consumer at
// once. It waited for its own lock to expire: the request's 5 s timeout,
// then lockTTL (10 s; nats-server 2.9.10 removes the key on time), for
// each consumer a client sets up; a plausible cause of the ~30 s stall
// seen once in some 40 runs of these tests.
func TestConsumerLockOwnCreate(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c, err := dial(ctx, s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	cfg := jetstream.ConsumerConfig{Durable: "lock-test", AckPolicy: jetstream.AckExplicitPolicy, AckWait: AckWait, MaxDeliver: MaxDeliver,
		MaxAckPending: -1, FilterSubject: buildSubject + "locktest.>"}
	lock := "consumer." + cfg.Durable
	// What the unanswered Create left: the lock, in this client's name.
	if _, err := c.locks.Create(ctx, lock, []byte(c.holder)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, lockTTL/2)
	defer cancel()
	if _, err := consumer(cctx, c.builds, c.locks, c.holder, cfg); err != nil {
		t.Fatalf("consumer under its own lock: %v after %s; want it created without waiting for the lock to expire", err, time.Since(start).Round(time.Millisecond))
	}
	if _, err := c.locks.Get(ctx, lock); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("the lock after creating the consumer: %v; want it released", err)
	}
	// Another holder's lock is still waited for.
	if _, err := c.locks.Put(ctx, "consumer.other", []byte("someone else")); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	cfg.Durable, cfg.FilterSubject = "other", buildSubject+"othertest.>"
	if _, err := consumer(short, c.builds, c.locks, c.holder, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("consumer under another's lock = %v; want it waiting (here until its deadline)", err)
	}
}
