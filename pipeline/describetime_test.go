package pipeline

import (
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestDescribeTimeWholeNumbers: the split line named the first test time
// of a column of Unix seconds as "1.6193088e+09".
func TestDescribeTimeWholeNumbers(t *testing.T) {
	f, err := frame.New(frame.NewNumeric("epoch", []float64{1619222400, 1619308800}), frame.NewNumeric("year", []float64{2020.5, 2021}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ spec, want string }{
		{"epoch", "1619308800"},
		{"epoch,year", "epoch=1619308800 year=2021"},
		{"year", "2021"},
	} {
		if got := describeTime(f, tt.spec, []int{0, 1}, []float64{0, 1}, 1); got != tt.want {
			t.Errorf("describeTime(%q) = %q; want %q", tt.spec, got, tt.want)
		}
	}
}
