package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestCompactModelFormat loads a forest saved by the previous format
// (envelope version 1, uncompressed, tree encoding version 1; made by
// that build, with its predictions on the first 200 rows of
// credit_data), checks it predicts what that build predicted, saves it in
// the current format and checks the reloaded model predicts bit for bit
// the same from a file at least 4 times smaller.
func TestCompactModelFormat(t *testing.T) {
	old := filepath.Join("testdata", "forest_v1.tfm")
	p, err := LoadPredictor(old, Families())
	if err != nil {
		t.Fatal(err)
	}
	x, err := frame.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"), frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	x = x.Take(seq(200))
	a, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := readRecords(t, filepath.Join("testdata", "forest_v1_predictions.csv"))[1:]
	for i, rec := range want {
		p1, _ := strconv.ParseFloat(rec[2], 64)
		if a.Labels[i] != rec[0] || strconv.FormatFloat(a.Probs[2*i+1], 'g', 8, 64) != strconv.FormatFloat(p1, 'g', 8, 64) {
			t.Fatalf("row %d: %s %v; the old build predicted %v", i, a.Labels[i], a.Probs[2*i+1], rec)
		}
	}
	path := filepath.Join(t.TempDir(), "forest_v2.tfm")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := LoadPredictor(path, Families())
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Probs, b.Probs) || !slices.Equal(a.Labels, b.Labels) {
		t.Error("the model saved in the compact format predicts differently")
	}
	before, _ := os.Stat(old)
	after, _ := os.Stat(path)
	t.Logf("forest of 10 trees: %d bytes in format 1, %d in format 2 (%.1f× smaller)", before.Size(), after.Size(), float64(before.Size())/float64(after.Size()))
	if after.Size()*4 > before.Size() {
		t.Errorf("format 2 is %d bytes, format 1 %d: not 4× smaller", after.Size(), before.Size())
	}
}
