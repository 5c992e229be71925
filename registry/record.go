package registry

import (
	"context"
	"errors"
	"time"
)

// ActionRetrain is the action of a retrain decision in the history:
// Version is the challenger, Parent the champion it was retrained from,
// Reason the decision ("promote: ..." or "keep: ...").
const ActionRetrain = "retrain"

// Record appends e, an event that changes no stage or alias (such as a
// retrain decision), to the history of its name, which must exist. It
// sets e's time and returns it.
func (r *Registry) Record(ctx context.Context, e Event) (*Event, error) {
	start := time.Now()
	if e.Stage != "" || e.Alias != "" || e.Replaced != "" {
		return nil, errors.New("registry: record: stage and alias changes go through Promote, Rollback and SetAlias")
	}
	if e.Action == "" {
		return nil, errors.New("registry: record: an event needs an action")
	}
	if _, err := r.nameRecord(ctx, e.Name); err != nil {
		return nil, err
	}
	if e.Version != "" {
		if _, err := r.get(ctx, e.Version); err != nil {
			return nil, err
		}
	}
	e.Seconds = time.Since(start).Seconds()
	return &e, r.putEvent(ctx, &e)
}
