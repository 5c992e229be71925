package meta

import (
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
