package pipeline

import (
	"testing"

	"github.com/tabforge/tabforge/split"
	"github.com/tabforge/tabforge/store/cache"
)

// TestRowsKeyIsCacheKey checks that rowsKey hashes exactly the JSON
// cache.Key would, so that cache entries written before it stay hits:
// nil and empty lists, no folds and folds with empty sides, multi-digit
// and negative indices.
func TestRowsKeyIsCacheKey(t *testing.T) {
	long := make([]int, 20000)
	for i := range long {
		long[i] = i * 7919 % 100003
	}
	tests := []struct {
		name        string
		train, test []int
		folds       []split.Fold
	}{
		{"all nil", nil, nil, nil},
		{"empty", []int{}, []int{}, []split.Fold{}},
		{"no folds", []int{0, 1, 2}, []int{3}, nil},
		{"folds", []int{10, 200, 3000}, []int{-1, 4}, []split.Fold{{Train: []int{0, 1}, Test: []int{2}}, {Train: nil, Test: []int{}}}},
		{"longer than the buffer", long, long[:5], []split.Fold{{Train: long, Test: long[100:200]}}},
	}
	for _, tt := range tests {
		if got, want := rowsKey(tt.train, tt.test, tt.folds), cache.Key(tt.train, tt.test, tt.folds); got != want {
			t.Errorf("%s: rowsKey = %s; cache.Key = %s", tt.name, got, want)
		}
	}
}

// BenchmarkRowsKey hashes the split of a million rows (800,000 training
// rows in 5 folds, 200,000 test rows) with rowsKey and, for comparison,
// with cache.Key, which builds the JSON first.
func BenchmarkRowsKey(b *testing.B) {
	rows := make([]int, 1_000_000)
	for i := range rows {
		rows[i] = i
	}
	train, test := rows[:800_000], rows[800_000:]
	var folds []split.Fold
	for k := range 5 {
		lo, hi := k*160_000, (k+1)*160_000
		folds = append(folds, split.Fold{Train: append(append([]int(nil), train[:lo]...), train[hi:]...), Test: train[lo:hi]})
	}
	for name, key := range map[string]func() string{
		"rowsKey":   func() string { return rowsKey(train, test, folds) },
		"cache.Key": func() string { return cache.Key(train, test, folds) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				key()
			}
		})
	}
}
