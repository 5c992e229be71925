package dist_test

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/dist"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store/sqlite"
)

// A driver sends a training run's CV folds to workers; each worker
// rebuilds the folds from the run record in the shared store.
func Example() {
	ctx := context.Background()
	const queue = "nats://127.0.0.1:4222" // nats-server -js, or dist.Start(0)

	// A worker process (tabforge worker).
	st, err := sqlite.Open(ctx, "/shared/tabforge.db")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	r := &pipeline.UnitRunner{Runs: st}
	w := &dist.Worker{Runner: r, Concurrency: 2}
	r.Fetch = w.Fetch
	go w.Run(ctx, queue)

	// The driver (tabforge train --queue).
	e, err := dist.Dial(ctx, queue, dist.Options{Fallback: pipeline.Local{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	_ = pipeline.Options{Runs: st, Executor: e} // pipeline.Train(ctx, cfg, o)
}
