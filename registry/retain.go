package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/store"
)

// ErrProtected reports a version that may not be removed: it holds a
// stage or an alias, or a rollback would return to it.
var ErrProtected = errors.New("model version is in use")

// Protected returns the versions that housekeeping must keep, each with
// why: the holders of production and staging ("NAME@production"), the
// versions a rollback would return to ("NAME@production~2"), the
// targets of aliases ("NAME@champion") and the versions a route names
// ("NAME route"), which a server would otherwise fail to load.
func (r *Registry) Protected(ctx context.Context) (map[string]string, error) {
	st, err := r.stages(ctx, false) // names alone say what is protected
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	keep := func(version, why string) {
		if version != "" && out[version] == "" {
			out[version] = why
		}
	}
	for name, nr := range st.names {
		keep(nr.Production.Version, name+"@"+string(Production))
		keep(nr.Staging.Version, name+"@"+string(Staging))
		for i, v := range nr.Production.Previous {
			keep(v, fmt.Sprintf("%s@%s~%d", name, Production, i+1))
		}
		aliases := make([]string, 0, len(nr.Aliases))
		for a := range nr.Aliases {
			aliases = append(aliases, a)
		}
		slices.Sort(aliases)
		for _, a := range aliases {
			keep(nr.Aliases[a].Version, name+"@"+a)
		}
		targets := slices.Clone(nr.Route.Shadow)
		for _, sh := range nr.Route.Split {
			targets = append(targets, sh.Target)
		}
		for _, t := range targets {
			if !strings.HasPrefix(t, "@") { // a label is protected by its holder
				keep(t, name+" route")
			}
		}
	}
	return out, nil
}

// Delete removes version's record and its index entry (not its
// artifact, which the caller owns). A protected version is refused with an error wrapping
// ErrProtected that names its use; a missing one is not an error. A
// version promoted or aliased by another process while Delete runs is
// put back and refused the same way, so a caller that removes the
// artifact only after Delete succeeded never strands a version in use.
func (r *Registry) Delete(ctx context.Context, version string) error {
	protected, err := r.Protected(ctx)
	if err != nil {
		return err
	}
	if why, ok := protected[version]; ok {
		return fmt.Errorf("registry: version %s: %w (%s)", version, ErrProtected, why)
	}
	rec, err := r.rec.GetRecord(ctx, KindModel, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("registry: delete %s: %w", version, err)
	}
	// The index entry goes first: cut short after it, the model record
	// is left unindexed, which Migrate indexes again, not an entry for a
	// version that is gone. A record that no longer decodes is removed
	// all the same (its entry, if any, is passed over by Versions).
	m, derr := decodeModel(rec)
	if derr == nil {
		if err := r.rec.DeleteRecord(ctx, KindVersions, versionKey(m)); err != nil {
			return fmt.Errorf("registry: delete %s from the version index: %w", version, err)
		}
	}
	if err := r.rec.DeleteRecord(ctx, KindModel, version); err != nil {
		return fmt.Errorf("registry: delete %s: %w", version, err)
	}
	if derr != nil {
		return nil
	}
	// The check above and the delete are two steps; a promotion can fall
	// between them. Look again, and undo the delete if it did.
	if protected, err = r.Protected(ctx); err != nil {
		return err
	}
	if why, ok := protected[version]; ok {
		if _, err := r.rec.SwapRecord(ctx, KindModel, version, nil, rec.Value); err != nil {
			return fmt.Errorf("registry: version %s became %s while being deleted, and could not be put back: %w", version, why, err)
		}
		if err := r.indexVersion(ctx, m); err != nil {
			return fmt.Errorf("registry: version %s became %s while being deleted, and was put back but not its index entry: %w", version, why, err)
		}
		return fmt.Errorf("registry: version %s: %w (%s, since the delete began)", version, ErrProtected, why)
	}
	return nil
}
