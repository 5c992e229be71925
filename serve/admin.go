package serve

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/internal/tokenguard"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// handleServerReady answers /v2/health/ready: 200 when every served name
// has a loaded production version (the V2 protocol's server readiness),
// 503 naming one that has not; with ReadyWhenAny, as handleReady.
func (s *Server) handleServerReady(w http.ResponseWriter, r *http.Request) {
	set := s.set.Load()
	if s.o.ReadyWhenAny || len(set.names) == 0 || len(set.unloaded) == 0 {
		s.handleReady(w, r)
		return
	}
	count := ""
	if len(set.unloaded) > 1 {
		count = fmt.Sprintf(" (%d are not)", len(set.unloaded))
	}
	msg := fmt.Sprintf("not every model is ready%s: %s (serve --strict-readiness=false makes this 200 while any model is)", count, set.firstUnloaded())
	s.fail(w, nil, http.StatusServiceUnavailable, msg, nil)
}

// firstUnloaded names the first unloaded name, by name, and why.
func (set *modelSet) firstUnloaded() string {
	n := slices.Min(slices.Collect(maps.Keys(set.unloaded)))
	return fmt.Sprintf("model %q: %s", n, set.unloaded[n])
}

// handleReady answers /ping and /health: 200 once at least one model is
// loaded, 503 before.
func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if set := s.set.Load(); len(set.names) == 0 {
		msg := "no model loaded yet: promote a version to production"
		if len(set.unloaded) > 0 {
			msg = "no model loaded yet: " + set.firstUnloaded()
		}
		s.fail(w, nil, http.StatusServiceUnavailable, msg, nil)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "\n") //nolint:errcheck // as MLflow's /ping
}

// handleModelReady serves GET /v2/models/{name}/ready and
// /v2/models/{name}/versions/{version}/ready.
func (s *Server) handleModelReady(w http.ResponseWriter, r *http.Request) {
	d, name, err := s.deployment(r.PathValue("name"))
	if err != nil {
		s.fail(w, nil, deploymentStatus(err), err.Error(), nil)
		return
	}
	// A version is ready when this server has it loaded, as infer and
	// metadata take it (V2 clients such as tritonclient's
	// is_model_ready(name, version) ask here; it was a 404 "no endpoint").
	if want := r.PathValue("version"); want != "" {
		if _, err := d.version(name, want); err != nil {
			s.fail(w, nil, http.StatusNotFound, err.Error(), nil)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// handleVersion reports the build and the version each name serves, or
// why it serves none.
func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	set := s.set.Load()
	models := make(map[string]any, len(set.names))
	for _, n := range slices.Sorted(maps.Keys(set.names)) {
		d := set.names[n]
		models[n] = map[string]any{"production": d.plan.Production, "split": d.plan.Split, "shadow": d.plan.Shadow}
	}
	// A name whose production version failed to load is served (503),
	// not absent: listed with why, or it looks unregistered.
	for n, why := range set.unloaded {
		models[n] = map[string]any{"unloaded": why}
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": s.o.Version, "models": models})
}

func (s *Server) handleServerMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "tabforge", "version": s.o.Version, "extensions": []string{}})
}

// admin wraps an admin handler with the bearer-token check, compared in
// constant time, behind the guess limit (Options.TokenFailures): a
// client that sent too many wrong tokens gets 429 whatever it sends.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + s.o.AdminToken)
	return func(w http.ResponseWriter, r *http.Request) {
		try, err := s.guard.Reserve(r)
		if err != nil {
			if refusal, ok := errors.AsType[*tokenguard.Refusal](err); ok {
				w.Header().Set("Retry-After", refusal.RetryAfter())
			}
			s.fail(w, nil, http.StatusTooManyRequests, err.Error(), nil)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tabforge admin"`)
			s.fail(w, nil, http.StatusUnauthorized, "admin endpoints need the header Authorization: Bearer TOKEN", nil)
			return
		}
		s.guard.Succeeded(try)
		h(w, r)
	}
}

// adminBody is the optional JSON body of admin requests.
type adminBody struct {
	Reason string `json:"reason"`
	// Route: split "TARGET=WEIGHT,...", shadow targets, sticky key field.
	Split  string   `json:"split"`
	Shadow []string `json:"shadow"`
	Key    string   `json:"key"`
}

func (s *Server) readAdmin(w http.ResponseWriter, r *http.Request) (adminBody, bool) {
	var b adminBody
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.fail(w, nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("admin body over %d bytes", mbe.Limit), nil)
		return b, false
	}
	if err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		// A misspelt field ("splits") must not read as an empty body,
		// which for a route means: remove it.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err = dec.Decode(&b); err == nil && dec.More() {
			err = errors.New("data after the JSON object")
		} else if err != nil {
			// In the body's terms, not Go's ("cannot unmarshal string into
			// Go struct field adminBody.shadow of type []string").
			err = errors.New(strings.TrimPrefix(jsonProblem(raw, err).Error(), "json: "))
		}
	}
	if err != nil {
		s.fail(w, nil, http.StatusBadRequest, "malformed admin body: "+err.Error(), nil)
		return b, false
	}
	return b, true
}

// handleRollback serves POST /admin/models/{name}/rollback: the registry
// rollback (with its history event), then a refresh before the answer.
func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	b, ok := s.readAdmin(w, r)
	if !ok {
		return
	}
	e, err := s.reg.Rollback(r.Context(), r.PathValue("name"), registry.PromoteOptions{Reason: adminReason(b.Reason), Check: pipeline.CheckLoads})
	s.adminDone(w, r, e, err)
}

// handleRoute serves POST /admin/models/{name}/route with a body
// {"split": "production=90,challenger=10", "shadow": ["v3"], "key":
// "customer_id"}; an empty body removes the route.
func (s *Server) handleRoute(w http.ResponseWriter, r *http.Request) {
	b, ok := s.readAdmin(w, r)
	if !ok {
		return
	}
	rt := registry.Route{Shadow: b.Shadow, Key: b.Key}
	if b.Split != "" {
		var err error
		if rt.Split, err = registry.ParseSplit(b.Split); err != nil {
			s.fail(w, nil, http.StatusBadRequest, err.Error(), nil)
			return
		}
	}
	e, err := s.reg.SetRoute(r.Context(), r.PathValue("name"), rt, registry.PromoteOptions{Reason: adminReason(b.Reason)})
	s.adminDone(w, r, e, err)
}

func adminReason(r string) string {
	if r == "" {
		return "admin API"
	}
	return "admin API: " + r
}

func (s *Server) adminDone(w http.ResponseWriter, r *http.Request, e *registry.Event, err error) {
	switch {
	case errors.Is(err, registry.ErrUnknownName):
		s.fail(w, nil, http.StatusNotFound, err.Error(), nil)
		return
	case err != nil && (errors.Is(err, registry.ErrNoPrevious) || errors.Is(err, registry.ErrNoProduction) || errors.Is(err, registry.ErrCheckFailed)):
		s.fail(w, nil, http.StatusConflict, err.Error(), nil)
		return
	case err != nil:
		s.fail(w, nil, http.StatusBadRequest, err.Error(), nil)
		return
	}
	// Refresh before answering, not in the background: a client that
	// rolled back a bad version expects this server to have stopped
	// serving it once it hears OK, and a Handler run without Serve has
	// no watcher to wake. Refresh keeps the loaded deployment of a
	// version that fails to load, and says so in the log and metrics.
	if err := s.Refresh(r.Context()); err != nil {
		s.o.Logger.Warn("serve: refresh after an admin change failed; serving the models loaded before", "err", err)
	}
	writeJSON(w, http.StatusOK, e)
}
