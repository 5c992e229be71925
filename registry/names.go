package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/store"
)

// nameRecord is the state of one registered name: who holds its stages,
// where its aliases point. Everything that says which version of a name
// serves lives here, so one write changes it, the traffic route of the
// serving layer (A/B weights, shadow versions; see Route) included.
type nameRecord struct {
	Name       string           `json:"name"`
	Created    time.Time        `json:"created"`
	Production slot             `json:"production,omitzero"`
	Staging    slot             `json:"staging,omitzero"`
	Aliases    map[string]alias `json:"aliases,omitempty"`
	Route      Route            `json:"route,omitzero"`
}

// slot is one stage of a name: who holds it and, for production, the
// versions of the name that held it before, most recent first (what
// Rollback pops).
type slot struct {
	Version  string    `json:"version"`
	Since    time.Time `json:"since"`
	Previous []string  `json:"previous,omitempty"`
}

// alias is where one alias of a name points.
type alias struct {
	Version string    `json:"version"`
	Since   time.Time `json:"since"`
}

// maxPrevious bounds the rollback stack kept in a name's record, so the
// record stays small however many promotions happen.
const maxPrevious = 100

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	aliasRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	hexRE   = regexp.MustCompile(`^[0-9a-f]+$`)
)

// CheckName reports whether name can be a registered model name: 1 to 128
// letters, digits, '.', '_' or '-', starting with a letter or digit (so
// it never holds the '@' and '/' of a model reference).
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("registry: model name %q: want 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Latest is the label of a name's newest version: NAME@latest, as
// MLflow's models:/NAME/latest. It is reserved, not an alias.
const Latest = "latest"

// CheckAlias reports whether a can be an alias: lower-case letters,
// digits, '_' and '-', and neither a stage name nor "latest" nor hex
// digits alone, which read as a version id (prefix) in a route.
func CheckAlias(a string) error {
	if !aliasRE.MatchString(a) {
		return fmt.Errorf("registry: alias %q: want 1-64 lower-case letters, digits, '_' or '-'", a)
	}
	switch Stage(a) {
	case Production, Staging, Archived, None:
		return fmt.Errorf("registry: alias %q is a stage name; promote the version to the stage instead", a)
	}
	if a == Latest {
		return fmt.Errorf("registry: alias %q is reserved: NAME@latest is always the newest version", a)
	}
	if hexRE.MatchString(a) {
		return fmt.Errorf("registry: alias %q holds only hex digits, as a version id does; add a letter beyond a-f", a)
	}
	return nil
}

// NameFromPath derives a model name from a data file path: its stem
// (credit_data for data/credit_data.csv), with characters a name cannot
// hold replaced by '-'. It returns "model" when nothing usable is left.
func NameFromPath(path string) string {
	base := filepath.Base(filepath.ToSlash(path))
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	ext := filepath.Ext(base)
	base = strings.TrimSuffix(base, ext)
	switch strings.ToLower(ext) {
	case ".gz", ".bz2", ".xz", ".zst", ".zip": // data.csv.gz is data
		base = strings.TrimSuffix(base, filepath.Ext(base))
	}
	b := []byte(base)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	name := strings.TrimLeft(string(b), ".-_")
	if len(name) > 128 {
		name = name[:128]
	}
	if CheckName(name) != nil {
		return "model"
	}
	return name
}

// Names returns the registered model names, sorted.
func (r *Registry) Names(ctx context.Context) ([]string, error) {
	recs, err := r.rec.ListRecords(ctx, KindName, "")
	if err != nil {
		return nil, fmt.Errorf("registry: list names: %w", err)
	}
	out := make([]string, 0, len(recs))
	for _, rec := range recs {
		out = append(out, rec.Key)
	}
	return out, nil
}

// Production returns the model a server of name should load: the
// version in production. It reads two records, whatever the size of the
// registry. With nothing in production it returns an error wrapping
// ErrNoProduction; an unknown name wraps ErrUnknownName.
func (r *Registry) Production(ctx context.Context, name string) (*Model, error) {
	return r.Resolve(ctx, name+"@"+string(Production))
}

// SetAlias points alias of name at the version ref resolves to, which
// must belong to name, and returns the event (nil if it already pointed
// there).
func (r *Registry) SetAlias(ctx context.Context, name, a, ref string, o PromoteOptions) (*Event, error) {
	start := time.Now()
	if err := CheckAlias(a); err != nil {
		return nil, err
	}
	if _, err := r.nameRecord(ctx, name); err != nil {
		return nil, err
	}
	m, err := r.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if m.Name != name {
		return nil, fmt.Errorf("registry: alias %s@%s: version %s belongs to %q, not %q", name, a, m.Version, m.Name, name)
	}
	e := &Event{Name: name, Action: "alias", Alias: a, Version: m.Version, Reason: o.Reason}
	_, err = r.updateName(ctx, name, func(nr *nameRecord) error {
		if e.Replaced = nr.Aliases[a].Version; e.Replaced == m.Version {
			return errUnchanged
		}
		if nr.Aliases == nil {
			nr.Aliases = map[string]alias{}
		}
		nr.Aliases[a] = alias{Version: m.Version, Since: r.now().UTC()}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.Seconds = time.Since(start).Seconds()
	return e, r.putEvent(ctx, e)
}

// RemoveAlias removes alias a of name and returns the event; removing an
// alias the name does not have is an error wrapping ErrUnknownAlias.
func (r *Registry) RemoveAlias(ctx context.Context, name, a string, o PromoteOptions) (*Event, error) {
	start := time.Now()
	e := &Event{Name: name, Action: "unalias", Alias: a, Reason: o.Reason}
	_, err := r.updateName(ctx, name, func(nr *nameRecord) error {
		old, ok := nr.Aliases[a]
		if !ok {
			return fmt.Errorf("registry: %s@%s: %w (%s has %s)", name, a, ErrUnknownAlias, name, aliasList(nr))
		}
		e.Version = old.Version
		delete(nr.Aliases, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.Seconds = time.Since(start).Seconds()
	return e, r.putEvent(ctx, e)
}

func aliasList(nr *nameRecord) string {
	if len(nr.Aliases) == 0 {
		return "no aliases"
	}
	return "aliases " + strings.Join(slices.Sorted(maps.Keys(nr.Aliases)), ", ")
}

// Resolve returns the model version ref names, with its stage and
// aliases:
//
//	NAME@production, NAME@staging  the version of NAME holding the stage
//	NAME@ALIAS                     the version ALIAS of NAME points at
//	NAME@latest                    the newest version of NAME
//	NAME/VERSION                   a version of NAME, or a unique prefix of one
//	VERSION                        a version, or a unique prefix (4+ characters)
//
// Errors wrap ErrUnknownName, ErrUnknownAlias, ErrNoProduction,
// ErrNoStaging, ErrAmbiguous or store.ErrNotFound, and name what exists.
// File paths are not model references; pipeline.LoadModel takes both.
func (r *Registry) Resolve(ctx context.Context, ref string) (*Model, error) {
	ref = strings.TrimSpace(ref)
	name, label, found := strings.Cut(ref, "@")
	if found {
		return r.resolveLabel(ctx, name, label)
	}
	if name, v, found := strings.Cut(ref, "/"); found {
		return r.resolveInName(ctx, name, v)
	}
	m, err := r.Get(ctx, ref)
	if errors.Is(err, store.ErrNotFound) && CheckName(ref) == nil {
		_, nerr := r.nameRecord(ctx, ref)
		if nerr == nil {
			return nil, fmt.Errorf("registry: %q is a model name, not a version: say %s@production, %s@ALIAS or %s/VERSION: %w", ref, ref, ref, ref, store.ErrNotFound)
		}
		if errors.Is(nerr, ErrUnknownName) && !hexRE.MatchString(ref) {
			// Not hex digits, ref cannot be a version: most likely a name
			// misspelt, so say which names there are.
			return nil, r.unknownRef(ctx, ref)
		}
	}
	return m, err
}

// unknownRef is the error for a reference that is neither a version nor a
// registered name: it wraps store.ErrNotFound and ErrUnknownName and lists
// the names there are.
func (r *Registry) unknownRef(ctx context.Context, ref string) error {
	names, err := r.Names(ctx)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("registry: %q is neither a model version nor a model name (%s)", ref, DescribeNames(names))
	return r.Missing(&quietError{msg: msg, errs: []error{ErrUnknownName, store.ErrNotFound}}, "names")
}

// quietError is an error whose message already says what the errors it
// wraps would: "... nor a model name (registered names: a, b)" read on
// ": unknown model name: not found".
type quietError struct {
	msg  string
	errs []error
}

func (e *quietError) Error() string   { return e.msg }
func (e *quietError) Unwrap() []error { return e.errs }

// latestPage is how many index entries latest reads at a time.
const latestPage = 8

// latest is name's newest version: the first live one of the version
// index, read a page at a time, however many versions the name has. An
// entry whose version is gone (a delete cut short, a record that no
// longer decodes) is passed over rather than taken for the end.
func (r *Registry) latest(ctx context.Context, name string) (*Model, error) {
	for off := 0; ; off += latestPage {
		ms, more, err := r.Versions(ctx, name, VersionQuery{Offset: off, Limit: latestPage})
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			return ms[0], nil // Versions orders a page newest first
		}
		if !more {
			return nil, fmt.Errorf("registry: %s@latest: %q has no versions: %w", name, name, store.ErrNotFound)
		}
	}
}

func (r *Registry) resolveLabel(ctx context.Context, name, label string) (*Model, error) {
	nr, err := r.nameRecord(ctx, name)
	if err != nil {
		return nil, err
	}
	var v string
	switch Stage(label) {
	case Production:
		if v = nr.Production.Version; v == "" {
			return nil, fmt.Errorf("registry: %s@%s: %w", name, label, ErrNoProduction)
		}
	case Staging:
		if v = nr.Staging.Version; v == "" {
			return nil, fmt.Errorf("registry: %s@%s: %w", name, label, ErrNoStaging)
		}
	case Latest:
		return r.latest(ctx, name)
	case Archived, None:
		// Not a label of one version: wrap ErrUnknownAlias so callers
		// answer as for any other unknown label (404, not 500).
		return nil, fmt.Errorf("registry: %s@%s: %w: several versions may be %s; say %s/VERSION", name, label, ErrUnknownAlias, label, name)
	default:
		a, ok := nr.Aliases[label]
		if !ok {
			return nil, fmt.Errorf("registry: %s@%s: %w (%s has %s; stages are @production and @staging; the newest version is @latest)", name, label, ErrUnknownAlias, name, aliasList(nr))
		}
		v = a.Version
	}
	m, err := r.get(ctx, v)
	if err != nil {
		return nil, err
	}
	return m, r.derive(ctx, m)
}

func (r *Registry) resolveInName(ctx context.Context, name, v string) (*Model, error) {
	if _, err := r.nameRecord(ctx, name); err != nil {
		return nil, err
	}
	if v == "" {
		return nil, fmt.Errorf("registry: %s/: empty model version: %w", name, store.ErrNotFound)
	}
	recs, err := r.rec.ListRecords(ctx, KindModel, v)
	if err != nil {
		return nil, fmt.Errorf("registry: model version %s/%s: %w", name, v, err)
	}
	var match []*Model
	other := ""
	for _, rec := range recs {
		m, err := decodeModel(rec)
		if err != nil {
			return nil, err
		}
		switch {
		case m.Name != name:
			other = m.Name
		case m.Version == v: // an exact version beats the longer ones it prefixes
			return m, r.derive(ctx, m)
		default:
			match = append(match, m)
		}
	}
	switch {
	case len(match) == 1:
		return match[0], r.derive(ctx, match[0])
	case len(match) > 1:
		return nil, fmt.Errorf("registry: model version %s/%s matches %d versions: %w", name, v, len(match), ErrAmbiguous)
	case other != "":
		return nil, fmt.Errorf("registry: model version %s/%s: no such version of %q (it is a version of %q): %w", name, v, name, other, store.ErrNotFound)
	}
	return nil, r.Missing(fmt.Errorf("registry: unknown model version %s/%s: %w", name, v, store.ErrNotFound), "versions")
}

// nameRecord reads the record of name; an unknown name is an error
// wrapping ErrUnknownName that lists the names there are.
func (r *Registry) nameRecord(ctx context.Context, name string) (*nameRecord, error) {
	rec, err := r.rec.GetRecord(ctx, KindName, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, r.unknownName(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read name %q: %w", name, err)
	}
	return decodeName(rec)
}

// unknownName is the error for a name without a record: it wraps
// ErrUnknownName and lists the names there are.
func (r *Registry) unknownName(ctx context.Context, name string) error {
	names, err := r.Names(ctx)
	if err != nil {
		return err
	}
	return r.Missing(fmt.Errorf("registry: %q: %w (%s)", name, ErrUnknownName, DescribeNames(names)), "names")
}

// DescribeNames says which names are registered, for an error about one
// that is not.
func DescribeNames(names []string) string {
	if len(names) == 0 {
		return "no model is registered"
	}
	return "registered names: " + strings.Join(names, ", ")
}

// Missing returns err, which reports something not found, saying as well
// that the store is on its fallback when it is: what was registered on
// the primary is not there, so not finding it proves nothing. what names
// the things not visible ("names", "versions").
func (r *Registry) Missing(err error, what string) error {
	fb := store.OnFallback(r.rec)
	if fb == nil {
		return err
	}
	return fmt.Errorf("%w; %w, so %s registered there are not visible", err, fb, what)
}

// Partial returns an error wrapping a *store.FallbackError while the
// registry's store serves from its fallback, which holds only what was
// registered during the outage; nil otherwise. A listing uses it to say
// it may be incomplete.
func (r *Registry) Partial() error { return store.OnFallback(r.rec) }

func decodeName(rec *store.Record) (*nameRecord, error) {
	var nr nameRecord
	if err := json.Unmarshal(rec.Value, &nr); err != nil {
		return nil, fmt.Errorf("registry: name record %s: %w", rec.Key, err)
	}
	nr.Name = rec.Key
	return &nr, nil
}
