package dist

import (
	"context"
	"fmt"
	"time"

	"github.com/tabforge/tabforge/pipeline"
)

// PingKind is the kind of an empty unit: a worker answers it without
// asking its Runner, so its queueing time is the queue's own overhead.
const PingKind = "ping"

// Ping sends n empty units one at a time, each once the previous one is
// answered (so an idle worker takes it), and returns each one's time from
// publishing to a worker starting it: the per-unit overhead of the queue
// without any work. bench dist reports its median.
func (e *Executor) Ping(ctx context.Context, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		u := pipeline.Unit{Key: fmt.Sprintf("ping/%d/%d", time.Now().UnixNano(), i), Kind: PingKind, Spec: []byte("{}"),
			Run: func(context.Context) ([]byte, error) { return nil, nil }}
		err := e.Execute(ctx, []pipeline.Unit{u}, func(_ int, r pipeline.UnitResult) error {
			out = append(out, r.Queued)
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("dist: ping %d: %w", i+1, err)
		}
	}
	return out, nil
}
