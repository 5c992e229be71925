package pipeline

import (
	"math/bits"
	"sync"
)

// minPooled is the smallest design matrix (values) whose array is
// recycled: a single-row request's matrix is cheaper to allocate.
const minPooled = 1 << 16

// arrayPool recycles the arrays of large design matrices. A 10,000-row
// batch to the ames production ensemble encodes three matrices (about
// 20 MB), a third of what the request allocates; reusing them spares the
// collector that much per request. Arrays are kept by capacity class,
// powers of two, so a request finds one that fits whatever its exact row
// count.
type arrayPool struct {
	classes [64]sync.Pool // class c holds *[]float64 of capacity 2^c
}

// designArrays is the pipeline's one arrayPool. Like encoding/json's
// pool of encoders it is a cache, not state: what it holds never changes
// a result, and sync.Pool drops it when unused.
var designArrays arrayPool

// get returns an array of capacity at least n (contents arbitrary), or nil
// when n is too small to pool.
func (p *arrayPool) get(n int) []float64 {
	if n < minPooled {
		return nil
	}
	c := bits.Len(uint(n - 1))
	if b, ok := p.classes[c].Get().(*[]float64); ok {
		return *b
	}
	return make([]float64, 1<<c)
}

// put hands back an array from get; arrays of other capacities are
// dropped.
func (p *arrayPool) put(b []float64) {
	c := bits.Len(uint(cap(b))) - 1
	if cap(b) < minPooled || cap(b) != 1<<c {
		return
	}
	b = b[:cap(b)]
	p.classes[c].Put(&b)
}
