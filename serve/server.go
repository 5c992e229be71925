// Package serve is tabforge's HTTP prediction server: it serves the
// production version of registered model names (see package registry)
// over MLflow's scoring protocol (POST /invocations) and the KServe /
// Triton Open Inference Protocol V2 (POST /v2/models/{name}/infer), with
// SHAP explanations, Prometheus metrics, a prediction log and admin
// endpoints for rollback and traffic routes.
//
// Each name is served from an immutable deployment (loaded predictors and
// the name's registry.Plan) behind one atomic.Pointer. A watcher polls the
// names' records, or with a Redis store is told of changes by keyspace
// notifications; when a plan changes (a promotion, a rollback or a route
// change by any process), it loads the new versions in the background,
// checks them and swaps the pointer. In-flight requests finish on the
// deployment they started with, so no request fails during a swap.
//
// A handler decodes, validates, calls the predictor and encodes; rows are
// read with the predictor's own reader (pipeline.Predictor.ReadInputFrom),
// so a JSON row, a CSV row and a line of a file given to `tabforge
// predict` with the same values get the same prediction.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tabforge/tabforge/internal/tokenguard"
	"github.com/tabforge/tabforge/registry"
)

// Options configure a Server. The zero value serves every name with a
// production version on sensible limits.
type Options struct {
	// Names restricts the served names; empty serves every registered
	// name that has a production version (names registered later are
	// picked up by the watcher).
	Names []string
	// PollInterval is how often the watcher reads the names' records
	// when the store cannot announce changes (SQLite); 0 means 250ms, so
	// a change is seen well within a second. A Redis store announces
	// them (keyspace notifications, see registry.NameChanges): the
	// watcher refreshes at once and polls only every SafetyPollInterval
	// (0 means 1s) for notifications lost to a dropped connection.
	PollInterval, SafetyPollInterval time.Duration
	// ReadyWhenAny makes /v2/health/ready answer 200 once any served model
	// is loaded, as /ping does. By default it answers 200 only when every
	// served name has a loaded production version, as the V2 protocol
	// defines server readiness and Triton's --strict-readiness defaults.
	ReadyWhenAny bool
	// MaxBodyBytes caps a request body (413 beyond), as sent and, for a
	// gzip or deflate Content-Encoding, decoded; 0 means 10 MiB.
	MaxBodyBytes int64
	// MaxRows caps the rows of one request (413 beyond); 0 means 100,000.
	MaxRows int
	// MaxExplainRows caps the rows of one explain request; 0 means 100.
	MaxExplainRows int
	// MaxConcurrent bounds the prediction and explain requests running at
	// once; 0 means 4 per CPU. A request waits up to QueueWait for a slot
	// (0 means 100ms), then gets 429 with Retry-After. Bodies are read
	// before a slot is taken, at most 4 per slot at once (the same wait
	// and 429 beyond), so slow uploads do not hold the slots. Shadow
	// predictions run at most MaxConcurrent/2 (at least 2) at once; a
	// copy beyond that is dropped and counted, so shadows never hold up
	// the answers clients wait for.
	MaxConcurrent int
	QueueWait     time.Duration
	// RequestTimeout is each prediction request's deadline (503 beyond);
	// 0 means 30s.
	RequestTimeout time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout are the http.Server's; 0
	// means 30s, 60s and 120s.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// DrainTimeout bounds the graceful shutdown; 0 means 30s.
	DrainTimeout time.Duration
	// AdminToken enables the admin endpoints, which then require the
	// header "Authorization: Bearer AdminToken". Empty: admin is off.
	AdminToken string
	// TokenFailures and TokenWindow limit admin-token guesses: after
	// TokenFailures wrong tokens from one address (an IPv6 /64) within
	// TokenWindow of the first, that address's admin requests get 429
	// with Retry-After until the window ends, the right token included.
	// 0 means 5 and 15 minutes (see package tokenguard).
	TokenFailures int
	TokenWindow   time.Duration
	// TrustedProxies are the reverse proxies in front of the server: a
	// request from one of them counts its admin-token guesses against
	// the client its X-Forwarded-For header names (the rightmost address
	// not in these ranges). nil trusts no header: every client behind a
	// proxy shares its limit.
	TrustedProxies []netip.Prefix
	// TokenGuard, if set, is the guess limit admin requests count in,
	// instead of one of the server's own (TokenFailures, TokenWindow and
	// TrustedProxies then go unused): a dashboard mounted beside the
	// routes (Mount) that takes the same admin token should count its
	// guesses in the same one.
	TokenGuard *tokenguard.Guard
	// Strict refuses columns the model does not read and categories it
	// never saw (400), as `tabforge predict --strict`; otherwise they are
	// tolerated as predict tolerates them.
	Strict bool
	// PredictionLog, when set, receives one JSON line per prediction
	// (primary and shadow): request id, time, model, version, variant,
	// inputs hash (and inputs with LogInputs) and predictions. Writes
	// happen on one goroutine; a full queue drops lines and counts them.
	PredictionLog io.Writer
	LogInputs     bool
	// Seed seeds the traffic split of requests without a routing key.
	Seed uint64
	// ExplainSeed seeds the explanations of the explain route (KernelSHAP's
	// background summary and coalitions, interventional SHAP's background
	// sample) as the config key seed seeds tabforge explain's, so both give
	// a row the same values; tabforge serve passes the config's seed.
	ExplainSeed uint64
	// Version is the build version /version reports.
	Version string
	// Logger receives load, swap and error events; nil discards them.
	Logger *slog.Logger
	// Mount serves more handlers beside the prediction routes, in the
	// same process and on the same port, keyed by http.ServeMux pattern:
	// tabforge serve --ui mounts the dashboard at "/ui/". A pattern must
	// not overlap a prediction route. Keeping them as plain handlers
	// spares this package from importing what it mounts.
	Mount map[string]http.Handler
	// OnShutdown, if set, is called on a goroutine of its own when Serve
	// begins to drain (http.Server.RegisterOnShutdown): a mounted handler
	// that streams, such as the dashboard's progress events
	// (ui.Server.EndStreams), ends its responses there. The drain would
	// otherwise wait for them until DrainTimeout and then report requests
	// cut off.
	OnShutdown func()
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, 250*time.Millisecond)
	def(&o.SafetyPollInterval, time.Second)
	def(&o.QueueWait, 100*time.Millisecond)
	def(&o.RequestTimeout, 30*time.Second)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.WriteTimeout, 60*time.Second)
	def(&o.IdleTimeout, 120*time.Second)
	def(&o.DrainTimeout, 30*time.Second)
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 100_000
	}
	if o.MaxExplainRows <= 0 {
		o.MaxExplainRows = 100
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 4 * runtime.GOMAXPROCS(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server serves the models of one registry. Create it with New; it is
// safe for concurrent use.
type Server struct {
	o       Options
	reg     *registry.Registry
	set     atomic.Pointer[modelSet]
	metrics *metrics
	slots   chan struct{}
	// reading bounds the request bodies being read at once (4 per slot):
	// a slow upload holds one of these, not a prediction slot, while the
	// memory bodies take stays bounded.
	reading chan struct{}
	log     *predLog
	seq     atomic.Uint64
	refresh sync.Mutex // one refresh at a time
	// loadFailed holds, per NAME/VERSION, the error that version last
	// failed to load with; refresh holds it.
	loadFailed map[string]string
	// backoff spaces out the watcher's retries of names whose plan failed
	// to load, by name; refresh holds it.
	backoff map[string]*loadBackoff
	shadows sync.WaitGroup
	shadowQ chan struct{} // bounds concurrent shadow predictions
	// shadowMu orders starting a shadow against Close's wait for them:
	// after drained, a handler cut off at the drain timeout and finishing
	// late starts none (WaitGroup.Add may not race Wait).
	shadowMu sync.Mutex
	drained  bool
	columns  columnPool // dataframe_split columns of finished requests
	bodies   bytesPool  // bodies of finished requests
	// guard limits admin-token guesses (Options.TokenFailures).
	guard *tokenguard.Guard

	// lifeMu guards serving (the Serve calls running) and closed (set
	// by Close): the last Serve to end closes the server, and a Serve
	// after that is refused rather than run with its log lines dropped.
	lifeMu  sync.Mutex
	serving int
	closed  bool
}

// New returns a server of reg's models and loads them. A name listed in
// o.Names must exist; with none listed, a registry without a production
// version gives a server that is not ready until one is promoted.
func New(ctx context.Context, reg *registry.Registry, o Options) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, reg: reg, metrics: newMetrics(), slots: make(chan struct{}, o.MaxConcurrent), reading: make(chan struct{}, 4*o.MaxConcurrent),
		shadowQ: make(chan struct{}, max(2, o.MaxConcurrent/2)), loadFailed: map[string]string{},
		guard: o.TokenGuard}
	if s.guard == nil {
		s.guard = tokenguard.New(tokenguard.Options{Failures: o.TokenFailures, Window: o.TokenWindow, TrustedProxies: o.TrustedProxies})
	}
	s.set.Store(&modelSet{})
	for _, n := range o.Names {
		if _, err := reg.Plan(ctx, n); err != nil {
			return nil, fmt.Errorf("serve: model %q: %w", n, err)
		}
	}
	if err := s.checkMounts(); err != nil {
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	if o.PredictionLog != nil {
		s.log = newPredLog(o.PredictionLog, s.metrics)
	}
	return s, nil
}

// Handler returns the server's HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invocations", s.handleInvocations)
	mux.HandleFunc("POST /v1/models/{name}/invocations", s.handleInvocations)
	mux.HandleFunc("POST /v1/models/{name}/explain", s.handleExplain)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.handleInfer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.handleInfer)
	mux.HandleFunc("GET /v2/models/{name}", s.handleModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.handleModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.handleModelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.handleModelReady)
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /v2/health/ready", s.handleServerReady)
	mux.HandleFunc("GET /v2", s.handleServerMetadata)
	mux.HandleFunc("GET /ping", s.handleReady)
	mux.HandleFunc("GET /health", s.handleReady)
	mux.HandleFunc("GET /version", s.handleVersion)
	mux.Handle("GET /metrics", s.metrics.handler())
	if s.o.AdminToken != "" {
		mux.HandleFunc("POST /admin/models/{name}/rollback", s.admin(s.handleRollback))
		mux.HandleFunc("POST /admin/models/{name}/route", s.admin(s.handleRoute))
	}
	for pattern, h := range s.o.Mount {
		mux.Handle(pattern, h)
	}
	return s.withRequestID(jsonMisses(mux))
}

// requestIDKey keys a request's id in its context.
type requestIDKey struct{}

// withRequestID gives every request its id before any handler runs (the
// client's X-Request-Id when usable, else a new one), in the response's
// X-Request-Id and the request's context, so that every error body can
// carry it: admin, metadata and unrouted requests too, not only
// predictions.
func (s *Server) withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r, s)
		w.Header().Set("X-Request-Id", id)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// jsonMisses answers requests mux has no route for (404) or no route for
// their method (405, with Allow) with the JSON error body every other
// error has, rather than ServeMux's plain text, which clients parsing
// errors as JSON cannot read.
func jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// With no pattern, h is ServeMux's own answer: a redirect to the
		// cleaned path, a 404 or a 405. Only the status is wanted of it.
		rec := &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusNotFound:
			writeError(w, "", http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path), nil)
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeError(w, "", http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, allow), nil)
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// statusRecorder keeps the status and header a handler writes and
// discards its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// checkMounts reports an Options.Mount pattern that collides with a
// prediction route (which http.ServeMux refuses with a panic).
func (s *Server) checkMounts() (err error) {
	if len(s.o.Mount) == 0 {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("serve: mount: %v", r)
		}
	}()
	s.Handler()
	return nil
}

// ErrClosed is returned by Serve and ReopenLog on a server that was
// closed (see Close).
var ErrClosed = errors.New("serve: server closed")

// Serve serves on ln until ctx is done, with the watcher running, then
// shuts down gracefully: it stops accepting, lets in-flight requests and
// shadow predictions finish (within DrainTimeout), flushes the prediction
// log and returns nil. Requests still running after DrainTimeout have
// their connections closed and make an error; so does any other end of
// serving.
//
// Several Serve calls may run at once, on several listeners; the last to
// return closes the server (see Close). Serve on a closed server returns
// ErrClosed at once (closing ln): its predictions could not be logged.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.enter(); err != nil {
		ln.Close() // as http.Server.Serve does whatever it returns
		return err
	}
	err := s.serve(ctx, ln)
	if s.leave() {
		if cerr := s.Close(); err == nil && cerr != nil {
			return cerr
		}
	}
	return err
}

// enter counts a Serve in, unless the server is closed.
func (s *Server) enter() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.serving++
	return nil
}

// leave counts a Serve out and reports whether it was the last.
func (s *Server) leave() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.serving--
	return s.serving == 0
}

// serve is Serve's work on ln, apart from closing the server.
func (s *Server) serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadTimeout: s.o.ReadTimeout, WriteTimeout: s.o.WriteTimeout,
		IdleTimeout: s.o.IdleTimeout, ReadHeaderTimeout: s.o.ReadTimeout,
		ErrorLog: slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelWarn)}
	if s.o.OnShutdown != nil {
		hs.RegisterOnShutdown(s.o.OnShutdown)
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.Watch(watchCtx)
	}()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		s.o.Logger.Info("serve: shutting down, draining in-flight requests")
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.DrainTimeout)
		err = hs.Shutdown(dctx)
		cancel()
		if err != nil {
			// Cut the connections still open, so their handlers stop at
			// their next read or write instead of running on unseen.
			hs.Close() //nolint:errcheck // the listener is closed already
			err = fmt.Errorf("requests still in flight after the drain timeout of %s were cut off: %w", s.o.DrainTimeout, err)
		}
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	stopWatch()
	<-watched
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Close waits for the shadow predictions running, then flushes the
// prediction log and ends its goroutine, returning the log's first write
// error. Serve does this itself when the last Serve running ends; a
// caller serving Handler on a server of its own calls Close after that
// server's Shutdown, or the last second of log lines is lost. Later
// shadows are not run and later lines are not logged (both are counted
// as dropped); a later Serve returns ErrClosed. Close may be called more
// than once.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	s.closed = true
	s.lifeMu.Unlock()
	s.shadowMu.Lock()
	s.drained = true
	s.shadowMu.Unlock()
	s.shadows.Wait()
	if s.log == nil {
		return nil
	}
	if err := s.log.close(); err != nil {
		return fmt.Errorf("serve: prediction log: %w", err)
	}
	return nil
}

// ReopenLog writes out the queued prediction log lines, then reopens
// the log's writer when it has a Reopen method (a *LogFile): after the
// file was renamed (rotated), later lines go to a new file under its
// name, and every line is whole in exactly one of the two. A writer
// without Reopen is only flushed. tabforge serve calls it on SIGHUP. It
// returns ErrClosed once the server is closed, and nil without a log.
func (s *Server) ReopenLog() error {
	if s.log == nil {
		return nil
	}
	if err := s.log.reopenLog(); err != nil {
		if errors.Is(err, ErrClosed) {
			return err
		}
		return fmt.Errorf("serve: prediction log: %w", err)
	}
	return nil
}

// Watch refreshes the served models until ctx is done: at once after a
// change the store announces (Redis), and on a timer,
// every PollInterval, or every SafetyPollInterval while announcements
// arrive.
func (s *Server) Watch(ctx context.Context) {
	changes, stop := s.subscribe(ctx)
	if stop != nil {
		defer stop()
	}
	interval := s.o.PollInterval
	if changes != nil {
		interval = s.o.SafetyPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case _, ok := <-changes:
			if !ok { // the subscription ended: poll as without one
				changes = nil
				t.Reset(s.o.PollInterval)
			}
		}
		if err := s.refreshNames(ctx, true); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("serve: refresh failed; serving the models loaded before", "err", err)
		}
	}
}

// subscribe asks the registry's store to announce name changes. It
// returns nil (poll only) for a store that cannot, logging why when it
// could have (a Redis that refuses CONFIG SET).
func (s *Server) subscribe(ctx context.Context) (<-chan struct{}, func() error) {
	changes, stop, err := s.reg.NameChanges(ctx)
	switch {
	case errors.Is(err, registry.ErrNoNotify):
		return nil, nil
	case err != nil:
		s.o.Logger.Warn("serve: no registry change notifications; polling", "every", s.o.PollInterval, "err", err)
		return nil, nil
	}
	s.o.Logger.Info("serve: following registry changes through Redis keyspace notifications", "safety_poll", s.o.SafetyPollInterval)
	return changes, stop
}

// nextID returns a request id unique within the process.
func (s *Server) nextID() string {
	return fmt.Sprintf("%x-%06x", time.Now().UnixMilli(), s.seq.Add(1))
}
