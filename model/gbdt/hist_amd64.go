//go:build !purego

package gbdt

// The histogram kernels run the SSE2 loops of hist_amd64.s: each update
// adds a row's gradient pair to its bin as one pair of float64 (one load,
// ADDPD and store instead of two of each), with sums bit-identical to the
// generic kernels'. On 800k rows × 28 features this cut gbdt's fit time by
// about a fifth (BenchmarkTrain1M*). The wrappers do the bounds checks the
// assembly cannot.

func hist4(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 []uint8, rows []int32, gh []rowGrad) {
	if len(rows) == 0 {
		return
	}
	// Rows increase, so the last one bounds every index the kernel reads.
	last := rows[len(rows)-1]
	_, _, _, _, _ = c0[last], c1[last], c2[last], c3[last], gh[len(rows)-1]
	hist4RowsAsm(h0, h1, h2, h3, &c0[0], &c1[0], &c2[0], &c3[0], &rows[0], &gh[0], len(rows))
}

func hist4Dense(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 []uint8, gh []rowGrad) {
	n := len(gh)
	if n == 0 {
		return
	}
	_, _, _, _ = c0[n-1], c1[n-1], c2[n-1], c3[n-1]
	hist4DenseAsm(h0, h1, h2, h3, &c0[0], &c1[0], &c2[0], &c3[0], &gh[0], n)
}

func hist1(h0 *[histStride]histBin, c0 []uint8, rows []int32, gh []rowGrad) {
	if len(rows) == 0 {
		return
	}
	_, _ = c0[rows[len(rows)-1]], gh[len(rows)-1]
	hist1RowsAsm(h0, &c0[0], &rows[0], &gh[0], len(rows))
}

func hist1Dense(h0 *[histStride]histBin, c0 []uint8, gh []rowGrad) {
	n := len(gh)
	if n == 0 {
		return
	}
	_ = c0[n-1]
	hist1DenseAsm(h0, &c0[0], &gh[0], n)
}

//go:noescape
func hist4RowsAsm(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 *uint8, rows *int32, gh *rowGrad, n int)

//go:noescape
func hist4DenseAsm(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 *uint8, gh *rowGrad, n int)

//go:noescape
func hist1RowsAsm(h0 *[histStride]histBin, c0 *uint8, rows *int32, gh *rowGrad, n int)

//go:noescape
func hist1DenseAsm(h0 *[histStride]histBin, c0 *uint8, gh *rowGrad, n int)
