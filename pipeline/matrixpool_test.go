package pipeline

import "testing"

func TestArrayPool(t *testing.T) {
	var p arrayPool
	for _, n := range []int{0, 1, minPooled - 1} {
		if b := p.get(n); b != nil {
			t.Errorf("get(%d) = an array of capacity %d; want nil (not pooled)", n, cap(b))
		}
	}
	for _, n := range []int{minPooled, minPooled + 1, 730_000, 970_000, 1 << 20} {
		b := p.get(n)
		if cap(b) < n || cap(b)&(cap(b)-1) != 0 {
			t.Fatalf("get(%d) = capacity %d; want a power of two >= %d", n, cap(b), n)
		}
		b[n-1] = 1
		p.put(b[:n])
	}
	p.put(make([]float64, minPooled+3)) // not a class size: dropped
	if b := p.get(minPooled + 2); cap(b) != 2*minPooled {
		t.Errorf("get(%d) after putting an odd capacity = capacity %d; want %d", minPooled+2, cap(b), 2*minPooled)
	}
}
