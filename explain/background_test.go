package explain

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestKMeansBackground checks the summary: at most k centres whose
// weights count every row, each coordinate a value its column takes (so
// codes and indicators stay valid), separated clusters found, and the
// same result for the same seed.
func TestKMeansBackground(t *testing.T) {
	// Three well separated blobs of 100, 50 and 30 rows; column 1 is a
	// 0/1 indicator (0 in the first blob), column 2 partly missing.
	x := model.NewMatrix(180, 3)
	for r := range x.Rows {
		c := 0.0
		switch {
		case r >= 150:
			c = 200
		case r >= 100:
			c = 100
		}
		x.Data[r*3] = c + float64(r%7)
		if c > 0 {
			x.Data[r*3+1] = 1
		}
		x.Data[r*3+2] = c/10 + float64(r%3)
		if r%4 == 0 {
			x.Data[r*3+2] = math.NaN()
		}
	}
	bg, err := KMeansBackground(context.Background(), x, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if bg.X.Rows != 3 || len(bg.Weights) != 3 {
		t.Fatalf("%d centres, %d weights; want 3", bg.X.Rows, len(bg.Weights))
	}
	sizes := map[float64]bool{}
	total := 0.0
	for i, w := range bg.Weights {
		total += w
		sizes[w] = true
		if v := bg.X.At(i, 1); v != 0 && v != 1 {
			t.Errorf("centre %d indicator %v; want 0 or 1", i, v)
		}
		if v := bg.X.At(i, 0); v != math.Trunc(v) {
			t.Errorf("centre %d column 0 = %v: not a value of the column", i, v)
		}
	}
	if total != 180 || !sizes[100] || !sizes[50] || !sizes[30] {
		t.Fatalf("cluster weights %v; want the blob sizes 100, 50, 30", bg.Weights)
	}
	again, err := KMeansBackground(context.Background(), x, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if maxAbsDiff(nanZero(again.X.Data), nanZero(bg.X.Data)) != 0 {
		t.Fatal("KMeansBackground is not deterministic")
	}
	if _, err := KMeansBackground(context.Background(), x, 0, 1); err == nil {
		t.Error("k = 0: no error")
	}
}

// TestKMeansBackgroundCancel: summarising a wide background by k-means
// costs seconds (rows × k × columns per iteration) and must stop on a
// cancelled context with its error rather than run to the end.
func TestKMeansBackgroundCancel(t *testing.T) {
	x := synth(model.Regression, 500, 8, 5, false).X
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if bg, err := KMeansBackground(ctx, x, 10, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("KMeansBackground on a cancelled context = %v, %v; want context.Canceled", bg, err)
	}
}

func nanZero(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if !math.IsNaN(x) {
			out[i] = x
		}
	}
	return out
}
