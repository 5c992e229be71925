package frame

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestParquetBlocksHoldOneBlock: reading a file of one large row group in
// small blocks keeps far less memory live than the file's values.
func TestParquetBlocksHoldOneBlock(t *testing.T) {
	const n = 400_000
	path := incompressibleFile(t, n, 3)
	whole := uint64(n * 3 * 8)
	runtime.GC()
	runtime.GC() // the writer's pooled buffers go at the second
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := OpenParquetBlocks(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for range 50 {
		if _, err := b.Next(4096); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&during)
	live := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	if live > int64(whole/3) {
		t.Errorf("after 50 blocks of 4096 rows, %d bytes more are live; the file's values are %d", live, whole)
	}
}

// incompressibleFile writes a Parquet file of one row group of n rows of
// cols random numbers, whose pages are as large as their values.
func incompressibleFile(t *testing.T, n, cols int) string {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]*Column, cols)
	for j := range out {
		x := make([]float64, n)
		for i := range x {
			x[i] = r.Float64()
		}
		out[j] = NewNumeric(string(rune('a'+j)), x)
	}
	return writeGroups(t, MustNew(out...), 1<<20)
}
