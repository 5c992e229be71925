package dist

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabforge/tabforge/config"
)

// Names of the JetStream objects tabforge uses on a server.
const (
	StreamName     = "TABFORGE_UNITS"    // the work-queue stream of units
	ConsumerName   = "workers"           // the durable consumer all workers share
	ResultsBucket  = "TABFORGE_RESULTS"  // unit results by unit key
	WorkersBucket  = "TABFORGE_WORKERS"  // worker heartbeats, by worker id
	DatasetsBucket = "TABFORGE_DATASETS" // dataset files by content hash (object store)
	locksBucket    = "TABFORGE_LOCKS"    // short-lived locks around setup
	unitSubject    = "tabforge.unit."    // + kind
	doneSubject    = "tabforge.done."    // + result key: a unit's result was written
	// maxDeliveriesSubject + STREAM.CONSUMER is the server's advisory
	// for a message it stopped redelivering.
	maxDeliveriesSubject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."
	maxPrefix            = "max:" // notifier keys of such advisories: max:SEQ
)

// Queue settings shared by drivers and workers. AckWait is short so that
// a killed worker's unit is redelivered soon; a running unit is kept
// alive by in-progress acks every AckWait/4.
const (
	AckWait        = 6 * time.Second
	MaxDeliver     = 5
	heartbeatEvery = 2 * time.Second
	heartbeatTTL   = 3 * heartbeatEvery // a worker unheard of for this long is gone
	resultTTL      = 24 * time.Hour
	lockTTL        = 10 * time.Second
)

// message is a unit on the wire.
type message struct {
	Key       string `json:"key"`
	Kind      string `json:"kind"`
	Spec      []byte `json:"spec"`
	Published int64  `json:"published"` // unix nanoseconds, for queueing time
	// Code is the driver's build (Options.CodeVersion); absent from
	// older drivers' units.
	Code string `json:"code,omitempty"`
}

// result is a unit's outcome in the results bucket.
type result struct {
	Value  []byte `json:"value,omitempty"`
	Error  string `json:"error,omitempty"`
	Worker string `json:"worker"`
	// Seq is the stream sequence of the message the worker ran. A
	// driver takes an error only from the message it queued: an error
	// left by an earlier run's message is stale (successes are the same
	// whichever message made them).
	Seq uint64 `json:"seq,omitempty"`
	// QueuedMS is the time from publishing to a worker starting the
	// unit, RunMS the time it ran, in milliseconds.
	QueuedMS float64 `json:"queued_ms"`
	RunMS    float64 `json:"run_ms"`
}

// Heartbeat is what a worker announces in the workers bucket.
type Heartbeat struct {
	ID          string    `json:"id"`
	Host        string    `json:"host"`
	PID         int       `json:"pid"`
	Concurrency int       `json:"concurrency"`
	Started     time.Time `json:"started"`
	Running     int       `json:"running"`
	Done        int64     `json:"done"`
	// Code is the worker's build (Worker.CodeVersion), whose units it
	// pulls; absent from older workers' heartbeats and from workers
	// naming no build, which pull the shared consumer.
	Code string `json:"code,omitempty"`
}

// resultKey is the results bucket key of a unit key: the key's SHA-256,
// since unit keys may hold characters bucket keys may not.
func resultKey(unitKey string) string {
	h := sha256.Sum256([]byte(unitKey))
	return "r" + hex.EncodeToString(h[:])
}

// conn is a connection with the stream, consumer and buckets in place.
type conn struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream   // units naming no build
	cons    jetstream.Consumer // their shared consumer
	builds  jetstream.Stream   // units naming their build (BuildsStream)
	results jetstream.KeyValue
	workers jetstream.KeyValue
	locks   jetstream.KeyValue
	// holder names this connection in the locks it takes.
	holder string

	artsMu sync.Mutex
	arts   jetstream.ObjectStore // the artifacts object store, once used
}

// dial connects to url and creates what is missing: the streams (file
// storage, work-queue retention), the shared consumer and the buckets. Creating
// them is idempotent, so drivers and workers may start in any order.
func dial(ctx context.Context, url, name string) (*conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("dist: connect to %s: %w", config.RedactURL(url), err)
	}
	c := &conn{nc: nc, holder: rand.Text()}
	if err := c.setup(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("dist: %s: %w", config.RedactURL(url), err)
	}
	return c, nil
}

// dialWait is dial for a worker, a long-running process that may start
// before its server (compose and Kubernetes start them together, and a
// worker that exited would leave the queue without workers): while the
// server cannot be reached it retries until ctx ends, logging the first
// failure at once and then once a minute. Errors no retry mends (a
// malformed URL, a server without JetStream) return at once.
func dialWait(ctx context.Context, url, name string, log *slog.Logger) (*conn, error) {
	var since, logged time.Time
	for {
		c, err := dial(ctx, url, name)
		if err == nil || !unreachableServer(err) {
			if err == nil && !since.IsZero() {
				log.Info("queue reachable", "queue", config.RedactURL(url), "after", time.Since(since).Round(time.Second))
			}
			return c, err
		}
		now := time.Now()
		if since.IsZero() {
			since = now
		}
		if now.Sub(logged) >= time.Minute {
			log.Warn("cannot reach the queue; retrying until it is up", "queue", config.RedactURL(url), "err", err, "waiting", now.Sub(since).Round(time.Second))
			logged = now
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(dialRetryEvery):
		}
	}
}

// dialRetryEvery is how often dialWait tries an unreachable server again.
const dialRetryEvery = 500 * time.Millisecond

// unreachableServer reports a connection error a later attempt may not
// have: nothing listening yet, or the network between here and there.
// A *url.Error is a net.Error too, but a URL that does not parse never
// will.
func unreachableServer(err error) bool {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return false
	}
	var ne net.Error
	return errors.Is(err, nats.ErrNoServers) || errors.As(err, &ne)
}

func (c *conn) setup(ctx context.Context) error {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return err
	}
	c.js = js
	c.stream, err = stream(ctx, js, jetstream.StreamConfig{
		Name: StreamName, Subjects: []string{unitSubject + ">"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("stream %s (is JetStream enabled on the server? nats-server -js): %w", StreamName, err)
	}
	c.builds, err = stream(ctx, js, jetstream.StreamConfig{
		Name: BuildsStream, Subjects: []string{buildSubject + ">"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", BuildsStream, err)
	}
	if c.results, err = bucket(ctx, js, jetstream.KeyValueConfig{Bucket: ResultsBucket, TTL: resultTTL, Storage: jetstream.FileStorage}); err != nil {
		return err
	}
	// File storage, so heartbeats survive a server restart (a memory
	// bucket would be gone, and every worker with it).
	if c.workers, err = bucket(ctx, js, jetstream.KeyValueConfig{Bucket: WorkersBucket, TTL: heartbeatTTL, Storage: jetstream.FileStorage}); err != nil {
		return err
	}
	if c.locks, err = bucket(ctx, js, jetstream.KeyValueConfig{Bucket: locksBucket, TTL: lockTTL, Storage: jetstream.MemoryStorage}); err != nil {
		return err
	}
	c.cons, err = consumer(ctx, c.stream, c.locks, c.holder, jetstream.ConsumerConfig{
		Durable: ConsumerName, AckPolicy: jetstream.AckExplicitPolicy, AckWait: AckWait,
		MaxDeliver: MaxDeliver, MaxAckPending: -1,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", ConsumerName, err)
	}
	return nil
}

// consumer returns the stream's consumer cfg.Durable, creating it, or
// updating it when its settings differ from cfg, under a lock: when
// clients created the same consumer at the same moment, nats-server 2.9
// (Debian's) sometimes left it counting deliveries that reached no
// client, and every unit then waited for its redeliveries in vain (CI's
// TestExecuteOnWorkers hung). A client that finds the lock taken waits
// for the holder to finish; a holder that died frees it after lockTTL.
// The lock holds the holder's name: a Create the server applied but did
// not answer (2.9 leaves some requests unanswered) took the lock for
// this client, which then finds its own name there and goes on, rather
// than waiting for its own lock to expire: the request's 5 s timeout and
// then lockTTL, for each of a worker's two consumers.
func consumer(ctx context.Context, s jetstream.Stream, locks jetstream.KeyValue, holder string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	lock := "consumer." + cfg.Durable
	deadline := time.Now().Add(2 * lockTTL)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		cons, err := s.Consumer(ctx, cfg.Durable)
		switch {
		case err == nil && sameSettings(cons.CachedInfo().Config, cfg):
			return cons, nil
		case err == nil || errors.Is(err, jetstream.ErrConsumerNotFound):
			_, err = locks.Create(ctx, lock, []byte(holder))
			if errors.Is(err, jetstream.ErrKeyExists) && heldBy(ctx, locks, lock, holder) {
				err = nil
			}
			if err == nil {
				cons, err = s.CreateOrUpdateConsumer(ctx, cfg)
				_ = locks.Delete(context.WithoutCancel(ctx), lock)
				return cons, err
			}
			if !errors.Is(err, jetstream.ErrKeyExists) && !unanswered(ctx, err) {
				return nil, fmt.Errorf("lock: %w", err)
			}
		case !unanswered(ctx, err):
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no answer, or the lock still held, after %s: %w", 2*lockTTL, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// heldBy reports whether lock names holder.
func heldBy(ctx context.Context, locks jetstream.KeyValue, lock, holder string) bool {
	e, err := locks.Get(ctx, lock)
	return err == nil && string(e.Value()) == holder
}

// sameSettings reports whether the consumer has the settings tabforge
// sets, so that a newer tabforge's settings replace an older one's. The
// shared consumer has no filter, as every earlier build made it.
func sameSettings(have, want jetstream.ConsumerConfig) bool {
	return have.AckPolicy == want.AckPolicy && have.AckWait == want.AckWait &&
		have.MaxDeliver == want.MaxDeliver && have.MaxAckPending == want.MaxAckPending &&
		have.FilterSubject == want.FilterSubject && have.InactiveThreshold == want.InactiveThreshold
}

// Stream and bucket setup looks up first and creates only what is missing:
// nats-server 2.9 (Debian's) crashes when a stream is updated while
// another client is still creating it, which CreateOrUpdateStream does
// whenever a driver and workers start at the same moment. A create that
// loses the race to another client fails with one of these codes, and
// looking up again then finds the winner's stream.
const (
	errCodeNameInUse      jetstream.ErrorCode = 10058
	errCodeSubjectOverlap jetstream.ErrorCode = 10065
)

func lostCreateRace(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrBucketExists) || errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == errCodeNameInUse || apiErr.ErrorCode == errCodeSubjectOverlap)
}

// getOrCreate returns what get finds, else what create makes, retrying a
// create that lost the race to another client and a request the server
// did not answer in time: of several clients creating the same stream at
// once, nats-server 2.9 sometimes leaves one unanswered.
func getOrCreate[T any](ctx context.Context, get, create func() (T, error), notFound error) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := get()
		if errors.Is(err, notFound) {
			v, err = create()
		}
		if !(lostCreateRace(err) || unanswered(ctx, err)) || attempt == 5 {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// unanswered reports a request that timed out while ctx is still live:
// the jetstream package's own per-request timeout.
func unanswered(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
}

func stream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return getOrCreate(ctx,
		func() (jetstream.Stream, error) { return js.Stream(ctx, cfg.Name) },
		func() (jetstream.Stream, error) { return js.CreateStream(ctx, cfg) },
		jetstream.ErrStreamNotFound)
}

func bucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := getOrCreate(ctx,
		func() (jetstream.KeyValue, error) { return js.KeyValue(ctx, cfg.Bucket) },
		func() (jetstream.KeyValue, error) { return js.CreateKeyValue(ctx, cfg) },
		jetstream.ErrBucketNotFound)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

func objectStore(ctx context.Context, js jetstream.JetStream, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	obs, err := getOrCreate(ctx,
		func() (jetstream.ObjectStore, error) { return js.ObjectStore(ctx, cfg.Bucket) },
		func() (jetstream.ObjectStore, error) { return js.CreateObjectStore(ctx, cfg) },
		jetstream.ErrBucketNotFound)
	if err != nil {
		return nil, fmt.Errorf("dist: bucket %s: %w", cfg.Bucket, err)
	}
	return obs, nil
}

func (c *conn) close() {
	if c != nil && c.nc != nil {
		c.nc.Drain()
	}
}

// alive returns the workers whose heartbeat is current.
func (c *conn) alive(ctx context.Context) ([]Heartbeat, error) {
	keys, err := c.workers.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Heartbeat
	for _, k := range keys {
		e, err := c.workers.Get(ctx, k)
		if err != nil {
			continue // expired between listing and reading
		}
		if h, err := decodeHeartbeat(e.Value()); err == nil {
			out = append(out, h)
		}
	}
	return out, nil
}
