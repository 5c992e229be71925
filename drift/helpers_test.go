package drift

// grid returns n evenly spaced values i/n + shift, sorted.
func grid(n int, shift float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i)/float64(n) + shift
	}
	return v
}
