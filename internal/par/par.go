// Package par owns the parallel loops the packages share: tasks handed
// out in index order to a fixed number of goroutines, and a group of
// goroutines whose panics reach the goroutine that waits for them.
package par

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Tasks calls fn(t) for t in [0, n) on up to workers goroutines and
// returns when all calls are done. Tasks are handed out in index order;
// callers keep results deterministic by having each task write only its
// own outputs. With workers <= 1 (or n <= 1) it runs them in order on
// the calling goroutine. A panic in fn is re-raised on the calling
// goroutine as a *Panic once the other workers are done (see Group).
func Tasks(workers, n int, fn func(t int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for t := range n {
			fn(t)
		}
		return
	}
	var next atomic.Int64
	var g Group
	for range workers {
		g.Go(func() {
			for t := int(next.Add(1) - 1); t < n; t = int(next.Add(1) - 1) {
				fn(t)
			}
		})
	}
	g.Wait()
}

// A Panic is a panic recovered on a worker goroutine: its value and the
// worker's stack, which the goroutine it is re-raised on (or returned
// to, as an error) no longer has.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string {
	return fmt.Sprintf("panic in a worker goroutine: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic's value when it is an error.
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

func newPanic(v any) *Panic {
	if p, ok := v.(*Panic); ok {
		return p // re-raised from a nested pool: its stack is the one that tells
	}
	return &Panic{Value: v, Stack: debug.Stack()}
}

// Recover, deferred on a worker goroutine whose function returns an
// error (an errgroup's), turns the goroutine's panic into a *Panic in
// *err. Unrecovered, a panic on a goroutine a library started ends the
// process, whatever its caller recovers: net/http's recover covers the
// handler's goroutine only.
func Recover(err *error) {
	if v := recover(); v != nil {
		*err = newPanic(v)
	}
}

// A Group runs goroutines and waits for them, like sync.WaitGroup, but a
// panic on one of them is recovered and re-raised by Wait, as a *Panic,
// on the goroutine that waits, where the caller's recover (a server's,
// per request) can catch it. The zero Group is ready to use.
type Group struct {
	wg   sync.WaitGroup
	once sync.Once
	p    *Panic
}

// Go runs fn on a new goroutine.
func (g *Group) Go(fn func()) {
	g.wg.Go(func() {
		defer func() {
			if v := recover(); v != nil {
				p := newPanic(v)
				g.once.Do(func() { g.p = p })
			}
		}()
		fn()
	})
}

// Wait waits for the goroutines Go started, then panics with the first
// *Panic one of them raised, if any.
func (g *Group) Wait() {
	g.wg.Wait()
	if g.p != nil {
		panic(g.p)
	}
}
