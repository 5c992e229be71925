package drift

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// tables are the real datasets of testdata/ with their targets.
var tables = []struct{ file, target string }{
	{"ames.csv", "Sale_Price"},
	{"txhousing.csv", "median"},
	{"credit_data.csv", "Status"},
	{"mlc_churn.csv", "churn"},
}

func readTable(t testing.TB, name string) *frame.Frame {
	t.Helper()
	f, err := frame.ReadFile(filepath.Join("..", "testdata", name), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// halves shuffles the rows of f with seed, keeps the first rows of them
// (0: all) and splits those in two random halves.
func halves(f *frame.Frame, seed uint64, rows int) (*frame.Frame, *frame.Frame) {
	r := rand.New(rand.NewPCG(seed, 17))
	perm := r.Perm(f.NumRows())
	if rows > 0 && rows < len(perm) {
		perm = perm[:rows]
	}
	h := len(perm) / 2
	return f.Take(perm[:h]), f.Take(perm[h:])
}

// calibrationSeeds is how many random splits each table is tested on.
const calibrationSeeds = 40

// TestCalibrationRandomHalves checks that random halves of one real table
// are not flagged: at most 5% of the splits may show dataset drift, for
// the full tables (over 1,000 rows a half: distances) and for 1,000-row
// samples (500 a half: statistical tests). On halves, each column's test
// is itself a false alarm at most about 5% of the time (p < 0.05; the
// distances are far stricter), which is checked too, at ≤ 8% to allow
// for the sampling error of ~40 splits × a few columns.
func TestCalibrationRandomHalves(t *testing.T) {
	for _, tb := range tables {
		f := readTable(t, tb.file)
		for _, rows := range []int{0, 1000} {
			alarms, colAlarms, cols := 0, 0, 0
			targetAlarms := 0
			for seed := range uint64(calibrationSeeds) {
				a, b := halves(f, seed, rows)
				r, err := Compare(context.Background(), a, b, Options{Target: tb.target})
				if err != nil {
					t.Fatal(err)
				}
				if r.DatasetDrift {
					alarms++
				}
				colAlarms += r.Drifted
				cols += r.Compared
				if r.Target.Drifted {
					targetAlarms++
				}
			}
			dataRate, colRate := float64(alarms)/calibrationSeeds, float64(colAlarms)/float64(cols)
			t.Logf("%s rows=%d: dataset drift in %d/%d splits (%.1f%%), column false alarms %d/%d (%.2f%%), target %d/%d",
				tb.file, rows, alarms, calibrationSeeds, 100*dataRate, colAlarms, cols, 100*colRate, targetAlarms, calibrationSeeds)
			if dataRate > 0.05 {
				t.Errorf("%s rows=%d: dataset drift on %.1f%% of random halves; want ≤ 5%%", tb.file, rows, 100*dataRate)
			}
			if colRate > 0.08 {
				t.Errorf("%s rows=%d: %.2f%% of columns flagged on random halves; want ≤ 8%%", tb.file, rows, 100*colRate)
			}
		}
	}
}
