// Package ui is tabforge's web dashboard: server-rendered pages over a
// store for runs, run comparisons, tuning studies and the model registry.
//
// It exists so that comparing runs, reading a study's history or promoting
// a model does not mean reading tables in a terminal, and it is built to
// stay fast where other dashboards slow down: the runs list is filtered,
// sorted and paged by the store (store.RunQuery), never by loading every
// run; a study's chart is one SVG path, whatever its number of trials.
//
// Pages are html/template (every user string escaped) with their style
// sheet and a few lines of script embedded, so the dashboard works offline
// from the single binary. It is read-only unless Options.AdminToken is
// set; then promote and rollback forms appear, and each POST must carry
// the token and a confirmation.
package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tabforge/tabforge/internal/tokenguard"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Server; the zero value is a read-only dashboard.
type Options struct {
	// AdminToken enables write actions (promote, rollback); each request
	// must send it. "" turns write actions off.
	AdminToken string
	// Log receives request errors; nil discards them.
	Log *slog.Logger
	// Prefix is the path the dashboard is mounted under, e.g. "/ui" when
	// tabforge serve --ui puts it beside the prediction routes; "" is
	// the root. The Server strips it from requests itself and its pages
	// link relative to it (an HTML base element), so mount it as is:
	// mux.Handle("/ui/", srv).
	Prefix string
	// AllowHosts are the host names, besides loopback ones, that Serve
	// answers on a loopback listener: those a reverse proxy in front of
	// the dashboard sends. Other names get 421 (see loopbackOnly).
	AllowHosts []string
	// TokenFailures and TokenWindow limit admin-token guesses: after
	// TokenFailures wrong tokens from one address (an IPv6 /64) within
	// TokenWindow of the first, that address's write requests get 429
	// with Retry-After until the window ends. 0 means 5 and 15 minutes.
	TokenFailures int
	TokenWindow   time.Duration
	// TrustedProxies are the reverse proxies in front of the dashboard:
	// a request whose direct peer is in one of these ranges counts its
	// token guesses against the client its X-Forwarded-For header names
	// (the rightmost address not in these ranges). nil trusts no header:
	// every client behind a proxy shares its limit.
	TrustedProxies []netip.Prefix
	// TokenGuard, if set, is the guess limit write requests count in,
	// instead of one of the dashboard's own (TokenFailures, TokenWindow
	// and TrustedProxies then go unused): tabforge serve --ui gives the
	// prediction server's, so that guesses of the one admin token count
	// once, whether sent to the dashboard or to the admin endpoints.
	TokenGuard *tokenguard.Guard
}

// Server serves the dashboard for one store. It is an http.Handler, safe
// for concurrent use, and holds no state beyond the store: several
// servers and tabforge processes may share a store.
type Server struct {
	st   store.Store
	reg  *registry.Registry
	o    Options
	tmpl *template.Template
	// guard limits admin-token guesses (Options.TokenFailures).
	guard *tokenguard.Guard
	mux   *http.ServeMux
	h     http.Handler // mux, behind the prefix
	// ending is closed by EndStreams; endOnce guards the close.
	ending  chan struct{}
	endOnce sync.Once
	// fallbackID is the error id the store's fallback error was logged
	// under, once, when a page first saw it (see fallbackNotice); fbMu
	// guards it.
	fbMu       sync.Mutex
	fallbackID string
}

// New returns the dashboard of st, whose registry must be in its
// current layout (an empty store, or one opened with registry.Open):
// the model pages read its version index.
func New(st store.Store, o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.Prefix != "" && !strings.HasPrefix(o.Prefix, "/") {
		return nil, fmt.Errorf("ui: prefix %q must start with /", o.Prefix)
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	s := &Server{st: st, reg: registry.New(st), o: o, tmpl: tmpl, guard: o.TokenGuard,
		mux: http.NewServeMux(), ending: make(chan struct{})}
	if s.guard == nil {
		s.guard = tokenguard.New(tokenguard.Options{Failures: o.TokenFailures, Window: o.TokenWindow, TrustedProxies: o.TrustedProxies})
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("ui: assets: %w", err)
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	// Pages without their own icon link (the run reports) make the
	// browser ask for one; an empty answer keeps their console clean.
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s.mux.HandleFunc("GET /{$}", s.runs)
	// Any other path answers the dashboard's own 404 page, with its
	// navigation, not the mux's bare text.
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("no page at %s", r.URL.Path)})
	})
	s.mux.HandleFunc("GET /runs/{id}", s.run)
	s.mux.HandleFunc("GET /runs/{id}/report/{file...}", s.report)
	s.mux.HandleFunc("GET /runs/{id}/download/{kind}", s.download)
	s.mux.HandleFunc("GET /compare", s.compare)
	s.mux.HandleFunc("GET /studies", s.studies)
	s.mux.HandleFunc("GET /studies/{id}", s.study)
	s.mux.HandleFunc("GET /models", s.models)
	s.mux.HandleFunc("GET /models/{version}", s.version)
	s.mux.HandleFunc("POST /models/{version}/promote", s.promote)
	s.mux.HandleFunc("POST /names/{name}/rollback", s.rollback)
	s.mux.HandleFunc("POST /names/{name}/route", s.route)
	s.mux.HandleFunc("GET /monitor", s.monitorPage)
	s.mux.HandleFunc("GET /events", s.events)
	s.h = s.mux
	if o.Prefix != "" {
		s.h = http.StripPrefix(o.Prefix, s.mux)
	}
	return s, nil
}

// pageCSP allows nothing from outside the dashboard: no CDN, no inline
// script, no fonts.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'self'"

// reportCSP lets a run's report (package report's self-contained page)
// run its inline script and style and show its own images, and reach
// nothing else: no fetch of the dashboard's pages, no frames, no forms.
// Like every page, only the dashboard may frame it.
const reportCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; " +
	"form-action 'none'; base-uri 'none'; frame-ancestors 'self'"

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	// frame-ancestors says the same to browsers that read CSP; older
	// ones read only this.
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	s.h.ServeHTTP(w, r)
}

// page is what every template gets: the title, whether write actions
// are on, and the page's own data.
type page struct {
	Base  string // Options.Prefix: every link is relative to Base + "/"
	Title string
	Nav   string
	Admin bool
	// Fallback is the error id of the store's fallback error while it
	// serves from its fallback (Redis is unreachable), so every page
	// shows only what the fallback holds; "" otherwise.
	Fallback string
	Data     any
}

// page returns the template data of a page: the page's own, and what
// every page shows.
func (s *Server) page(title, nav string, data any) page {
	return page{Base: s.o.Prefix, Title: title, Nav: nav, Admin: s.o.AdminToken != "", Data: data, Fallback: s.fallbackNotice()}
}

// fallbackNotice returns "" while the store serves from its primary, and
// otherwise the error id its fallback error is logged under. The error
// names the store's URLs (files, hosts, a password in a Redis URL), so
// pages show only the id, like a 500 page; the store stays on its
// fallback for the rest of the process, so the error is logged once
// rather than on every page.
func (s *Server) fallbackNotice() string {
	err := store.OnFallback(s.st)
	if err == nil {
		return ""
	}
	s.fbMu.Lock()
	defer s.fbMu.Unlock()
	if s.fallbackID == "" {
		s.fallbackID = errorID()
		s.o.Log.Error("ui: the store serves from its fallback", "error_id", s.fallbackID, "err", err)
	}
	return s.fallbackID
}

// render executes the template name into a buffer first, so a template
// error gives a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name, title, nav string, data any) {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, s.page(title, nav, data)); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// httpError is an error with the status it answers a request with.
type httpError struct {
	code int
	err  error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func badRequest(format string, a ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Errorf(format, a...)}
}

// fail answers r with err's status (404 for store.ErrNotFound, 409 or
// 404 for registry conflicts (see registryError), 500 for an unexpected
// error) on an escaped error page. A 4xx page says what was wrong with
// the request; a 500 page says only that the page failed, with an
// error id, since an internal error may name files, stores and
// addresses: the id and the whole error go to Options.Log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	err = registryError(err)
	var he *httpError
	switch {
	case errors.As(err, &he):
		code = he.code
	case errors.Is(err, store.ErrNotFound), errors.Is(err, registry.ErrUnknownName):
		code = http.StatusNotFound
	case errors.Is(err, store.ErrAmbiguous):
		code = http.StatusBadRequest
	}
	msg := err.Error()
	if fe, ok := errors.AsType[*store.FallbackError](err); ok {
		// A lookup on the fallback says so, but the fallback error
		// names the store's file and Redis's address: the banner's
		// error id leads to them in the log instead.
		msg = strings.ReplaceAll(msg, fe.Error(), "the store is on its fallback")
	}
	if code == http.StatusInternalServerError {
		id := errorID()
		s.o.Log.Error("ui request failed", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		msg = fmt.Sprintf("The dashboard could not show %s: something failed on the server, not in your request. "+
			"Its log has the details under error id %s.", r.URL.Path, id)
	}
	var b bytes.Buffer
	if terr := s.tmpl.ExecuteTemplate(&b, "error.html", s.page(http.StatusText(code), "", msg)); terr != nil {
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// errorID returns a fresh id for an internal error: 8 random bytes in
// hex, to find the error in the log.
func errorID() string {
	var b [8]byte
	rand.Read(b[:]) // crypto/rand's Read never fails
	return hex.EncodeToString(b[:])
}

// authorized reports whether r carries the admin token (in the form
// field "token"), comparing in constant time. With no token configured
// nothing is authorized.
func (s *Server) authorized(r *http.Request) bool {
	if s.o.AdminToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.o.AdminToken)) == 1
}

// For returns the dashboard as a handler for requests accepted on ln:
// on a loopback listener it answers only requests addressed to a
// loopback host name or one of Options.AllowHosts (see loopbackOnly).
// Mount this rather than the Server itself on a listener of one's own.
func (s *Server) For(ln net.Listener) http.Handler {
	if isLoopback(ln) {
		return loopbackOnly(s, s.o.AllowHosts)
	}
	return s
}

// EndStreams ends the open progress streams (GET /events), and any
// opened later at once; the browser's EventSource then reconnects. A
// stream never ends by itself, so a graceful http.Server.Shutdown would
// wait for it until its deadline: when mounting the dashboard on a
// server of one's own, register EndStreams with RegisterOnShutdown
// (Serve ends streams by cancelling their requests' context).
func (s *Server) EndStreams() { s.endOnce.Do(func() { close(s.ending) }) }

// Serve serves the dashboard on ln (as For(ln)) until ctx ends, then
// shuts down, giving in-flight requests (and open event streams) a few
// seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.For(ln), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ui: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("ui: shutdown: %w", err)
	}
	return nil
}
