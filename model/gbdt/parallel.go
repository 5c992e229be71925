package gbdt

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tabforge/tabforge/internal/par"
)

// runWorkers runs fn(w) for w in [0, workers) on separate goroutines (one
// call when workers <= 1) and waits for them; workers that need their own
// scratch buffers use it with an atomicCounter handing out tasks.
func runWorkers(workers int, fn func(w int)) {
	if workers <= 1 {
		fn(0)
		return
	}
	var wg par.Group // a panic in fn reaches the caller's goroutine
	for w := range workers {
		wg.Go(func() { fn(w) })
	}
	wg.Wait()
}

// atomicCounter hands out task indices 0, 1, 2, ... to concurrent workers.
type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1) - 1) }

// blocks splits [0, n) into consecutive blocks of at most size elements;
// block b is [b*size, min((b+1)*size, n)).
func blocks(n, size int) int { return (n + size - 1) / size }

// ctxErr records the first context error seen by parallel tasks, so they
// can stop early and the caller can report it after the tasks return.
type ctxErr struct {
	failed atomic.Bool
	once   sync.Once
	e      error
}

// check reports whether the work should stop, recording ctx's error.
func (c *ctxErr) check(ctx context.Context) bool {
	if c.failed.Load() {
		return true
	}
	if err := ctx.Err(); err != nil {
		c.once.Do(func() { c.e = err })
		c.failed.Store(true)
		return true
	}
	return false
}

// err returns the recorded error; call it after the tasks are done.
func (c *ctxErr) err() error {
	if c.failed.Load() {
		return c.e
	}
	return nil
}
