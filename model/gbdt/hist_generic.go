//go:build !amd64 || purego

package gbdt

func hist4(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 []uint8, rows []int32, gh []rowGrad) {
	hist4Generic(h0, h1, h2, h3, c0, c1, c2, c3, rows, gh)
}

func hist4Dense(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 []uint8, gh []rowGrad) {
	hist4DenseGeneric(h0, h1, h2, h3, c0, c1, c2, c3, gh)
}

func hist1(h0 *[histStride]histBin, c0 []uint8, rows []int32, gh []rowGrad) {
	hist1Generic(h0, c0, rows, gh)
}

func hist1Dense(h0 *[histStride]histBin, c0 []uint8, gh []rowGrad) {
	hist1DenseGeneric(h0, c0, gh)
}
