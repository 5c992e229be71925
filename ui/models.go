package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/internal/tokenguard"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// A name retrained every hour gathers thousands of versions, so /models
// shows each name's newest versionsShown and every version with a stage
// or an alias, and links to /models?name=NAME, which pages through all
// of that name's versions, versionsPerPage at a time.
const (
	versionsShown   = 10
	versionsPerPage = 100
)

type nameGroup struct {
	Name     string
	Versions []*registry.Model
	Total    int    // the name's versions (registry.CountVersions)
	All      string // link to every version of the name, when some are not shown
	First    int    // 1-based index of Versions[0] among the name's versions
	Prev     string
	Next     string
}

// models serves /models: every registered name with its newest versions
// and those with a stage or an alias; /models?name=NAME: one page of
// that name's versions (see versionPage). Each name costs a page of the
// registry's version index (registry.Versions) and a count of it, never
// a read of every version.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if name := v.Get("name"); name != "" {
		g, err := s.versionPage(r.Context(), v, name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, "models.html", "Model "+name, "models", []nameGroup{g})
		return
	}
	names, err := s.reg.Names(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups := make([]nameGroup, 0, len(names))
	for _, name := range names {
		ms, more, err := s.reg.Versions(r.Context(), name, registry.VersionQuery{Limit: versionsShown, Held: true})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(ms) == 0 {
			continue // every version of the name was removed
		}
		g := nameGroup{Name: name, Versions: ms, First: 1}
		if g.Total, err = s.reg.CountVersions(r.Context(), name, registry.Position{}); err != nil {
			s.fail(w, r, err)
			return
		}
		if more {
			g.All = "models?name=" + url.QueryEscape(name)
		}
		groups = append(groups, g)
	}
	s.render(w, r, "models.html", "Models", "models", groups)
}

// versionPage is versionsPerPage of name's versions, newest first: the
// newest, those older than ?before=VERSION or newer than ?after=VERSION
// (keyset pages: each reads only its own index entries, however deep),
// or, for links made before those, those from ?offset=N. Its links to
// the pages before and after are keyset ones carrying the place in the
// index (&at=, the version's creation time in Unix nanoseconds), so
// they lead on from there once that version is gone; index entries of
// versions gone are passed over (registry.VersionsPage). A version gone
// from a link without its place (one made before places were in links)
// has no place to start from: the page is then the newest.
func (s *Server) versionPage(ctx context.Context, v url.Values, name string) (nameGroup, error) {
	q, err := versionQuery(v)
	if err != nil {
		return nameGroup{}, err
	}
	p, err := s.reg.VersionsPage(ctx, name, q)
	if errors.Is(err, store.ErrNotFound) && !errors.Is(err, registry.ErrUnknownName) && q.At.IsZero() && (q.Before != "" || q.After != "") {
		q = registry.VersionQuery{Limit: versionsPerPage}
		p, err = s.reg.VersionsPage(ctx, name, q)
	}
	if err != nil {
		return nameGroup{}, err
	}
	older := p.More
	if q.After != "" {
		older = true // the version after= names, at least
		if !p.More {
			// Nothing newer: the newest page, whole rather than the
			// few versions above the one named.
			q = registry.VersionQuery{Limit: versionsPerPage}
			if p, err = s.reg.VersionsPage(ctx, name, q); err != nil {
				return nameGroup{}, err
			}
			older = p.More
		}
	}
	g := nameGroup{Name: name, Versions: p.Models, First: q.Offset + 1}
	if g.Total, err = s.reg.CountVersions(ctx, name, registry.Position{}); err != nil {
		return nameGroup{}, err
	}
	newer := q.Offset > 0 || q.Before != "" || q.After != ""
	link := func(key string, at registry.Position) string {
		if at == (registry.Position{}) {
			return withQuery("models", v, "offset", "", "before", "", "after", "", "at", "")
		}
		return withQuery("models", v, "offset", "", "before", "", "after", "", key, at.Version, "at", strconv.FormatInt(at.Created.UnixNano(), 10))
	}
	switch {
	case newer && p.Newest == (registry.Position{}):
		g.Prev = link("", registry.Position{}) // past the oldest: back to the newest
	case newer:
		g.Prev = link("after", p.Newest)
		if q.Offset == 0 {
			n, err := s.reg.CountVersions(ctx, name, p.Newest)
			if err != nil {
				return nameGroup{}, err
			}
			g.First = n + 1
		}
	}
	if older && p.Oldest != (registry.Position{}) {
		g.Next = link("before", p.Oldest)
	}
	return g, nil
}

// versionQuery reads a version page's query: ?offset=, ?before= or
// ?after=, and ?at=.
func versionQuery(v url.Values) (registry.VersionQuery, error) {
	offset, err := countParam(v, "offset")
	if err != nil {
		return registry.VersionQuery{}, err
	}
	q := registry.VersionQuery{Offset: offset, Before: v.Get("before"), After: v.Get("after"), Limit: versionsPerPage}
	if (q.Offset > 0 || q.After != "") && q.Before != "" || q.Offset > 0 && q.After != "" {
		return registry.VersionQuery{}, badRequest("give one of offset, before and after")
	}
	if at := v.Get("at"); at != "" {
		ns, err := strconv.ParseInt(at, 10, 64)
		if err != nil || q.Before == "" && q.After == "" {
			return registry.VersionQuery{}, badRequest("at=%q is not a time in Unix nanoseconds beside before or after", at)
		}
		q.At = time.Unix(0, ns)
	}
	return q, nil
}

type versionData struct {
	*registry.Details
	Metrics []kv
	Done    string // what the last action did, from ?done= (doneText)
}

// version serves /models/{version}: the version's lineage, history and,
// with an admin token configured, the promote and rollback forms.
func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	d, err := s.reg.Show(r.Context(), r.PathValue("version"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	var latest []registry.Event
	if q.Get("done") == "route" {
		// A route change concerns the name, not always this version.
		if latest, err = s.reg.HistoryWith(r.Context(), d.Model.Name, registry.HistoryQuery{Limit: 1}); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	vd := versionData{Details: d, Done: doneText(q, d, latest)}
	for _, k := range sortedKeys(d.Model.Metrics) {
		vd.Metrics = append(vd.Metrics, kv{k, metricText(d.Model.Metrics[k])})
	}
	s.render(w, r, "version.html", "Model "+d.Model.Name+" "+d.Model.Version, "models", vd)
}

// registryError maps the registry's lookup failures to 404 and its
// refusals to 409.
func registryError(err error) error {
	switch {
	case errors.Is(err, registry.ErrUnknownName), errors.Is(err, registry.ErrUnknownAlias):
		return &httpError{http.StatusNotFound, err}
	case errors.Is(err, registry.ErrBadRoute):
		return &httpError{http.StatusBadRequest, err}
	case errors.Is(err, registry.ErrNotDeployable), errors.Is(err, registry.ErrNoPrevious), errors.Is(err, registry.ErrNoProduction), errors.Is(err, registry.ErrNoStaging),
		errors.Is(err, registry.ErrAmbiguous), errors.Is(err, registry.ErrInProduction), errors.Is(err, registry.ErrCheckFailed):
		return &httpError{http.StatusConflict, err}
	}
	return err
}

// maxForm bounds a write request's body. Its form is a few short
// fields, and the body is read before the token can be checked: without
// a bound anyone reaching the port could make the server take in (and
// spool to temporary files) a multipart body of any size.
const maxForm = 64 << 10

// checkWrite refuses a write request without the admin token (403),
// from an address that sent too many wrong ones (429, see tokenguard),
// with a form over maxForm bytes (413) or without its confirmation box
// ticked (400).
func (s *Server) checkWrite(w http.ResponseWriter, r *http.Request) error {
	if s.o.AdminToken == "" {
		return &httpError{http.StatusForbidden, errors.New("write actions are off: start tabforge ui with --admin-token")}
	}
	try, err := s.guard.Reserve(r)
	if err != nil {
		if refusal, ok := errors.AsType[*tokenguard.Refusal](err); ok {
			w.Header().Set("Retry-After", refusal.RetryAfter())
		}
		return &httpError{http.StatusTooManyRequests, err}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	// ParseForm first: ParseMultipartForm drops its error for a
	// URL-encoded body and reports only that the body is not multipart.
	err = r.ParseForm()
	if err == nil {
		if err = r.ParseMultipartForm(maxForm); errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	}
	if err != nil {
		s.guard.Release(try)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Errorf("the form is over %d bytes", maxForm)}
		}
		return badRequest("form: %v", err)
	}
	if !s.authorized(r) {
		return &httpError{http.StatusForbidden, errors.New("wrong or missing admin token")}
	}
	s.guard.Succeeded(try)
	if r.PostFormValue("confirm") != "yes" {
		return badRequest("tick the confirmation box to %s", r.URL.Path)
	}
	return nil
}

// promote handles POST /models/{version}/promote (stage, force, reason,
// token, confirm) with registry.Promote, which records it in the history.
func (s *Server) promote(w http.ResponseWriter, r *http.Request) {
	if err := s.checkWrite(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	stage, err := registry.ParseStage(r.PostFormValue("stage"))
	if err != nil {
		s.fail(w, r, badRequest("%v", err))
		return
	}
	o := registry.PromoteOptions{Force: r.PostFormValue("force") == "yes", Reason: reason(r), Check: pipeline.CheckLoads}
	e, err := s.reg.Promote(r.Context(), r.PathValue("version"), stage, o)
	if nd, ok := errors.AsType[*registry.NotDeployableError](err); ok {
		err = fmt.Errorf("promote %s (%s): %w; tick force to promote it anyway", nd.Version, nd.Name, registry.ErrNotDeployable)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done := "promote"
	if e == nil {
		done = "unchanged&stage=" + url.QueryEscape(string(stage))
	}
	http.Redirect(w, r, s.o.Prefix+"/models/"+url.PathEscape(r.PathValue("version"))+"?done="+done, http.StatusSeeOther)
}

// rollback handles POST /names/{name}/rollback with registry.Rollback.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	if err := s.checkWrite(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.reg.Rollback(r.Context(), r.PathValue("name"), registry.PromoteOptions{Reason: reason(r), Check: pipeline.CheckLoads})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, s.o.Prefix+"/models/"+url.PathEscape(e.Version)+"?done=rollback", http.StatusSeeOther)
}

// route handles POST /names/{name}/route (split like "production=90,
// challenger=10", shadow targets separated by commas, key) with
// registry.SetRoute, which records it in the history; empty fields clear
// the route, sending all traffic to production.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if err := s.checkWrite(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	rt := registry.Route{Key: strings.TrimSpace(r.PostFormValue("key"))}
	for _, t := range strings.Split(r.PostFormValue("shadow"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			rt.Shadow = append(rt.Shadow, t)
		}
	}
	if split := strings.TrimSpace(r.PostFormValue("split")); split != "" {
		var err error
		if rt.Split, err = registry.ParseSplit(split); err != nil {
			s.fail(w, r, badRequest("%v", err))
			return
		}
	}
	name := r.PathValue("name")
	e, err := s.reg.SetRoute(r.Context(), name, rt, registry.PromoteOptions{Reason: reason(r)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := r.PostFormValue("version")
	if back == "" {
		back = e.Version
	}
	http.Redirect(w, r, s.o.Prefix+"/models/"+url.PathEscape(back)+"?done=route", http.StatusSeeOther)
}

// reason is the form's reason, or says the dashboard did it.
func reason(r *http.Request) string {
	if v := r.PostFormValue("reason"); v != "" {
		return v
	}
	return "tabforge ui"
}

// doneText is the status line after a write action redirected to a
// version's page with ?done=ACTION: built from the registry's history
// (d's, and latest, the newest event of d's name), never from text in
// the URL, so that a crafted link cannot make the page announce what did
// not happen. An unknown action, or one the history does not show, shows
// nothing.
func doneText(q url.Values, d *registry.Details, latest []registry.Event) string {
	newest := func(match func(registry.Event) bool) *registry.Event {
		for i := len(d.History) - 1; i >= 0; i-- {
			if match(d.History[i]) {
				return &d.History[i]
			}
		}
		return nil
	}
	switch q.Get("done") {
	case "unchanged":
		if st, err := registry.ParseStage(q.Get("stage")); err == nil && d.Model.Stage == st {
			return "already " + string(st) + ": nothing changed"
		}
	case "promote":
		if e := newest(func(e registry.Event) bool { return e.Action == "promote" && e.Version == d.Model.Version }); e != nil {
			return fmt.Sprintf("promoted %s to %s", e.Version, e.Stage)
		}
	case "rollback":
		if e := newest(func(e registry.Event) bool { return e.Action == "rollback" && e.Version == d.Model.Version }); e != nil {
			return fmt.Sprintf("rolled %s back from %s to %s", e.Name, e.Replaced, e.Version)
		}
	case "route":
		if len(latest) == 1 && latest[0].Action == "route" {
			return latest[0].Name + ": " + latest[0].Reason
		}
	}
	return ""
}
