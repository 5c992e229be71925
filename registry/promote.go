package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// PromoteOptions qualify a promotion; the zero value is a plain one.
type PromoteOptions struct {
	// Force allows a non-deployable model (failed quality gates) into
	// production.
	Force bool
	// Reason is kept in the history.
	Reason string
	// Check, when set, vets a version before it enters production or
	// staging (Promote, Rollback); an error refuses the change. Callers
	// pass one that loads the version's artifact (pipeline.CheckLoads),
	// so that a corrupt or missing one is refused here, not found by
	// every server.
	Check func(context.Context, *Model) error
	// Expect, when set, makes Promote to production conditional on
	// Expect still being the production version, so that a decision made
	// against a champion (retrain) does not undo a promotion made
	// meanwhile; otherwise it fails with ErrProductionChanged. The test
	// and the write are a read-modify-write of the name's record, not an
	// atomic compare-and-swap: it closes the minutes a retrain takes, not
	// the milliseconds of the write.
	Expect string
}

// ErrCheckFailed reports a version that PromoteOptions.Check refused.
var ErrCheckFailed = errors.New("failed the promotion check")

// ErrProductionChanged reports a production change refused because the
// production version is no longer the one the caller decided against
// (PromoteOptions.Expect).
var ErrProductionChanged = errors.New("production changed meanwhile")

// check runs o.Check on m about to enter stage (production or staging).
func (o PromoteOptions) check(ctx context.Context, m *Model, stage Stage) error {
	if o.Check == nil || (stage != Production && stage != Staging) {
		return nil
	}
	if err := o.Check(ctx, m); err != nil {
		return fmt.Errorf("registry: %s not moved to %s: %w: %w", m.Version, stage, ErrCheckFailed, err)
	}
	return nil
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// Promote moves the version ref resolves to (see Resolve) to stage within
// its name; other names are never touched:
//
//   - production: the version replaces its name's production version,
//     which is pushed on the name's rollback stack (and leaves staging if
//     it was there). A model that is not deployable needs o.Force.
//   - staging: the version replaces its name's staging version. The
//     production version cannot be staged; promote another one or roll
//     back first.
//   - archived: the version leaves staging. The production version cannot
//     be archived directly.
//
// Promoting a version to the stage it holds changes nothing and returns
// a nil event. The change takes effect with the name record's write; the
// history event is written after it.
func (r *Registry) Promote(ctx context.Context, ref string, stage Stage, o PromoteOptions) (*Event, error) {
	start := time.Now()
	if _, err := ParseStage(string(stage)); err != nil {
		return nil, err
	}
	m, err := r.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	// The check may load an artifact, which takes a while: it runs before
	// the name's record is read, so that its read-modify-write stays
	// short. It runs even when nothing would change: a broken production
	// version is news.
	if err := o.check(ctx, m, stage); err != nil {
		return nil, err
	}
	if _, err := r.ensureName(ctx, m.Name); err != nil {
		return nil, err
	}
	e := &Event{Name: m.Name, Action: "promote", Version: m.Version, Stage: stage, Forced: o.Force && !m.Deployable && stage == Production, Reason: o.Reason}
	_, err = r.updateName(ctx, m.Name, func(nr *nameRecord) error {
		var err error
		e.Replaced, err = r.move(nr, m, stage, o)
		return err
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

// move puts m into stage in its name's record nr and returns the version
// that held the stage before ("" for none); errUnchanged if m holds it
// already.
func (r *Registry) move(nr *nameRecord, m *Model, stage Stage, o PromoteOptions) (replaced string, err error) {
	prod, stg := nr.Production, nr.Staging
	switch stage {
	case Production:
		if prod.Version == m.Version {
			return "", errUnchanged
		}
		if o.Expect != "" && prod.Version != o.Expect {
			return "", fmt.Errorf("registry: %s to production: %w (%s's production is %s, not %s)", m.Version, ErrProductionChanged, m.Name, orNone(prod.Version), o.Expect)
		}
		if !m.Deployable && !o.Force {
			return "", &NotDeployableError{Name: m.Name, Version: m.Version}
		}
		next := slot{Version: m.Version, Since: r.now().UTC()}
		if prod.Version != "" {
			next.Previous = append([]string{prod.Version}, prod.Previous...)
			next.Previous = next.Previous[:min(len(next.Previous), maxPrevious)]
		}
		nr.Production = next
		if stg.Version == m.Version {
			nr.Staging = slot{}
		}
		return prod.Version, nil
	case Staging:
		if prod.Version == m.Version {
			return "", fmt.Errorf("registry: promote %s to staging: it is %s's %w", m.Version, m.Name, ErrInProduction)
		}
		if stg.Version == m.Version {
			return "", errUnchanged
		}
		nr.Staging = slot{Version: m.Version, Since: r.now().UTC()}
		return stg.Version, nil
	default: // Archived
		if prod.Version == m.Version {
			return "", fmt.Errorf("registry: archive %s: it is %s's %w", m.Version, m.Name, ErrInProduction)
		}
		if stg.Version != m.Version && m.Stage == Archived {
			return "", errUnchanged
		}
		if stg.Version == m.Version {
			nr.Staging = slot{}
		}
		return "", nil
	}
}

// Rollback puts the previous production version of name back into
// production and returns the event. Without o.Check it costs one read
// and two record writes (the name's record, which is what takes effect, then the history
// event), whatever the registry's size. With no previous version it
// returns an error wrapping ErrNoPrevious. Rollbacks of one name made at
// once by several processes each pop one version, in turn; with o.Check,
// the rollback is refused (ErrProductionChanged) if production moved
// while the version it returns to was checked.
func (r *Registry) Rollback(ctx context.Context, name string, o PromoteOptions) (*Event, error) {
	start := time.Now()
	var checked slot
	if o.Check != nil {
		nr, err := r.nameRecord(ctx, name)
		if err != nil {
			return nil, err
		}
		checked = nr.Production
		if err := rollbackable(name, checked); err != nil {
			return nil, err
		}
		m, err := r.get(ctx, checked.Previous[0])
		if err != nil {
			return nil, fmt.Errorf("registry: rollback %s to %s: %w", name, checked.Previous[0], err)
		}
		if err := o.Check(ctx, m); err != nil {
			return nil, fmt.Errorf("registry: rollback %s: %s not restored: %w: %w", name, m.Version, ErrCheckFailed, err)
		}
	}
	e := &Event{Name: name, Action: "rollback", Stage: Production, Reason: o.Reason}
	_, err := r.updateName(ctx, name, func(nr *nameRecord) error {
		prod := nr.Production
		if err := rollbackable(name, prod); err != nil {
			return err
		}
		// The check took a while: roll back only what was checked.
		if o.Check != nil && (prod.Version != checked.Version || prod.Previous[0] != checked.Previous[0]) {
			return fmt.Errorf("registry: rollback %s: %w while %s was checked", name, ErrProductionChanged, checked.Previous[0])
		}
		nr.Production = slot{Version: prod.Previous[0], Since: r.now().UTC(), Previous: prod.Previous[1:]}
		e.Version, e.Replaced = prod.Previous[0], prod.Version
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.Seconds = time.Since(start).Seconds()
	return e, r.putEvent(ctx, e)
}

// rollbackable reports whether a production slot has a version to roll
// back to.
func rollbackable(name string, prod slot) error {
	if prod.Version == "" {
		return fmt.Errorf("registry: rollback %s: %w", name, ErrNoProduction)
	}
	if len(prod.Previous) == 0 {
		return fmt.Errorf("registry: rollback %s from %s: %w", name, prod.Version, ErrNoPrevious)
	}
	return nil
}

// History returns changes of stage and alias, oldest first: all of them
// for an empty ref, those of a name for a registered name, else those of
// the version ref resolves to (see Resolve). It reads the whole history;
// HistoryWith reads the newest part.
func (r *Registry) History(ctx context.Context, ref string) ([]Event, error) {
	return r.HistoryWith(ctx, ref, HistoryQuery{})
}

// stageSet is every name's record and, where read, its Summary, from
// which each model's stage is derived.
type stageSet struct {
	names     map[string]*nameRecord
	summaries map[string]*Summary
}

func (s stageSet) derive(m *Model) {
	m.Stage, m.Aliases = None, nil
	nr := s.names[m.Name]
	switch {
	case nr != nil && m.Version == nr.Production.Version:
		m.Stage = Production
	case nr != nil && m.Version == nr.Staging.Version:
		m.Stage = Staging
	case nr != nil && slices.Contains(nr.Production.Previous, m.Version),
		s.summaries[m.Name] != nil && s.summaries[m.Name].WasStaged(m.Version):
		m.Stage = Archived
	}
	if nr != nil {
		for _, a := range slices.Sorted(maps.Keys(nr.Aliases)) {
			if nr.Aliases[a].Version == m.Version {
				m.Aliases = append(m.Aliases, a)
			}
		}
	}
}

// stages reads every name's record and, with summaries, every name's
// Summary, for the versions that held a stage: one record per name,
// never the history, which grows by an event with every promotion,
// rollback and alias change (a year of hot swaps every five minutes is
// 100,000 events, a second and 150 MB to read).
func (r *Registry) stages(ctx context.Context, summaries bool) (stageSet, error) {
	recs, err := r.rec.ListRecords(ctx, KindName, "")
	if err != nil {
		return stageSet{}, fmt.Errorf("registry: list names: %w", err)
	}
	s := stageSet{names: map[string]*nameRecord{}, summaries: map[string]*Summary{}}
	for _, rec := range recs {
		nr, err := decodeName(rec)
		if err != nil {
			return stageSet{}, err
		}
		s.names[nr.Name] = nr
	}
	if !summaries {
		return s, nil
	}
	if recs, err = r.rec.ListRecords(ctx, KindSummary, ""); err != nil {
		return stageSet{}, fmt.Errorf("registry: list summaries: %w", err)
	}
	for _, rec := range recs {
		if s.summaries[rec.Key], err = decodeSummary(rec); err != nil {
			return stageSet{}, err
		}
	}
	return s, nil
}

// derive sets m's stage and aliases from the current records. A version
// in a stage or on its name's rollback stack (every version a server
// loads for production) is placed by the name's record alone; another
// one needs its name's Summary too.
func (r *Registry) derive(ctx context.Context, m *Model) error {
	st, err := r.stages(ctx, false)
	if err != nil {
		return err
	}
	if nr := st.names[m.Name]; nr == nil || (m.Version != nr.Production.Version && m.Version != nr.Staging.Version &&
		!slices.Contains(nr.Production.Previous, m.Version)) {
		if st.summaries[m.Name], err = r.Summary(ctx, m.Name); err != nil {
			return err
		}
	}
	st.derive(m)
	return nil
}

// putEvent appends e to the history, then brings its name's Summary up
// to date. Keys sort by time (zero-padded Unix nanoseconds), then
// version, stage or alias, and action, so two processes writing in the
// same nanosecond do not overwrite each other's events. A process
// killed between the two writes leaves the summary without e; a version
// it leaves out is entered by the event that moves it out of its stage
// next (as that event's Replaced), and a retrain decision it leaves out
// is left out of the champion's age.
func (r *Registry) putEvent(ctx context.Context, e *Event) error {
	e.Time = r.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("registry: encode event: %w", err)
	}
	label := string(e.Stage)
	if e.Alias != "" {
		label = "@" + e.Alias
	}
	key := fmt.Sprintf("%020d/%s/%s/%s", e.Time.UnixNano(), e.Version, label, e.Action)
	if err := r.putRecord(ctx, KindEvent, key, b); err != nil {
		return fmt.Errorf("registry: %s %s of %s took effect but its history event was not saved: %w", e.Action, e.Version, e.Name, err)
	}
	if err := r.updateSummary(ctx, e.Name, func(s *Summary) bool { return s.apply(*e) }); err != nil {
		return fmt.Errorf("registry: %s %s of %s took effect but its summary was not updated: %w", e.Action, e.Version, e.Name, err)
	}
	return nil
}

// NotDeployableError is Promote's refusal to put a version that failed
// its quality gates into production without PromoteOptions.Force. It
// wraps ErrNotDeployable. Its message names the option; a client with
// its own way to force (a flag, a checkbox) names that instead, from
// the fields.
type NotDeployableError struct {
	Name, Version string
}

func (e *NotDeployableError) Error() string {
	return fmt.Sprintf("registry: promote %s (%s) to production: %v; PromoteOptions.Force promotes it anyway", e.Version, e.Name, ErrNotDeployable)
}

func (e *NotDeployableError) Unwrap() error { return ErrNotDeployable }
