package store

import (
	"context"
	"errors"
	"fmt"
)

// A RunCreator is a store that writes a run only where there is none,
// atomically: what a copy of a run from elsewhere (the failover store's
// replay once Redis lost its data) needs, so that a run another process
// has written meanwhile is kept.
type RunCreator interface {
	// CreateRun writes r if the store has no run with the id r.ID, and
	// reports whether it did; an existing run is left as it is. The test
	// and the write are one atomic step.
	CreateRun(ctx context.Context, r *Run) (bool, error)
}

// CreateRun is s's CreateRun if s is a RunCreator. Otherwise it reads
// the run first, then writes: a narrower window for another writer, not
// none.
func CreateRun(ctx context.Context, s Runs, r *Run) (bool, error) {
	if c, ok := s.(RunCreator); ok {
		return c.CreateRun(ctx, r)
	}
	exists, err := hasRun(ctx, s, r.ID)
	if err != nil || exists {
		return false, err
	}
	if err := s.PutRun(ctx, r); err != nil {
		return false, err
	}
	return true, nil
}

// hasRun reports whether s has a run of exactly the id id. GetRun takes
// a prefix: the run it finds may be another, and runs whose ids id
// prefixes may make it ambiguous, when only a list of every run tells.
func hasRun(ctx context.Context, s Runs, id string) (bool, error) {
	cur, err := s.GetRun(ctx, id)
	switch {
	case err == nil:
		if cur.ID == id {
			return true, nil
		}
	case errors.Is(err, ErrNotFound):
		return false, nil
	case !errors.Is(err, ErrAmbiguous):
		return false, fmt.Errorf("create run %s: %w", id, err)
	}
	all, err := s.ListRuns(ctx, 0)
	if err != nil {
		return false, fmt.Errorf("create run %s: %w", id, err)
	}
	for _, r := range all {
		if r.ID == id {
			return true, nil
		}
	}
	return false, nil
}
