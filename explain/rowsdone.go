package explain

import (
	"sync"

	"github.com/tabforge/tabforge/progress"
)

// rowsDone counts the rows an explainer has finished, from any of its
// workers, for a progress.Func.
type rowsDone struct {
	mu     sync.Mutex
	f      progress.Func
	method Method
	done   int
	total  int
}

// newRowsDone emits the Step 0 event, so that a caller shows the total
// before the first (possibly slow) row ends.
func newRowsDone(f progress.Func, m Method, total int) *rowsDone {
	d := &rowsDone{f: f, method: m, total: total}
	f.Emit(progress.Event{Stage: progress.ExplainRow, Name: string(m), Total: total})
	return d
}

// add counts one more row. It emits under the lock, so events arrive in
// order, Step 1, 2, ... total, whichever worker finished the row.
func (d *rowsDone) add() {
	if d.f == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done++
	d.f.Emit(progress.Event{Stage: progress.ExplainRow, Name: string(d.method), Step: d.done, Total: d.total})
}
