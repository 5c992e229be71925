package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/internal/tokenguard"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/serve"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/ui"
)

// uiPrefix is where serve --ui mounts the dashboard.
const uiPrefix = "/ui"

// serveCommand is `tabforge serve`: flags → serve.Options, then listen
// and serve until SIGINT or SIGTERM, which drain in-flight requests.
func (a *app) serveCommand() *cobra.Command {
	var o serve.Options
	var addr, logPath string
	var withUI, strictReady bool
	var allowHosts []string
	var gcPercent int
	cmd := &cobra.Command{
		Use:   "serve --store URL [--addr 127.0.0.1:8080] [--model NAME ...]",
		Short: "Serve the production versions of registered models over HTTP (MLflow and KServe V2 protocols)",
		Long: `serve answers predictions for every registered model name with a production
version (--model NAME, repeatable, to restrict): MLflow's POST /invocations
(dataframe_split, dataframe_records, instances, inputs or text/csv) and
POST /v1/models/NAME/invocations, the Open Inference Protocol V2 at
POST /v2/models/NAME/infer, SHAP values at POST /v1/models/NAME/explain,
health at /ping, /health, /v2/health/live and /v2/health/ready, and
Prometheus metrics at /metrics. Predictions equal tabforge predict's on the
same rows; every response names the version in X-Model-Version.

A promotion, rollback or route change (tabforge models route) made by any
process is picked up within a second: the new version loads in the
background and replaces the old one atomically. With --admin-token (or
TABFORGE_ADMIN_TOKEN), POST /admin/models/NAME/rollback and /route are on,
behind "Authorization: Bearer TOKEN"; wrong tokens are limited per client
address as tabforge ui limits them (--trusted-proxy names a reverse proxy
in front, config key ui_trusted_proxies, so that each client behind it has
its own limit). SIGTERM drains in-flight requests and
exits 0 (143 if some were still running at --drain-timeout and were cut
off). SIGHUP reopens --prediction-log under its name: rotate it by
renaming it and then sending SIGHUP (no line lost), or by copytruncate.

With --ui, the web dashboard of tabforge ui is served at /ui/ on the same
port, read-only unless --admin-token is set. On a loopback address it answers
only requests addressed to localhost or a loopback IP, as tabforge ui does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ReadyWhenAny = !strictReady
			return a.runServe(cmd, &o, addr, logPath, withUI, allowHosts, gcPercent)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (loopback by default; 0.0.0.0:8080 for every interface)")
	f.StringArrayVar(&o.Names, "model", nil, "serve only this registered name (repeatable)")
	f.StringVar(&o.AdminToken, "admin-token", "", "bearer token enabling the admin endpoints (default $TABFORGE_ADMIN_TOKEN; empty: admin off)")
	f.StringVar(&logPath, "prediction-log", "", "append one JSON line per prediction to this file (reopened on SIGHUP: rotate by rename then SIGHUP, or by copytruncate)")
	f.BoolVar(&o.LogInputs, "log-inputs", false, "log the input rows (as CSV), not only their hash")
	f.BoolVar(&o.Strict, "strict", false, "refuse columns the model does not read and categories it never saw (400), as predict --strict")
	f.BoolVar(&strictReady, "strict-readiness", true, "/v2/health/ready is 200 only when every served model is loaded (false: once any is, as /ping)")
	f.Int64Var(&o.MaxBodyBytes, "max-body", 10<<20, "largest request body in bytes (413 beyond)")
	f.IntVar(&o.MaxRows, "max-rows", 100_000, "most rows per request (413 beyond)")
	f.IntVar(&o.MaxExplainRows, "max-explain-rows", 100, "most rows per explain request (413 beyond)")
	f.IntVar(&o.MaxConcurrent, "max-concurrent", 0, "prediction requests running at once (default 4 per CPU; 429 with Retry-After beyond)")
	f.DurationVar(&o.RequestTimeout, "request-timeout", 30*time.Second, "deadline of one prediction request")
	f.DurationVar(&o.PollInterval, "poll", 250*time.Millisecond, "how often to check the registry for promotions, rollbacks and route changes (with Redis, changes are announced at once and this is a 1s safety net)")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Second, "how long shutdown waits for in-flight requests")
	f.BoolVar(&withUI, "ui", false, "also serve the web dashboard (tabforge ui) at /ui/ on the same port, with the same admin token")
	f.StringSliceVar(&allowHosts, "allow-host", nil, "with --ui on loopback: host names besides loopback ones the dashboard answers, e.g. a reverse proxy's (comma-separated)")
	trustedProxyFlag(f)
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the traffic split of requests without a routing key (given, it also seeds explanations, as the config key seed does tabforge explain's)")
	gcPercentFlag(f, &gcPercent)
	return cmd
}

// checkLimits refuses request limits that would silently mean the
// library's defaults: serve.Options reads 0 or less as "default".
func checkLimits(o *serve.Options) error {
	for _, l := range []struct {
		flag string
		v    int64
		min  int64
	}{{"--max-body", o.MaxBodyBytes, 1}, {"--max-rows", int64(o.MaxRows), 1}, {"--max-concurrent", int64(o.MaxConcurrent), 0},
		{"--max-explain-rows", int64(o.MaxExplainRows), 1}, {"--request-timeout", int64(o.RequestTimeout), 1}, {"--poll", int64(o.PollInterval), 1}, {"--drain-timeout", int64(o.DrainTimeout), 1}} {
		if l.v < l.min && l.min > 0 {
			return usagef("serve: %s must be positive", l.flag)
		}
		if l.v < l.min {
			return usagef("serve: %s must not be negative (0 means 4 per CPU)", l.flag)
		}
	}
	return nil
}

// runServe is the serve command's run, apart from its flag declarations:
// it completes o with what the flags do not give (the environment's admin
// token, the logger, the prediction log, the dashboard), opens the store
// and registry, and serves on addr until cmd's context ends.
func (a *app) runServe(cmd *cobra.Command, o *serve.Options, addr, logPath string, withUI bool, allowHosts []string, gcPercent int) error {
	if err := checkLimits(o); err != nil {
		return err
	}
	setGCPercent(cmd.Flags(), gcPercent)
	if o.AdminToken == "" {
		o.AdminToken = os.Getenv(config.EnvAdminToken)
	}
	log, err := a.logger()
	if err != nil {
		return err
	}
	o.Logger, o.Version = log, version
	if logPath != "" {
		f, err := serve.OpenLogFile(logPath)
		if err != nil {
			return fmt.Errorf("serve: --prediction-log: %w", err)
		}
		defer f.Close()
		o.PredictionLog = f
	}
	cfg, st, err := a.configPrimaryStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	o.ExplainSeed = cfg.Seed // as tabforge explain seeds them
	reg, err := registry.Open(cmd.Context(), st)
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("serve: the store %s is unreachable, and serve has no SQLite fallback (it would hold no model): start Redis or fix --store: %w", st.URL(), err)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close() // when serving never starts; Serve closes it otherwise
	if o.TrustedProxies, err = cfg.TrustedProxies(); err != nil {
		return err
	}
	if withUI {
		// One admin token, one count of its guesses: through the
		// dashboard's forms and the admin endpoints alike.
		o.TokenGuard = tokenguard.New(tokenguard.Options{TrustedProxies: o.TrustedProxies})
		dash, err := ui.New(st, ui.Options{AdminToken: o.AdminToken, Log: log, Prefix: uiPrefix, AllowHosts: allowHosts, TokenGuard: o.TokenGuard})
		if err != nil {
			return err
		}
		o.Mount = map[string]http.Handler{uiPrefix + "/": dash.For(ln)}
		o.OnShutdown = dash.EndStreams
	}
	srv, err := serve.New(cmd.Context(), reg, *o)
	if err != nil {
		return err
	}
	defer reopenOnHUP(srv, logPath != "", log)()
	log.Info("serving", "addr", ln.Addr().String(), "admin", o.AdminToken != "")
	fmt.Fprintf(a.stdout, "listening on http://%s\n", ln.Addr())
	if withUI {
		fmt.Fprintf(a.stdout, "dashboard on http://%s%s/\n", ln.Addr(), uiPrefix)
	}
	return srv.Serve(cmd.Context(), ln)
}

// logReopener is what reopenOnHUP needs of a *serve.Server.
type logReopener interface{ ReopenLog() error }

// reopenOnHUP reopens srv's prediction log on each SIGHUP, for rotation
// by renaming (logrotate without copytruncate: rename, then
// "postrotate kill -HUP PID"), until the returned stop is called.
// Without it SIGHUP's default action ended the process. Without a log
// (hasLog false) SIGHUP is ignored and logged so: it was logged as
// "prediction log reopened", of a log there was not.
func reopenOnHUP(srv logReopener, hasLog bool, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case <-done:
				return
			case <-hup:
				if !hasLog {
					log.Info("serve: SIGHUP ignored: there is no --prediction-log to reopen")
					continue
				}
				if err := srv.ReopenLog(); err != nil {
					log.Warn("serve: SIGHUP: prediction log not reopened", "err", err)
					continue
				}
				log.Info("serve: SIGHUP: prediction log reopened")
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
		<-ended
	}
}

// serverGCPercent is the garbage collector's target for a server: its
// live heap (the models) barely changes while every request allocates, so
// collecting when the heap reaches 5× the live heap instead of 2× runs a
// fifth as many collections, and collections are what set the latency
// tail (bench serve, ames production model, 2 idle cores: p99 at 1,000
// rps 3.8–5.1 ms with Go's default 100, 2.3–2.8 ms with 400). The price
// is memory: up to 5× the live heap between collections.
const serverGCPercent = 400

// gcPercentFlag registers --gc-percent.
func gcPercentFlag(f *pflag.FlagSet, v *int) {
	f.IntVar(v, "gc-percent", serverGCPercent, "garbage collector target percentage (Go's GOGC; the GOGC environment variable wins unless this flag is given; -1 turns the collector off)")
}

// setGCPercent applies --gc-percent, unless the user set GOGC and not
// the flag.
func setGCPercent(f *pflag.FlagSet, pct int) {
	if !f.Changed("gc-percent") && os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(pct)
}
