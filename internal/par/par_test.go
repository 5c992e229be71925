package par

import (
	"sync/atomic"
	"testing"
)

// TestTasks checks that every task runs exactly once, for worker counts
// below, at and above the number of tasks, and none for n = 0.
func TestTasks(t *testing.T) {
	for _, tc := range []struct{ workers, n int }{{1, 10}, {2, 10}, {4, 3}, {8, 1000}, {3, 0}, {0, 5}} {
		counts := make([]atomic.Int32, tc.n)
		Tasks(tc.workers, tc.n, func(i int) { counts[i].Add(1) })
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Errorf("workers %d, n %d: task %d ran %d times", tc.workers, tc.n, i, c)
			}
		}
	}
}
