package meta

import (
	"math"
	"slices"
	"testing"
)

// TestDefaultCheckpoints: every default checkpoint is a distinct trial
// count within the budget, ending at the budget, so the cold-against-warm
// table has no two columns for the same trial (a 10-trial budget printed
// BEST@5, BEST@10 and BEST@10 again).
func TestDefaultCheckpoints(t *testing.T) {
	for _, tc := range []struct {
		trials int
		want   []int
	}{
		{1, []int{1}},
		{4, []int{4}},
		{5, []int{5}},
		{6, []int{5, 6}},
		{10, []int{5, 10}},
		{30, []int{5, 10, 30}},
	} {
		if got := defaultCheckpoints(tc.trials); !slices.Equal(got, tc.want) {
			t.Errorf("defaultCheckpoints(%d) = %v; want %v", tc.trials, got, tc.want)
		}
	}
}

// TestSummarisePerDataset: each compared dataset keeps its normalised
// best scores at the checkpoints (0 the lower of the two first scores, 1
// the higher final best), and the means are their averages; a far
// dataset has none and counts in no mean.
func TestSummarisePerDataset(t *testing.T) {
	r := &WarmReport{Checkpoints: []int{1, 2, 4}, Rows: []WarmRow{
		// lo 0 (warm's first), hi 4 (cold's final).
		{Name: "a", Cold: []float64{1, 2, 2, 4}, Warm: []float64{0, 3, 3, 3}, Reach: 0},
		// lo 1, hi 3 (warm's final); warm starts at cold's best, 2.
		{Name: "b", Cold: []float64{1, 1, 2, 2}, Warm: []float64{2, 2, 3, 3}, Reach: 1},
		{Name: "far", Far: true, Cold: []float64{0, 9, 9, 9}, Warm: []float64{0, 0, 0, 0}},
	}}
	r.summarise()
	want := []struct{ cold, warm []float64 }{
		{[]float64{0.25, 0.5, 1}, []float64{0, 0.75, 0.75}},
		{[]float64{0, 0, 0.5}, []float64{0.5, 0.5, 1}},
	}
	close := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) < 1e-12 })
	}
	for i, w := range want {
		row := r.Rows[i]
		if !close(row.ColdAt, w.cold) || !close(row.WarmAt, w.warm) {
			t.Errorf("%s: ColdAt %v WarmAt %v; want %v and %v", row.Name, row.ColdAt, row.WarmAt, w.cold, w.warm)
		}
	}
	if r.Rows[2].ColdAt != nil || r.Rows[2].WarmAt != nil {
		t.Errorf("far dataset has normalised scores %v %v; want none", r.Rows[2].ColdAt, r.Rows[2].WarmAt)
	}
	for k := range r.Checkpoints {
		cm, wm := (want[0].cold[k]+want[1].cold[k])/2, (want[0].warm[k]+want[1].warm[k])/2
		if math.Abs(r.ColdMean[k]-cm) > 1e-12 || math.Abs(r.WarmMean[k]-wm) > 1e-12 {
			t.Errorf("checkpoint %d: means %v %v; want %v %v", r.Checkpoints[k], r.ColdMean[k], r.WarmMean[k], cm, wm)
		}
	}
}
