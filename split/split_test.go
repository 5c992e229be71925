package split

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkPartition fails unless train and test are sorted, disjoint, and
// together cover 0..n-1 exactly.
func checkPartition(t *testing.T, name string, n int, train, test []int) {
	t.Helper()
	if !slices.IsSorted(train) || !slices.IsSorted(test) {
		t.Fatalf("%s: train/test not sorted", name)
	}
	seen := make([]int, n)
	for _, r := range train {
		seen[r]++
	}
	for _, r := range test {
		seen[r]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("%s: row %d appears %d times in train+test; want 1", name, i, c)
		}
	}
}

func TestRandom(t *testing.T) {
	tests := []struct {
		n        int
		frac     float64
		wantTest int // ceil(frac*n), scikit-learn's rounding
	}{
		{10, 0.2, 2},
		{11, 0.2, 3},
		{2, 0.5, 1},
		{1000, 0.25, 250},
		{7, 0.01, 1},
	}
	for _, tc := range tests {
		h, err := Random(tc.n, tc.frac, 42)
		if err != nil {
			t.Fatalf("Random(%d, %v) error: %v", tc.n, tc.frac, err)
		}
		checkPartition(t, "Random", tc.n, h.Train, h.Test)
		if len(h.Test) != tc.wantTest {
			t.Errorf("Random(%d, %v): %d test rows; want %d", tc.n, tc.frac, len(h.Test), tc.wantTest)
		}
	}
}

func TestRandomSeeds(t *testing.T) {
	a, _ := Random(500, 0.2, 1)
	b, _ := Random(500, 0.2, 1)
	c, _ := Random(500, 0.2, 2)
	if !slices.Equal(a.Test, b.Test) {
		t.Error("Random with the same seed gave different splits")
	}
	if slices.Equal(a.Test, c.Test) {
		t.Error("Random with seeds 1 and 2 gave the same split")
	}
}

func TestHoldoutErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func() error
	}{
		{"Random frac 0", func() error { _, err := Random(10, 0, 1); return err }},
		{"Random frac 1", func() error { _, err := Random(10, 1, 1); return err }},
		{"Random frac NaN", func() error { _, err := Random(10, math.NaN(), 1); return err }},
		{"Random n 1", func() error { _, err := Random(1, 0.5, 1); return err }},
		{"Random all test", func() error { _, err := Random(2, 0.99, 1); return err }},
		{"Stratified frac", func() error { _, err := StratifiedRandom([]int{0, 1, 0, 1}, 1.5, 1); return err }},
		{"Stratified empty", func() error { _, err := StratifiedRandom(nil, 0.5, 1); return err }},
		{"Temporal NaN", func() error { _, _, err := TemporalFraction([]float64{1, math.NaN(), 3}, 0.3); return err }},
		{"Temporal all equal", func() error { _, _, err := TemporalFraction([]float64{5, 5, 5, 5}, 0.25); return err }},
		{"AsOf all train", func() error { _, err := AsOf([]float64{1, 2, 3}, 10); return err }},
		{"AsOf all test", func() error { _, err := AsOf([]float64{1, 2, 3}, 1); return err }},
		{"AsOf NaN cutoff", func() error { _, err := AsOf([]float64{1, 2, 3}, math.NaN()); return err }},
		{"AsOf NaN time", func() error { _, err := AsOf([]float64{1, math.NaN(), 3}, 2); return err }},
		{"FromTestRows range", func() error { _, err := FromTestRows(5, []int{1, 5}); return err }},
		{"FromTestRows negative", func() error { _, err := FromTestRows(5, []int{-1}); return err }},
		{"FromTestRows dup", func() error { _, err := FromTestRows(5, []int{1, 3, 1}); return err }},
		{"FromTestRows none", func() error { _, err := FromTestRows(5, nil); return err }},
		{"FromTestRows all", func() error { _, err := FromTestRows(2, []int{0, 1}); return err }},
	}
	for _, tc := range tests {
		if err := tc.fn(); err == nil {
			t.Errorf("%s: got nil error", tc.name)
		}
	}
	if _, err := AsOf([]float64{1, 2, 3}, 10); !errors.Is(err, ErrEmptySide) {
		t.Errorf("AsOf all train: error %v does not wrap ErrEmptySide", err)
	}
}

func TestStratifiedRandom(t *testing.T) {
	// 600 rows of class 0, 300 of class 1, 100 of class 2, shuffled in place.
	labels := make([]int, 0, 1000)
	for c, cnt := range []int{600, 300, 100} {
		for range cnt {
			labels = append(labels, c)
		}
	}
	perm := newRand(7, 99).Perm(len(labels))
	shuffled := Take(labels, perm)
	h, err := StratifiedRandom(shuffled, 0.2, 42)
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, "StratifiedRandom", len(labels), h.Train, h.Test)
	count := map[int]int{}
	for _, r := range h.Test {
		count[shuffled[r]]++
	}
	// 20% of each class exactly: 120, 60, 20.
	for c, want := range map[int]int{0: 120, 1: 60, 2: 20} {
		if count[c] != want {
			t.Errorf("class %d: %d test rows; want %d", c, count[c], want)
		}
	}
	h2, _ := StratifiedRandom(shuffled, 0.2, 43)
	if slices.Equal(h.Test, h2.Test) {
		t.Error("seeds 42 and 43 gave the same stratified split")
	}
	h3, _ := StratifiedRandom(shuffled, 0.2, 42)
	if !slices.Equal(h.Test, h3.Test) {
		t.Error("same seed gave different stratified splits")
	}
}

func TestStratifiedRandomRounding(t *testing.T) {
	// 7 of class 0 and 3 of class 1, test fraction 0.3: 3 test rows,
	// exact shares 2.1 and 0.9, so the largest remainder gives 2 and 1.
	labels := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}
	h, err := StratifiedRandom(labels, 0.3, 5)
	if err != nil {
		t.Fatal(err)
	}
	ones := 0
	for _, r := range h.Test {
		ones += labels[r]
	}
	if len(h.Test) != 3 || ones != 1 {
		t.Errorf("test rows %v: %d rows with %d of class 1; want 3 with 1", h.Test, len(h.Test), ones)
	}
}

func TestTemporalFractionSmall(t *testing.T) {
	times := []float64{5, 1, 3, 3, 2, 4, 4, 4, 1, 2}
	// Sorted: 1 1 2 2 3 3 4 4 4 5; the cut at floor(0.8*10) = 8 falls in
	// the run of 4s (positions 6-8): its end (9) is 1 row away, its start
	// (6) 2, so Test is the single 5.
	h, cutoff, err := TemporalFraction(times, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if cutoff != 5 {
		t.Errorf("cutoff = %v; want 5", cutoff)
	}
	if want := []int{0}; !slices.Equal(h.Test, want) {
		t.Errorf("test = %v; want %v", h.Test, want)
	}
	checkPartition(t, "TemporalFraction", len(times), h.Train, h.Test)
}

// TestLatestCuts checks where the cut goes relative to runs of tied
// times: to the nearer end of the run, the earlier end when both are
// equally near, and to the only end that leaves both sides non-empty.
func TestLatestCuts(t *testing.T) {
	tests := []struct {
		name       string
		times      []float64
		nTest      int
		wantCutoff float64
		wantTest   int
	}{
		{"no ties", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 3, 8, 3},
		{"cut on a boundary", []float64{1, 1, 2, 2, 2, 3, 3, 3, 4, 4}, 5, 3, 5},
		{"run mostly before the cut: its end", []float64{1, 2, 2, 2, 2, 2, 2, 3, 4, 5}, 4, 3, 3},
		{"run mostly after the cut: its start", []float64{1, 2, 3, 4, 4, 4, 4, 4, 4, 5}, 6, 4, 7},
		{"equally near: the earlier end", []float64{1, 2, 3, 3, 3, 3, 4, 5, 6, 7}, 6, 3, 8},
		{"run from the first row: its end", []float64{1, 1, 1, 1, 1, 1, 1, 1, 2, 3}, 5, 2, 2},
		{"run to the last row: its start", []float64{1, 2, 3, 3, 3, 3, 3, 3, 3, 3}, 2, 3, 8},
		{"unsorted input", []float64{4, 1, 4, 2, 4, 4, 3, 4, 4, 4}, 4, 4, 7},
		// The shape of survival_rotterdam by year (1,918 rows): at 20%
		// the cut (row 1,534) lies 367 rows into 1988 and 23 before 1989.
		{"yearly", append(append(repeat(1987, 1167), repeat(1988, 390)...), repeat(1989, 361)...), 384, 1989, 361},
	}
	for _, tc := range tests {
		h, cutoff, err := Latest(tc.times, tc.nTest)
		if err != nil {
			t.Errorf("%s: Latest(%d) error: %v", tc.name, tc.nTest, err)
			continue
		}
		checkPartition(t, tc.name, len(tc.times), h.Train, h.Test)
		if cutoff != tc.wantCutoff || len(h.Test) != tc.wantTest {
			t.Errorf("%s: Latest(%d) = cutoff %v, %d test rows; want %v, %d", tc.name, tc.nTest, cutoff, len(h.Test), tc.wantCutoff, tc.wantTest)
		}
		for _, r := range h.Test {
			if tc.times[r] < cutoff {
				t.Errorf("%s: test row %d at time %v before the cutoff %v", tc.name, r, tc.times[r], cutoff)
			}
		}
	}
}

func TestLatestErrors(t *testing.T) {
	tests := []struct {
		name  string
		times []float64
		nTest int
	}{
		{"all tied", []float64{3, 3, 3, 3}, 2},
		{"no test rows", []float64{1, 2, 3}, 0},
		{"no training rows", []float64{1, 2, 3}, 3},
		{"one row", []float64{1}, 1},
		{"NaN", []float64{1, math.NaN(), 3}, 1},
	}
	for _, tc := range tests {
		if _, _, err := Latest(tc.times, tc.nTest); err == nil {
			t.Errorf("%s: Latest(%v, %d): nil error", tc.name, tc.times, tc.nTest)
		}
	}
	if _, _, err := Latest([]float64{3, 3, 3, 3}, 2); !errors.Is(err, ErrEmptySide) {
		t.Errorf("all tied: error %v; want ErrEmptySide", err)
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestFromTestRowsAndTake(t *testing.T) {
	h, err := FromTestRows(6, []int{4, 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Test, []int{1, 4}) || !slices.Equal(h.Train, []int{0, 2, 3, 5}) {
		t.Errorf("FromTestRows = %+v", h)
	}
	y := []string{"a", "b", "c", "d", "e", "f"}
	if got := Take(y, h.Test); !slices.Equal(got, []string{"b", "e"}) {
		t.Errorf("Take = %v", got)
	}
	if got := Take(y, []int{6}); got != nil {
		t.Errorf("Take out of range = %v; want nil", got)
	}
}

func TestReadRows(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		errLine string // substring of the error, "" for success
	}{
		{"0\n3\n\n  7 \r\n", []int{0, 3, 7}, ""},
		{"", nil, ""},
		{"1\n2\nx\n", nil, "line 3"},
		{"1\n\n-4\n", nil, "line 3"},
		{"1.5\n", nil, "line 1"},
	}
	for _, tc := range tests {
		got, err := ReadRows(strings.NewReader(tc.in))
		if tc.errLine != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errLine) {
				t.Errorf("ReadRows(%q) error = %v; want one mentioning %q", tc.in, err, tc.errLine)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ReadRows(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ReadRowsFile(filepath.Join(t.TempDir(), "missing.txt")); err == nil {
		t.Error("ReadRowsFile of a missing file: nil error")
	}
}

// readCSV reads a CSV file with a header into a column-name index and rows.
func readCSV(t *testing.T, path string) (map[string]int, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	return col, recs[1:]
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTemporalFractionAnchors reproduces the TEST rows of the peer baselines
// (shared/anchors/splits/*.test_rows.txt, written by shared/anchors/baselines.py
// with pandas/numpy; copied into testdata/) with AsOf at the protocol's
// cutoff (shared/anchors/baselines.md), and checks where TemporalFraction
// cuts the same data: at the protocol's cutoff when it is a time boundary
// (txhousing), else at the nearer boundary (ames).
func TestTemporalFractionAnchors(t *testing.T) {
	tests := []struct {
		name       string
		csv        string
		peerCutoff float64 // from baselines.md: "TEST = sale month >= 2009-07", "TEST = date >= 2012-09-01"
		// wantCutoff is TemporalFraction's: on ames the protocol's cut
		// (row 2,344 of 2,930 in time order) lies 83 rows into 2009-07
		// and 27 rows before 2009-08 (counted from the CSV).
		wantCutoff float64
		// times returns the time key per used row and the CSV row index of each used row.
		times func(t *testing.T, col map[string]int, recs [][]string) ([]float64, []int)
	}{
		{
			name: "ames", csv: "ames.csv", peerCutoff: 200907, wantCutoff: 200908,
			times: func(t *testing.T, col map[string]int, recs [][]string) ([]float64, []int) {
				var times []float64
				var rows []int
				for i, r := range recs {
					times = append(times, atof(t, r[col["Year_Sold"]])*100+atof(t, r[col["Mo_Sold"]]))
					rows = append(rows, i)
				}
				return times, rows
			},
		},
		{
			name: "txhousing", csv: "txhousing.csv",
			peerCutoff: float64(time.Date(2012, 9, 1, 0, 0, 0, 0, time.UTC).Unix()),
			wantCutoff: float64(time.Date(2012, 9, 1, 0, 0, 0, 0, time.UTC).Unix()),
			times: func(t *testing.T, col map[string]int, recs [][]string) ([]float64, []int) {
				var times []float64
				var rows []int
				for i, r := range recs {
					if r[col["median"]] == "" || r[col["median"]] == "NA" {
						continue // the protocol drops rows with a missing target first
					}
					d, err := time.Parse("2006-01-02", r[col["date"]])
					if err != nil {
						t.Fatalf("row %d: %v", i, err)
					}
					times = append(times, float64(d.Unix()))
					rows = append(rows, i)
				}
				return times, rows
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			col, recs := readCSV(t, filepath.Join("..", "testdata", tc.csv))
			times, csvRows := tc.times(t, col, recs)
			_, cutoff, err := TemporalFraction(times, 0.2)
			if err != nil {
				t.Fatal(err)
			}
			if cutoff != tc.wantCutoff {
				t.Errorf("TemporalFraction cutoff = %v; want %v", cutoff, tc.wantCutoff)
			}
			h, err := AsOf(times, tc.peerCutoff)
			if err != nil {
				t.Fatal(err)
			}
			got := Take(csvRows, h.Test) // positions among used rows -> CSV rows
			want, err := ReadRowsFile(filepath.Join("testdata", tc.name+".test_rows.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("test rows differ from the anchor: got %d rows, want %d", len(got), len(want))
			}
			if len(h.Train)+len(h.Test) != len(times) {
				t.Errorf("train+test = %d; want %d", len(h.Train)+len(h.Test), len(times))
			}
		})
	}
}
