package split

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// checkFolds fails unless every fold partitions 0..n-1 and the test sides
// of all folds together cover every row exactly once.
func checkFolds(t *testing.T, name string, n int, folds []Fold) {
	t.Helper()
	covered := make([]int, n)
	for f, fold := range folds {
		checkPartition(t, fmt.Sprintf("%s fold %d", name, f), n, fold.Train, fold.Test)
		if len(fold.Test) == 0 || len(fold.Train) == 0 {
			t.Fatalf("%s fold %d: empty side", name, f)
		}
		for _, r := range fold.Test {
			covered[r]++
		}
	}
	for i, c := range covered {
		if c != 1 {
			t.Fatalf("%s: row %d is in %d test folds; want 1", name, i, c)
		}
	}
}

func TestKFold(t *testing.T) {
	tests := []struct {
		n, k      int
		shuffle   bool
		wantSizes []int // scikit-learn KFold: first n%k folds get one more row
	}{
		{10, 3, false, []int{4, 3, 3}},
		{10, 5, true, []int{2, 2, 2, 2, 2}},
		{7, 7, true, []int{1, 1, 1, 1, 1, 1, 1}},
		{101, 4, true, []int{26, 25, 25, 25}},
	}
	for _, tc := range tests {
		folds, err := KFold(tc.n, tc.k, tc.shuffle, 3)
		if err != nil {
			t.Fatalf("KFold(%d, %d) error: %v", tc.n, tc.k, err)
		}
		checkFolds(t, "KFold", tc.n, folds)
		for f, fold := range folds {
			if len(fold.Test) != tc.wantSizes[f] {
				t.Errorf("KFold(%d, %d) fold %d: %d test rows; want %d", tc.n, tc.k, f, len(fold.Test), tc.wantSizes[f])
			}
		}
	}
	folds, _ := KFold(10, 3, false, 0)
	if want := []int{0, 1, 2, 3}; !slices.Equal(folds[0].Test, want) {
		t.Errorf("unshuffled fold 0 test = %v; want %v", folds[0].Test, want)
	}
	a, _ := KFold(100, 5, true, 1)
	b, _ := KFold(100, 5, true, 1)
	c, _ := KFold(100, 5, true, 2)
	if !slices.Equal(a[0].Test, b[0].Test) {
		t.Error("same seed gave different folds")
	}
	if slices.Equal(a[0].Test, c[0].Test) {
		t.Error("seeds 1 and 2 gave the same folds")
	}
}

func TestCVErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func() error
	}{
		{"KFold k 1", func() error { _, err := KFold(10, 1, false, 0); return err }},
		{"KFold k > n", func() error { _, err := KFold(3, 4, false, 0); return err }},
		{"StratifiedKFold k > n", func() error { _, err := StratifiedKFold([]int{0, 1}, 3, 0); return err }},
		{"StratifiedKFold k 0", func() error { _, err := StratifiedKFold([]int{0, 1}, 0, 0); return err }},
		{"TimeSeries k 1", func() error { _, err := TimeSeries([]float64{1, 2, 3}, 1); return err }},
		{"TimeSeries NaN", func() error { _, err := TimeSeries([]float64{1, 2, math.NaN(), 4}, 2); return err }},
		{"TimeSeries too few times", func() error { _, err := TimeSeries([]float64{1, 1, 2, 2, 2}, 2); return err }},
		{"TimeSeries k >= n", func() error { _, err := TimeSeries([]float64{1, 2}, 2); return err }},
		{"GroupKFold few groups", func() error { _, err := GroupKFold([]int{1, 1, 2, 2}, 3); return err }},
		{"GroupKFold k 1", func() error { _, err := GroupKFold([]int{1, 2}, 1); return err }},
	}
	for _, tc := range tests {
		if err := tc.fn(); err == nil {
			t.Errorf("%s: got nil error", tc.name)
		}
	}
}

func TestStratifiedKFold(t *testing.T) {
	// 70 rows of class 0, 20 of class 5, 10 of class 9, interleaved.
	var labels []int
	for i := range 100 {
		switch {
		case i%10 == 3:
			labels = append(labels, 9)
		case i%5 == 1:
			labels = append(labels, 5)
		default:
			labels = append(labels, 0)
		}
	}
	folds, err := StratifiedKFold(labels, 5, 11)
	if err != nil {
		t.Fatal(err)
	}
	checkFolds(t, "StratifiedKFold", len(labels), folds)
	for f, fold := range folds {
		count := map[int]int{}
		for _, r := range fold.Test {
			count[labels[r]]++
		}
		// Each class divides evenly by 5: 14, 4 and 2 rows per test fold.
		if count[0] != 14 || count[5] != 4 || count[9] != 2 {
			t.Errorf("fold %d class counts %v; want map[0:14 5:4 9:2]", f, count)
		}
	}
	other, _ := StratifiedKFold(labels, 5, 12)
	if slices.Equal(folds[0].Test, other[0].Test) {
		t.Error("seeds 11 and 12 gave the same stratified folds")
	}
	again, _ := StratifiedKFold(labels, 5, 11)
	if !slices.Equal(folds[2].Test, again[2].Test) {
		t.Error("same seed gave different stratified folds")
	}
}

func TestStratifiedKFoldUneven(t *testing.T) {
	// 7 of class 0, 4 of class 1, k = 3. Sorted labels dealt round-robin
	// (scikit-learn's allocation): class 0 gets folds 0,1,2,0,1,2,0 -> 3,2,2;
	// class 1 (positions 7..10) gets folds 1,2,0,1 -> 1,2,1. Fold sizes 4,4,3.
	labels := []int{1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0}
	folds, err := StratifiedKFold(labels, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkFolds(t, "StratifiedKFold", len(labels), folds)
	want := [][2]int{{3, 1}, {2, 2}, {2, 1}}
	for f, fold := range folds {
		var got [2]int
		for _, r := range fold.Test {
			got[labels[r]]++
		}
		if got != want[f] {
			t.Errorf("fold %d class counts %v; want %v", f, got, want[f])
		}
	}
}

func TestTimeSeries(t *testing.T) {
	// 200 rows over 40 distinct times (5 rows each), in a scrambled order.
	perm := newRand(5, 5).Perm(200)
	times := make([]float64, 200)
	for i, p := range perm {
		times[i] = float64(p / 5)
	}
	for _, k := range []int{2, 3, 5, 9} {
		folds, err := TimeSeries(times, k)
		if err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
		if len(folds) != k {
			t.Fatalf("k=%d: %d folds", k, len(folds))
		}
		for f, fold := range folds {
			checkPartitionSubset(t, fmt.Sprintf("k=%d fold %d", k, f), fold)
			var maxTrain float64 = math.Inf(-1)
			for _, r := range fold.Train {
				maxTrain = math.Max(maxTrain, times[r])
			}
			minTest := math.Inf(1)
			for _, r := range fold.Test {
				minTest = math.Min(minTest, times[r])
			}
			if !(maxTrain < minTest) {
				t.Errorf("k=%d fold %d: train reaches time %v, test starts at %v (leak)", k, f, maxTrain, minTest)
			}
			if f > 0 {
				// expanding window: this fold trains on everything the previous one saw.
				prev := folds[f-1]
				want := append(slices.Clone(prev.Train), prev.Test...)
				slices.Sort(want)
				if !slices.Equal(fold.Train, want) {
					t.Errorf("k=%d fold %d: train is not previous train+test", k, f)
				}
			}
		}
		last := folds[k-1]
		if len(last.Train)+len(last.Test) != 200 {
			t.Errorf("k=%d: last fold covers %d rows; want 200", k, len(last.Train)+len(last.Test))
		}
	}
	// Without ties the boundaries are scikit-learn's TimeSeriesSplit:
	// n=10, k=3: test_size = 10/4 = 2, tests [4,6), [6,8), [8,10).
	seq := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	folds, err := TimeSeries(seq, 3)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range [][]int{{4, 5}, {6, 7}, {8, 9}} {
		if !slices.Equal(folds[f].Test, want) {
			t.Errorf("fold %d test = %v; want %v", f, folds[f].Test, want)
		}
	}
}

// checkPartitionSubset fails unless the fold's sides are sorted and disjoint.
func checkPartitionSubset(t *testing.T, name string, f Fold) {
	t.Helper()
	if !slices.IsSorted(f.Train) || !slices.IsSorted(f.Test) {
		t.Fatalf("%s: not sorted", name)
	}
	for _, r := range f.Test {
		if _, found := slices.BinarySearch(f.Train, r); found {
			t.Fatalf("%s: row %d on both sides", name, r)
		}
	}
	if len(f.Train) == 0 || len(f.Test) == 0 {
		t.Fatalf("%s: empty side", name)
	}
}

func TestGroupKFold(t *testing.T) {
	// Group sizes: g10:6, g20:5, g30:3, g40:3, g50:1 (18 rows).
	sizes := map[int]int{10: 6, 20: 5, 30: 3, 40: 3, 50: 1}
	var groups []int
	for _, g := range []int{30, 10, 50, 20, 40} {
		for range sizes[g] {
			groups = append(groups, g)
		}
	}
	folds, err := GroupKFold(groups, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkFolds(t, "GroupKFold", len(groups), folds)
	for f, fold := range folds {
		inTest := map[int]bool{}
		for _, r := range fold.Test {
			inTest[groups[r]] = true
		}
		for _, r := range fold.Train {
			if inTest[groups[r]] {
				t.Fatalf("fold %d: group %d on both sides", f, groups[r])
			}
		}
	}
	// Greedy by size: g10 -> fold 0 (6), g20 -> fold 1 (5), g30 -> fold 2 (3),
	// g40 -> fold 2 (6), g50 -> fold 1 (6). Sizes 6, 6, 6.
	for f, want := range []int{6, 6, 6} {
		if len(folds[f].Test) != want {
			t.Errorf("fold %d: %d test rows; want %d", f, len(folds[f].Test), want)
		}
	}
}

func TestRemap(t *testing.T) {
	h, err := FromTestRows(10, []int{0, 5})
	if err != nil {
		t.Fatal(err)
	}
	// 8 training rows: 1 2 3 4 6 7 8 9.
	inner, err := KFold(len(h.Train), 2, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := Remap(inner, h.Train)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 4}; !slices.Equal(outer[0].Test, want) {
		t.Errorf("remapped fold 0 test = %v; want %v", outer[0].Test, want)
	}
	if want := []int{6, 7, 8, 9}; !slices.Equal(outer[0].Train, want) {
		t.Errorf("remapped fold 0 train = %v; want %v", outer[0].Train, want)
	}
	if _, err := Remap([]Fold{{Train: []int{8}, Test: []int{0}}}, h.Train); err == nil {
		t.Error("Remap with out-of-range position: nil error")
	}
}

// TestTimeSeriesGap: with a gap of g distinct times, every fold's training
// rows end more than g times before its test block starts, rows sharing
// a time stay together, and a gap that empties a fold is an error.
func TestTimeSeriesGap(t *testing.T) {
	// 120 rows over 30 distinct times (4 rows each), scrambled.
	perm := newRand(7, 7).Perm(120)
	times := make([]float64, 120)
	for i, p := range perm {
		times[i] = float64(p / 4)
	}
	for _, gap := range []int{0, 1, 3} {
		folds, err := TimeSeriesGap(times, 4, gap)
		if err != nil {
			t.Fatalf("gap %d: %v", gap, err)
		}
		base, _ := TimeSeries(times, 4)
		for f, fold := range folds {
			checkPartitionSubset(t, fmt.Sprintf("gap %d fold %d", gap, f), fold)
			maxTrain, minTest := math.Inf(-1), math.Inf(1)
			for _, r := range fold.Train {
				maxTrain = math.Max(maxTrain, times[r])
			}
			for _, r := range fold.Test {
				minTest = math.Min(minTest, times[r])
			}
			// Times are consecutive integers: the gap is the count of
			// times strictly between the last training and first test time.
			if got := int(minTest-maxTrain) - 1; got != gap {
				t.Errorf("gap %d fold %d: train ends at %v, test starts at %v (%d times apart)", gap, f, maxTrain, minTest, got)
			}
			if !slices.Equal(fold.Test, base[f].Test) {
				t.Errorf("gap %d fold %d: the gap moved the test block", gap, f)
			}
		}
	}
	if _, err := TimeSeriesGap(times, 4, 6); err == nil {
		t.Error("a gap as long as the first training window was accepted")
	}
	if _, err := TimeSeriesGap(times, 4, -1); err == nil {
		t.Error("a negative gap was accepted")
	}
}
