package drift

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

func TestShort(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{3.14159, "3.142"},
		{9999, "9999"},
		{74600, "74.6k"},
		{999949, "999.9k"},
		{9.84e6, "9.84M"}, // txhousing's volume: printed "9.84e+03k"
		{1.2345e8, "123.5M"},
		{2.568e9, "2.568G"},
		{-5.2e6, "-5.2M"},
		{3e13, "3e+13"},
	}
	for _, tt := range tests {
		if got := short(tt.v); got != tt.want {
			t.Errorf("short(%g) = %q; want %q", tt.v, got, tt.want)
		}
	}
}

// TestNumericBinLabelsHaveNoExponent compares txhousing's early rows with
// its late ones: the bins of volume, in the millions of dollars, read as
// millions, not as "9.84e+03k".
func TestNumericBinLabelsHaveNoExponent(t *testing.T) {
	f, err := frame.ReadFile(filepath.Join("..", "testdata", "txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := f.NumRows()
	early, late := make([]int, 0, n/2), make([]int, 0, n-n/2)
	for i := range n {
		if i < n/2 {
			early = append(early, i)
		} else {
			late = append(late, i)
		}
	}
	r, err := Compare(context.Background(), f.Take(early), f.Take(late), Options{Columns: []string{"volume"}})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range r.Columns {
		for _, b := range c.Bins {
			labels = append(labels, b.Label)
		}
	}
	if len(labels) == 0 {
		t.Fatal("no bins for volume")
	}
	for _, l := range labels {
		if strings.Contains(l, "e+") {
			t.Errorf("bin label %q has an exponent (all: %q)", l, labels)
		}
	}
}
