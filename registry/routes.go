package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Route is the traffic policy of a name: how a server of the name splits
// requests between versions, and which versions get a shadow copy of the
// traffic (answers logged, never returned). It lives in the name's record,
// so a promotion, a rollback and a route change each take effect with one
// record write, and a server polling the record sees all of them at once.
//
// A target is a version of the name or one of its labels: "production",
// "staging" or an alias. A label is kept as a label (it follows the
// version that holds it, so `--split production=90,challenger=10` keeps
// working across promotions and rollbacks); a version is stored whole.
type Route struct {
	// Split sends each request to one target, with probability
	// proportional to its weight. Empty: all traffic goes to production.
	Split []Share `json:"split,omitempty"`
	// Shadow targets get a copy of every request.
	Shadow []string `json:"shadow,omitempty"`
	// Key names the input field whose value makes routing sticky (the
	// header X-Routing-Key takes precedence); empty: only the header.
	Key   string    `json:"key,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// Share is one target of a split and its weight.
type Share struct {
	Target string `json:"target"`
	Weight int    `json:"weight"`
}

// IsZero reports whether r routes nothing: all traffic to production.
func (r Route) IsZero() bool { return len(r.Split) == 0 && len(r.Shadow) == 0 && r.Key == "" }

// MaxWeight bounds a split weight, so that sums of weights cannot
// overflow (a percentage or a per-mille split needs far less).
const MaxWeight = 1_000_000

// ParseSplit parses "V1=90,V2=10" into shares. Weights are integers
// from 0 to MaxWeight with a positive sum; a target may appear once.
func ParseSplit(s string) ([]Share, error) {
	var out []Share
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		t, w, ok := strings.Cut(part, "=")
		// Trimmed, and "@a" is "a", as routeTarget reads a target: "a =5,a=3"
		// and "a=5,@a=5" passed as two targets and routed one twice.
		t, w = strings.TrimSpace(t), strings.TrimSpace(w)
		var weight int
		if _, err := fmt.Sscanf(w, "%d", &weight); !ok || t == "" || err != nil || weight < 0 || fmt.Sprint(weight) != w {
			return nil, fmt.Errorf("registry: split %q: want TARGET=WEIGHT,... with whole non-negative weights, e.g. production=90,challenger=10", s)
		}
		if weight > MaxWeight {
			return nil, fmt.Errorf("registry: split %q: weight %d of %q is above %d", s, weight, t, MaxWeight)
		}
		if slices.ContainsFunc(out, func(sh Share) bool { return strings.TrimPrefix(sh.Target, "@") == strings.TrimPrefix(t, "@") }) {
			return nil, fmt.Errorf("registry: split %q: target %q appears twice", s, t)
		}
		out = append(out, Share{Target: t, Weight: weight})
		total += weight
	}
	if total <= 0 {
		return nil, fmt.Errorf("registry: split %q: weights sum to 0", s)
	}
	return out, nil
}

// SetRoute replaces the traffic route of name and returns the event
// (Action "route", Reason describing the route). Each target must name a
// version of name or one of its labels; versions are resolved (a unique
// prefix will do) and stored whole. A zero route removes the route.
func (r *Registry) SetRoute(ctx context.Context, name string, rt Route, o PromoteOptions) (*Event, error) {
	start := time.Now()
	nr, err := r.nameRecord(ctx, name)
	if err != nil {
		return nil, err
	}
	out := Route{Key: rt.Key}
	for _, sh := range rt.Split {
		if sh.Weight < 0 || sh.Weight > MaxWeight {
			return nil, fmt.Errorf("registry: route %s: %w: weight %d of %q is outside 0..%d", name, ErrBadRoute, sh.Weight, sh.Target, MaxWeight)
		}
		t, err := r.routeTarget(ctx, nr, sh.Target)
		if err != nil {
			return nil, err
		}
		out.Split = append(out.Split, Share{Target: t, Weight: sh.Weight})
	}
	if len(out.Split) > 0 && !slices.ContainsFunc(out.Split, func(s Share) bool { return s.Weight > 0 }) {
		return nil, fmt.Errorf("registry: route %s: %w: split weights sum to 0", name, ErrBadRoute)
	}
	if out.Key != "" && len(out.Split) == 0 {
		return nil, fmt.Errorf("registry: route %s: %w: key %q makes a split sticky, and the route has no split", name, ErrBadRoute, out.Key)
	}
	serving := nr.servingVersions(out.Split)
	for _, s := range rt.Shadow {
		t, err := r.routeTarget(ctx, nr, s)
		if err != nil {
			return nil, err
		}
		if v := nr.labelVersion(t); slices.Contains(serving, v) {
			return nil, fmt.Errorf("registry: route %s: %w: shadow %s is version %s, which serves the traffic already (its answers would be compared with themselves)", name, ErrBadRoute, s, v)
		}
		out.Shadow = append(out.Shadow, t)
	}
	if !out.IsZero() {
		out.Since = r.now().UTC()
	}
	if nr, err = r.updateName(ctx, name, func(nr *nameRecord) error {
		nr.Route = out
		return nil
	}); err != nil {
		return nil, err
	}
	e := &Event{Name: name, Action: "route", Version: nr.Production.Version, Reason: describeRoute(out), Seconds: time.Since(start).Seconds()}
	if o.Reason != "" {
		e.Reason += "; " + o.Reason
	}
	return e, r.putEvent(ctx, e)
}

// routeTarget checks one target of a route: a label of nr is kept as
// "@LABEL", anything else must resolve to a version of nr's name.
func (r *Registry) routeTarget(ctx context.Context, nr *nameRecord, t string) (string, error) {
	t = strings.TrimPrefix(strings.TrimSpace(t), "@")
	if t == string(Staging) && nr.Staging.Version == "" {
		// The label would follow a later promotion, but until then its
		// share of the traffic would silently go nowhere.
		return "", fmt.Errorf("registry: route %s: target staging: %w", nr.Name, ErrNoStaging)
	}
	if _, ok := nr.Aliases[t]; ok || t == string(Production) || t == string(Staging) {
		return "@" + t, nil
	}
	m, err := r.resolveInName(ctx, nr.Name, t)
	if err != nil {
		return "", fmt.Errorf("registry: route %s: target %q is neither production, staging, an alias (%s) nor a version: %w", nr.Name, t, aliasList(nr), err)
	}
	return m.Version, nil
}

func describeRoute(rt Route) string {
	if rt.IsZero() {
		return "route removed: all traffic to production"
	}
	var parts []string
	if len(rt.Split) > 0 {
		s := make([]string, len(rt.Split))
		for i, sh := range rt.Split {
			s[i] = fmt.Sprintf("%s=%d", sh.Target, sh.Weight)
		}
		parts = append(parts, "split "+strings.Join(s, ","))
	}
	if len(rt.Shadow) > 0 {
		parts = append(parts, "shadow "+strings.Join(rt.Shadow, ","))
	}
	if rt.Key != "" {
		parts = append(parts, "sticky by "+rt.Key)
	}
	return strings.Join(parts, "; ")
}

// Plan is what a server of one name should serve, read from the name's
// record alone (one store read), with every label resolved to a version.
type Plan struct {
	Name       string `json:"name"`
	Production string `json:"production"`
	// Split holds resolved versions (Target) and weights; empty means all
	// traffic goes to Production. Label holds the target as the route
	// gave it ("@production", "@challenger", or the version), a bounded
	// value servers use as the variant's name.
	Split  []PlanShare `json:"split,omitempty"`
	Shadow []string    `json:"shadow,omitempty"`
	Key    string      `json:"key,omitempty"`
}

// PlanShare is a resolved share of a split.
type PlanShare struct {
	Label   string `json:"label"`
	Version string `json:"version"`
	Weight  int    `json:"weight"`
}

// Versions returns every version p needs loaded, production first, each
// once.
func (p *Plan) Versions() []string {
	out := []string{p.Production}
	for _, s := range p.Split {
		if !slices.Contains(out, s.Version) {
			out = append(out, s.Version)
		}
	}
	for _, v := range p.Shadow {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Plan returns the serving plan of name: its production version and its
// route with labels resolved. It reads one record, so a server may poll
// it often. With nothing in production it returns an error wrapping
// ErrNoProduction. A label of the route that no longer resolves (an alias
// removed since) drops its share, and a split left with no weight falls
// back to production.
func (r *Registry) Plan(ctx context.Context, name string) (*Plan, error) {
	nr, err := r.nameRecord(ctx, name)
	if err != nil {
		return nil, err
	}
	if nr.Production.Version == "" {
		return nil, fmt.Errorf("registry: %s@production: %w", name, ErrNoProduction)
	}
	p := &Plan{Name: name, Production: nr.Production.Version, Key: nr.Route.Key}
	total := 0
	for _, sh := range nr.Route.Split {
		if v := nr.labelVersion(sh.Target); v != "" && sh.Weight > 0 {
			p.Split = append(p.Split, PlanShare{Label: sh.Target, Version: v, Weight: sh.Weight})
			total += sh.Weight
		}
	}
	if total == 0 {
		p.Split = nil
	}
	// A label can come to name a version that serves (a shadowed
	// challenger promoted to production): shadowing it would send each
	// request to one model twice.
	serving := nr.servingVersions(nr.Route.Split)
	for _, s := range nr.Route.Shadow {
		if v := nr.labelVersion(s); v != "" && !slices.Contains(serving, v) && !slices.Contains(p.Shadow, v) {
			p.Shadow = append(p.Shadow, v)
		}
	}
	return p, nil
}

// servingVersions returns the versions split sends traffic to as nr's
// labels stand now; production's alone when no share has weight.
func (nr *nameRecord) servingVersions(split []Share) []string {
	var out []string
	for _, sh := range split {
		if v := nr.labelVersion(sh.Target); v != "" && sh.Weight > 0 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = append(out, nr.Production.Version)
	}
	return out
}

// labelVersion resolves a stored route target: "@LABEL" through the
// record's stages and aliases, a version as itself.
func (nr *nameRecord) labelVersion(t string) string {
	l, ok := strings.CutPrefix(t, "@")
	if !ok {
		return t
	}
	switch Stage(l) {
	case Production:
		return nr.Production.Version
	case Staging:
		return nr.Staging.Version
	}
	return nr.Aliases[l].Version
}

// RouteOf returns the stored route of name (targets as stored).
func (r *Registry) RouteOf(ctx context.Context, name string) (Route, error) {
	nr, err := r.nameRecord(ctx, name)
	if err != nil {
		return Route{}, err
	}
	return nr.Route, nil
}
