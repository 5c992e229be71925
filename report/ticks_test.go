package report

import (
	"context"
	"math"
	"testing"
)

func TestTicks(t *testing.T) {
	ulp := math.Nextafter(2.25, 0)
	tests := []struct {
		name   string
		lo, hi float64
		n      int
		want   []float64
	}{
		{"round range", 0, 10, 5, []float64{0, 2, 4, 6, 8, 10}},
		{"negative to positive", -1, 1, 4, []float64{-1, -0.5, 0, 0.5, 1}},
		{"one ULP apart", ulp, 2.25, 6, []float64{ulp}},
		{"empty range", 3, 3, 5, []float64{3}},
		{"infinite range", math.Inf(-1), math.Inf(1), 5, []float64{math.Inf(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ticks(tt.lo, tt.hi, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("ticks(%v, %v, %d) = %v; want %v", tt.lo, tt.hi, tt.n, got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-12 {
					t.Fatalf("ticks(%v, %v, %d) = %v; want %v", tt.lo, tt.hi, tt.n, got, tt.want)
				}
			}
		})
	}
}

// TestWriteNearlyConstantPredictions: a run on three rows predicted
// 2.25 and 2.2499999999999996 (one ULP apart) wrote its report's axis
// ticks forever, filling memory until the kernel killed train.
func TestWriteNearlyConstantPredictions(t *testing.T) {
	ulp := math.Nextafter(2.25, 0)
	d := &Data{RunID: "r1", Task: "regression", Target: "y", Metric: "r2", TestRows: 2,
		Test: Predictions{Y: []float64{ulp, 2.25}, Pred: []float64{2.25, ulp}}}
	if _, err := Write(context.Background(), t.TempDir(), d); err != nil {
		t.Fatal(err)
	}
}
