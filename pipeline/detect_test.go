package pipeline

import (
	"math"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

func TestDetectTaskNumeric(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		y    []float64
		want model.Task
	}{
		{"0/1 flag", []float64{0, 1, 1, 0, nan, 1}, model.Binary},
		{"1/2 codes", []float64{2, 1, 2}, model.Binary},
		{"three values", []float64{0, 1, 2}, model.Regression},
		{"two fractional values", []float64{0.5, 1.5, 0.5}, model.Regression},
		{"one value", []float64{1, 1, nan}, model.Regression},
		{"prices", []float64{100.5, 230, 99}, model.Regression},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &frame.Column{Name: "y", Kind: frame.Numeric, Num: tc.y}
			got, err := detectTask(c, "auto")
			if err != nil || got != tc.want {
				t.Errorf("detectTask = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
