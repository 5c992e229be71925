package ui

import (
	"math"
	"testing"
	"time"
)

// TestWhen: a time on a page names its zone (the pages showed a bare
// "2026-12-02 09:30:00" that a reader east or west of UTC took for local).
func TestWhen(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC), "2026-12-02 09:30:00 UTC"},
		{time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "2026-12-02 08:30:00 UTC"},
		{time.Time{}, "-"},
	}
	for _, tt := range tests {
		if got := when(tt.in); got != tt.want {
			t.Errorf("when(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestMetricText: four decimals where they say something; significant
// digits for tiny and huge values ('f' 4 printed an RMSE of 3e-05 as
// 0.0000 and a MAPE of 1e15 as sixteen digits and four decimals).
func TestMetricText(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0000"},
		{0.8123456, "0.8123"},
		{-0.25, "-0.2500"},
		{1234.5, "1234.5000"},
		{0.001, "0.0010"},
		{3.14159e-5, "3.142e-05"},
		{-2.5e-7, "-2.5e-07"},
		{1e15, "1e+15"},
		{math.NaN(), "-"},
		{math.Inf(1), "+Inf"},
		{math.Inf(-1), "-Inf"},
	}
	for _, tt := range tests {
		if got := metricText(tt.in); got != tt.want {
			t.Errorf("metricText(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
