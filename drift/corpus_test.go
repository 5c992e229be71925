package drift

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestCorpusCalibration measures the false-alarm rate on random halves of
// every dataset of the meta-learning corpus (shared/datasets/meta, 97
// real tables), 20 seeds each. The corpus is not in the repository:
//
//	TABFORGE_META_CORPUS=/path/to/shared/datasets/meta go test -run CorpusCalibration -v ./drift
//
// It fails when more than 5% of all splits show dataset drift.
func TestCorpusCalibration(t *testing.T) {
	dir := os.Getenv("TABFORGE_META_CORPUS")
	if dir == "" {
		t.Skip("TABFORGE_META_CORPUS is not set (the corpus is not in the repository)")
	}
	mf, err := os.Open(filepath.Join(dir, "MANIFEST.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	recs, err := csv.NewReader(mf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	const seeds = 20
	splits, alarms, cols, colAlarms := 0, 0, 0, 0
	for _, rec := range recs[1:] {
		file, target := rec[0], rec[6]
		f, err := frame.ReadFile(filepath.Join(dir, file), frame.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for seed := range uint64(seeds) {
			a, b := halves(f, seed, 0)
			r, err := Compare(context.Background(), a, b, Options{Target: target})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			splits++
			cols += r.Compared
			colAlarms += r.Drifted
			if r.DatasetDrift {
				alarms++
				n++
			}
		}
		if n > 0 {
			t.Logf("%s (%d rows): dataset drift in %d/%d splits", file, f.NumRows(), n, seeds)
		}
	}
	t.Logf("%d datasets × %d seeds: dataset drift in %d/%d splits (%.2f%%); columns flagged %d/%d (%.2f%%)",
		len(recs)-1, seeds, alarms, splits, 100*float64(alarms)/float64(splits), colAlarms, cols, 100*float64(colAlarms)/float64(cols))
	if float64(alarms) > 0.05*float64(splits) {
		t.Errorf("dataset drift in %d/%d random halves; want ≤ 5%%", alarms, splits)
	}
}
