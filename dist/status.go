package dist

import (
	"context"
	"fmt"
	"sort"
)

// Status is a queue's state as JetStream and the worker heartbeats tell
// it, for tabforge workers.
type Status struct {
	// Workers are the workers whose heartbeat is current, by id.
	Workers []Heartbeat `json:"workers"`
	// Queued is the number of units in the stream no worker took yet
	// (the consumer's pending count).
	Queued uint64 `json:"queued"`
	// InFlight is the number of units delivered and not yet acked.
	InFlight int `json:"in_flight"`
	// Redelivered is the number of in-flight units delivered more than
	// once (their first worker died or gave them back).
	Redelivered int `json:"redelivered"`
	// Stored is the number of messages in the stream, Results the number
	// of unit results in the results bucket.
	Stored  uint64 `json:"stored"`
	Results uint64 `json:"results"`
}

// QueueStatus reads the state of the queue at url.
func QueueStatus(ctx context.Context, url string) (*Status, error) {
	c, err := dial(ctx, url, "tabforge workers")
	if err != nil {
		return nil, err
	}
	defer c.close()
	ws, err := c.alive(ctx)
	if err != nil {
		return nil, fmt.Errorf("dist: workers: %w", err)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].ID < ws[j].ID })
	if ws == nil {
		ws = []Heartbeat{} // no worker is [] in JSON, not null
	}
	ci, err := c.cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dist: consumer info: %w", err)
	}
	si, err := c.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dist: stream info: %w", err)
	}
	rs, err := c.results.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("dist: results: %w", err)
	}
	return &Status{Workers: ws, Queued: ci.NumPending, InFlight: ci.NumAckPending, Redelivered: ci.NumRedelivered,
		Stored: si.State.Msgs, Results: rs.Values()}, nil
}
