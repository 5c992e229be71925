package tree

import (
	"math/bits"
	"slices"
)

// sortKeys sorts keys, each (code<<32 | row) with codes in [lo, lo+span],
// by code and returns the sorted slice, which is keys or tmp (same
// length). It picks, by a simple cost model, either pdqsort or an LSD
// radix sort on the code bits above lo in 1 to 4 passes of at most 11-bit
// digits. Rows with equal codes end up in a deterministic order either
// way.
func sortKeys(keys, tmp []uint64, lo, span uint32) []uint64 {
	n := len(keys)
	nb := bits.Len32(span)
	// pdqsort costs about n·log2(n) comparisons-and-moves; a radix pass
	// about 2n moves plus 2·2^digit counter updates.
	best, bestCost := 0, n*bits.Len(uint(n))*3/2
	for p := 1; p <= 4; p++ {
		d := (nb + p - 1) / p
		if d > 11 {
			continue
		}
		if c := p * (2*n + 2<<d); c < bestCost {
			best, bestCost = p, c
		}
	}
	if best == 0 {
		slices.Sort(keys)
		return keys
	}
	passes := best
	digit := (nb + passes - 1) / passes
	var count [1 << 11]int
	mask := uint64(1)<<digit - 1
	base := uint64(lo) << 32
	src, dst := keys, tmp
	for p := range passes {
		shift := 32 + uint(p*digit)
		c := count[:1<<digit]
		clear(c)
		for _, k := range src {
			c[((k-base)>>shift)&mask]++
		}
		sum := 0
		for i, v := range c {
			c[i] = sum
			sum += v
		}
		for _, k := range src {
			d := ((k - base) >> shift) & mask
			dst[c[d]] = k
			c[d]++
		}
		src, dst = dst, src
	}
	return src
}
