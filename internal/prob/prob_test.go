package prob

import (
	"math"
	"testing"
)

func TestSigmoid(t *testing.T) {
	for _, c := range []struct{ z, want float64 }{
		{0, 0.5},
		{math.Log(3), 0.75},
		{-math.Log(3), 0.25},
		{800, 1},
		{-800, 0},
	} {
		if got := Sigmoid(c.z); math.Abs(got-c.want) > 1e-15 || math.IsNaN(got) {
			t.Errorf("Sigmoid(%v) = %v; want %v", c.z, got, c.want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	for _, c := range []struct{ z, want []float64 }{
		{[]float64{0, 0}, []float64{0.5, 0.5}},
		{[]float64{math.Log(1), math.Log(2), math.Log(5)}, []float64{0.125, 0.25, 0.625}},
		{[]float64{1000, 1000 + math.Log(3)}, []float64{0.25, 0.75}}, // no overflow
		{[]float64{-1000, 0}, []float64{0, 1}},
	} {
		got := make([]float64, len(c.z))
		Softmax(got, c.z)
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("Softmax(%v) = %v; want %v", c.z, got, c.want)
				break
			}
		}
		// In place gives the same.
		Softmax(c.z, c.z)
		for i := range got {
			if c.z[i] != got[i] {
				t.Errorf("Softmax in place = %v; want %v", c.z, got)
				break
			}
		}
	}
}
