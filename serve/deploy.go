package serve

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

// modelSet is every served name's deployment. It is immutable: a refresh
// builds a new set and swaps the pointer.
type modelSet struct {
	names map[string]*deployment
	// unloaded holds, with the reason, the served names that have no
	// deployment because their production version failed to load (at
	// startup, or when first promoted). Their requests get 503 while
	// every refresh retries the version, not a 404 saying the name is
	// not served.
	unloaded map[string]string
}

// deployment is what one name serves: its plan and the loaded versions
// it needs. Immutable once built.
type deployment struct {
	plan     *registry.Plan
	variants map[string]*variant // by version
	split    []share             // empty: everything to production
	total    int
	shadows  []*variant
	// failed holds the routed versions (not production) that did not
	// load, left out of split and shadows until a refresh loads them.
	failed map[string]string
}

type share struct {
	label string // the route's target as given: a bounded metric label
	v     *variant
	cum   int // cumulative weight up to and including this share
}

// variant is one loaded model version.
type variant struct {
	m *registry.Model
	p *pipeline.Predictor
	// paramsNoted is set once a request's ignored MLflow params were
	// logged (see noteIgnoredParams).
	paramsNoted atomic.Bool
}

func (d *deployment) production() *variant { return d.variants[d.plan.Production] }

// version returns the loaded version v of the deployment served as
// name, or the error a V2 request pinning a version it does not hold
// gets (infer, metadata and readiness alike).
func (d *deployment) version(name, v string) (*variant, error) {
	if x := d.variants[v]; x != nil {
		return x, nil
	}
	return nil, fmt.Errorf("version %s of %s is not loaded (served: production, split and shadow versions)", v, name)
}

// Refresh reads the plans of the served names and swaps in a new model
// set when one changed, loading new versions first. A production version
// that fails to load or check leaves its name on the deployment it had;
// a split arm or shadow that fails is left out (its share goes to the
// other arms) and retried at the next refresh (Watch's polls space their
// retries out). It returns an error only when the registry cannot be
// read at all.
func (s *Server) Refresh(ctx context.Context) error { return s.refreshNames(ctx, false) }

// refreshNames is Refresh; polled, the watcher's periodic call, it does
// not yet retry a plan that failed to load while its backoff lasts.
func (s *Server) refreshNames(ctx context.Context, polled bool) error {
	s.refresh.Lock()
	defer s.refresh.Unlock()
	names := s.o.Names
	if len(names) == 0 {
		var err error
		if names, err = s.reg.Names(ctx); err != nil {
			return fmt.Errorf("serve: list model names: %w", err)
		}
	}
	old := s.set.Load()
	next := &modelSet{names: make(map[string]*deployment, len(names))}
	for _, name := range names {
		od := old.names[name]
		d, why := s.refreshName(ctx, name, od, polled)
		switch {
		case d != nil:
			next.names[name] = d
		case why != "":
			if next.unloaded == nil {
				next.unloaded = map[string]string{}
			}
			next.unloaded[name] = why
		}
	}
	for name := range s.backoff {
		if _, served := next.names[name]; !served && next.unloaded[name] == "" {
			delete(s.backoff, name) // no longer served, or its production gone
		}
	}
	if !maps.EqualFunc(old.names, next.names, func(a, b *deployment) bool { return a == b }) || !maps.Equal(old.unloaded, next.unloaded) {
		s.set.Store(next)
		s.metrics.setInfo(next)
	}
	return nil
}

// refreshName returns what name serves after a refresh: od (its current
// deployment, nil if none) unless its plan changed or an arm that failed
// to load now loads. With no deployment to return because the production
// version failed to load, why says so.
func (s *Server) refreshName(ctx context.Context, name string, od *deployment, polled bool) (_ *deployment, why string) {
	plan, err := s.reg.Plan(ctx, name)
	if err != nil {
		if od != nil && !errors.Is(err, registry.ErrNoProduction) {
			s.o.Logger.Warn("serve: read plan", "model", name, "err", err)
		}
		return od, "" // keep serving through a store hiccup
	}
	same := od != nil && reflect.DeepEqual(od.plan, plan)
	if same && len(od.failed) == 0 {
		return od, ""
	}
	b := s.backoff[name]
	if polled && b.waiting(plan, time.Now()) {
		return od, b.why
	}
	d, err := s.deploy(ctx, plan, od)
	if err != nil {
		if od == nil {
			s.loadFailure(name, plan.Production, err.Error(), "nothing: the name gets 503 until the version loads; "+retried)
			// Clients see the version, not the error: it names artifact
			// paths and checksums, which the log has.
			why := fmt.Sprintf("its production version %s failed to load (the server's log says why); %s", plan.Production, retried)
			s.backOff(name, plan, why)
			return nil, why
		}
		s.loadFailure(name, plan.Production, err.Error(), "the deployment served before, production "+od.plan.Production)
		s.backOff(name, plan, "")
		return od, ""
	}
	s.loadRecovered(name, d.failed)
	for v, err := range d.failed {
		s.loadFailure(name, v, err, "production and the arms that loaded: this version's traffic goes to them")
	}
	if len(d.failed) > 0 {
		s.backOff(name, plan, "")
	} else {
		delete(s.backoff, name)
	}
	if same && maps.Equal(od.failed, d.failed) {
		return od, "" // the same arms failed again: nothing to swap
	}
	s.metrics.swaps.WithLabelValues(name).Inc()
	s.o.Logger.Info("serve: swapped", "model", name, "production", plan.Production, "split", len(d.split), "shadow", len(d.shadows))
	return d, ""
}

// retried says when a version that failed to load is tried again.
const retried = "retried at polls spaced out to every 30 s while it fails, at once when its model's plan changes"

// maxLoadBackoff bounds the wait between the watcher's retries of a plan
// that failed to load: each retry reads and checksums the artifacts
// again, which for a model of hundreds of megabytes, four times a
// second, is a load of its own, while an artifact store that comes back
// is noticed within this long.
const maxLoadBackoff = 30 * time.Second

// loadBackoff is when the watcher next retries a name's plan that failed
// to load, and what the name answers meanwhile (why, for a name with no
// deployment).
type loadBackoff struct {
	plan *registry.Plan
	why  string
	wait time.Duration
	next time.Time
}

// waiting reports whether plan is the one that failed and its retry is
// not due at now.
func (b *loadBackoff) waiting(plan *registry.Plan, now time.Time) bool {
	return b != nil && now.Before(b.next) && reflect.DeepEqual(b.plan, plan)
}

// backOff doubles the wait before the watcher retries name's plan, from
// PollInterval up to maxLoadBackoff; a plan other than the one that
// failed before starts again at PollInterval.
func (s *Server) backOff(name string, plan *registry.Plan, why string) {
	b := s.backoff[name]
	if b == nil || !reflect.DeepEqual(b.plan, plan) {
		b = &loadBackoff{plan: plan}
		if s.backoff == nil {
			s.backoff = map[string]*loadBackoff{}
		}
		s.backoff[name] = b
	}
	b.why = why
	b.wait = min(max(2*b.wait, s.o.PollInterval), maxLoadBackoff)
	b.next = time.Now().Add(b.wait)
}

// loadFailure logs and counts a version that failed to load, once per
// distinct failure: every refresh retries (an artifact store may come
// back), but the same failure is not news at every poll. keeping says
// what the name serves meanwhile.
func (s *Server) loadFailure(name, version, err, keeping string) {
	key := name + "/" + version
	if s.loadFailed[key] == err {
		return
	}
	s.loadFailed[key] = err
	s.metrics.loadErrors.WithLabelValues(name).Inc()
	s.o.Logger.Error("serve: load failed", "model", name, "version", version, "keeping", keeping, "err", err)
}

// loadRecovered forgets the failures of name's versions that loaded now.
func (s *Server) loadRecovered(name string, failed map[string]string) {
	for key := range s.loadFailed {
		n, v, _ := strings.Cut(key, "/")
		if _, still := failed[v]; n == name && !still {
			delete(s.loadFailed, key)
		}
	}
}

// deploy builds the deployment of plan, reusing the versions old already
// has loaded and loading (and checking) the others. A production version
// that does not load is an error; another is left out of the split and
// shadows, and listed in the deployment's failed.
func (s *Server) deploy(ctx context.Context, plan *registry.Plan, old *deployment) (*deployment, error) {
	d := &deployment{plan: plan, variants: map[string]*variant{}}
	for _, v := range plan.Versions() {
		if old != nil && old.variants[v] != nil {
			d.variants[v] = old.variants[v]
			continue
		}
		start := time.Now()
		vr, err := s.load(ctx, plan.Name, v)
		if err != nil {
			if v == plan.Production {
				return nil, err
			}
			if d.failed == nil {
				d.failed = map[string]string{}
			}
			d.failed[v] = err.Error()
			continue
		}
		s.metrics.loadSeconds.WithLabelValues(plan.Name).Observe(time.Since(start).Seconds())
		d.variants[v] = vr
	}
	for _, sh := range plan.Split {
		if vr := d.variants[sh.Version]; vr != nil {
			d.total += sh.Weight
			d.split = append(d.split, share{label: variantLabel(sh.Label), v: vr, cum: d.total})
		}
	}
	for _, v := range plan.Shadow {
		if vr := d.variants[v]; vr != nil {
			d.shadows = append(d.shadows, vr)
		}
	}
	return d, nil
}

// load reads one version's predictor from its artifact store (verifying
// the checksum) and checks that it is what the registry says it is.
func (s *Server) load(ctx context.Context, name, version string) (*variant, error) {
	m, err := s.reg.Resolve(ctx, name+"/"+version)
	if err != nil {
		return nil, err
	}
	p, err := pipeline.LoadVersion(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return &variant{m: m, p: p}, nil
}

// variantLabel turns a route target into a metric label: "@challenger"
// becomes "challenger"; a version stays as it is.
func variantLabel(target string) string {
	if l, ok := cutAt(target); ok {
		return l
	}
	return target
}

func cutAt(s string) (string, bool) {
	if len(s) > 0 && s[0] == '@' {
		return s[1:], true
	}
	return s, false
}

// choose picks the variant serving one request and its label: production
// without a split; with one, by the hash of the routing key (sticky) or,
// without a key, of the request's sequence number mixed with the seed.
func (s *Server) choose(d *deployment, key string, seq uint64) (*variant, string) {
	if len(d.split) == 0 {
		return d.production(), "production"
	}
	var h uint64
	if key != "" {
		f := fnv.New64a()
		f.Write([]byte(d.plan.Name))
		f.Write([]byte{0})
		f.Write([]byte(key))
		h = mix(f.Sum64())
	} else {
		h = mix(seq ^ s.o.Seed*0x9e3779b97f4a7c15)
	}
	pick := int(h % uint64(d.total))
	i, _ := slices.BinarySearchFunc(d.split, pick, func(sh share, p int) int {
		if sh.cum <= p {
			return -1
		}
		return 1
	})
	return d.split[i].v, d.split[i].label
}

// mix is SplitMix64's finaliser: nearby inputs give unrelated outputs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// errNoModelNamed is a request naming no model to a server of several:
// a client error (400), since the request could have named one, rather
// than a missing model (404).
var errNoModelNamed = errors.New("the request names no model")

// notLoadedError is a request for a name this server serves but has no
// version of loaded, its production version having failed to load (it is
// retried at every refresh): 503, as for a server not ready yet, rather
// than a 404 saying the name is not served.
type notLoadedError struct{ name, why string }

func (e *notLoadedError) Error() string {
	return fmt.Sprintf("model %q is not loaded: %s", e.name, e.why)
}

// deployment returns the served deployment of name; an empty name means
// the only one served. Its errors map to statuses with deploymentStatus.
func (s *Server) deployment(name string) (*deployment, string, error) {
	set := s.set.Load()
	if name == "" {
		switch n := len(set.names) + len(set.unloaded); {
		case n == 0: // nothing promoted: no model to find (404)
			return nil, "", errors.New("no model is served: none has a production version yet; promote one")
		case n == 1 && len(set.names) == 1:
			for n, d := range set.names {
				return d, n, nil
			}
		case n == 1:
			for n := range set.unloaded {
				return s.deployment(n)
			}
		}
		return nil, "", fmt.Errorf("%w: %d models are served (%s): name one with ?model=NAME or POST /v1/models/NAME/invocations",
			errNoModelNamed, len(set.names)+len(set.unloaded), servedList(set))
	}
	d := set.names[name]
	if d == nil {
		if why, ok := set.unloaded[name]; ok {
			return nil, "", &notLoadedError{name, why}
		}
		return nil, "", fmt.Errorf("model %q is not served (served: %s)", name, servedList(set))
	}
	return d, name, nil
}

// deploymentStatus is the HTTP status of an error of deployment.
func deploymentStatus(err error) int {
	switch {
	case errors.Is(err, errNoModelNamed):
		return http.StatusBadRequest
	case errors.As(err, new(*notLoadedError)):
		return http.StatusServiceUnavailable
	}
	return http.StatusNotFound
}

// servedList lists the served names, those not loaded marked so.
func servedList(set *modelSet) string {
	names := slices.Collect(maps.Keys(set.names))
	for n := range set.unloaded {
		names = append(names, n+" (not loaded)")
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return fmt.Sprint(names)
}
