package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEveryKth(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)
		}
		return v
	}
	tests := []struct {
		n, keep     int
		wantY       []float64
		wantThinned bool
	}{
		{3, 5, []float64{0, 1, 2}, false},
		{5, 5, []float64{0, 1, 2, 3, 4}, false},
		{9, 5, []float64{0, 2, 4, 6, 8}, true},
		{10, 3, []float64{0, 4, 9}, true},
	}
	for _, tt := range tests {
		x, y := seq(tt.n), seq(tt.n)
		gx, gy, thinned := everyKth(x, y, tt.keep)
		if !slices.Equal(gy, tt.wantY) || !slices.Equal(gx, tt.wantY) || thinned != tt.wantThinned {
			t.Errorf("everyKth(%d points, %d) = %v, %v, %v; want %v for both, %v", tt.n, tt.keep, gx, gy, thinned, tt.wantY, tt.wantThinned)
		}
	}
}

// TestScatterDrawsAtMostMaxPoints: a run with many test rows gets a page
// whose scatters draw maxScatterPoints of them each, and says so.
func TestScatterDrawsAtMostMaxPoints(t *testing.T) {
	n := 3 * maxScatterPoints
	y, pred := make([]float64, n), make([]float64, n)
	for i := range n {
		y[i], pred[i] = float64(i%97), float64(i%89)
	}
	d := &Data{RunID: "r1", Task: "regression", Target: "price", Metric: "r2", TestRows: n, Test: Predictions{Y: y, Pred: pred}}
	dir := t.TempDir()
	if _, err := Write(context.Background(), dir, d); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if got, most := strings.Count(html, "<circle"), 2*maxScatterPoints; got > most {
		t.Errorf("page draws %d points; want at most %d (two scatters)", got, most)
	}
	note := fmt.Sprintf("draws %d of the %d test rows", maxScatterPoints, n)
	if got := strings.Count(html, note); got != 2 {
		t.Errorf("page says %q %d times; want 2 (both scatters)", note, got)
	}
}
