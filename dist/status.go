package dist

import (
	"context"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
)

// Status is a queue's state as JetStream and the worker heartbeats tell
// it, for tabforge workers.
type Status struct {
	// Workers are the workers whose heartbeat is current, by id.
	Workers []Heartbeat `json:"workers"`
	// Queued is the number of units no worker took yet (the pending
	// counts of the shared consumer and of every build's).
	Queued uint64 `json:"queued"`
	// InFlight is the number of units delivered and not yet acked.
	InFlight int `json:"in_flight"`
	// Redelivered is the number of in-flight units delivered more than
	// once (their first worker died or gave them back).
	Redelivered int `json:"redelivered"`
	// Stored is the number of messages in the streams, Results the number
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
	st := &Status{Workers: ws}
	if err := st.addConsumers(ctx, c); err != nil {
		return nil, err
	}
	for _, s := range []jetstream.Stream{c.stream, c.builds} {
		si, err := s.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("dist: stream info: %w", err)
		}
		st.Stored += si.State.Msgs
	}
	rs, err := c.results.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("dist: results: %w", err)
	}
	st.Results = rs.Values()
	return st, nil
}

// addConsumers adds the counts of the shared consumer and of every
// build's consumer to st.
func (st *Status) addConsumers(ctx context.Context, c *conn) error {
	infos := []*jetstream.ConsumerInfo{}
	ci, err := c.cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("dist: consumer info: %w", err)
	}
	infos = append(infos, ci)
	list := c.builds.ListConsumers(ctx)
	for ci := range list.Info() {
		infos = append(infos, ci)
	}
	if err := list.Err(); err != nil {
		return fmt.Errorf("dist: consumers of %s: %w", BuildsStream, err)
	}
	for _, ci := range infos {
		st.Queued += ci.NumPending
		st.InFlight += ci.NumAckPending
		st.Redelivered += ci.NumRedelivered
	}
	return nil
}
