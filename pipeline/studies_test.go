package pipeline

import (
	"math"
	"testing"
)

// TestFoldValues: a trial's fold scores come back from the running means
// it reported, for a complete trial, a pruned one (its first folds) and
// one that reported nothing.
func TestFoldValues(t *testing.T) {
	tests := []struct {
		name         string
		intermediate map[int]float64
		want         []float64
	}{
		// Folds 0.8, 0.9, 0.7: means 0.8, 0.85, 0.8.
		{"complete", map[int]float64{1: 0.8, 2: 0.85, 3: 0.8}, []float64{0.8, 0.9, 0.7}},
		{"pruned after two folds", map[int]float64{1: 10, 2: 12}, []float64{10, 14}},
		{"nothing reported", nil, nil},
		// A gap leaves the later steps' folds unknown.
		{"gap", map[int]float64{1: 1, 3: 2}, []float64{1}},
	}
	for _, tc := range tests {
		got := FoldValues(tc.intermediate)
		if len(got) != len(tc.want) {
			t.Errorf("%s: FoldValues(%v) = %v; want %v", tc.name, tc.intermediate, got, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("%s: FoldValues(%v) = %v; want %v", tc.name, tc.intermediate, got, tc.want)
				break
			}
		}
	}
}
