// Package par owns the one parallel loop the packages share: tasks
// handed out in index order to a fixed number of goroutines.
package par

import (
	"sync"
	"sync/atomic"
)

// Tasks calls fn(t) for t in [0, n) on up to workers goroutines and
// returns when all calls are done. Tasks are handed out in index order;
// callers keep results deterministic by having each task write only its
// own outputs. With workers <= 1 (or n <= 1) it runs them in order on
// the calling goroutine.
func Tasks(workers, n int, fn func(t int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for t := range n {
			fn(t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := int(next.Add(1) - 1); t < n; t = int(next.Add(1) - 1) {
				fn(t)
			}
		})
	}
	wg.Wait()
}
