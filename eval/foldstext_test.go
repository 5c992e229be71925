package eval

import "testing"

func TestFoldsText(t *testing.T) {
	for _, tc := range []struct {
		folds []int
		want  string
	}{{[]int{2, 3, 4, 5}, "folds 2-5"}, {[]int{3}, "fold 3"}, {[]int{2, 4}, "folds 2,4"}} {
		if got := FoldsText(tc.folds); got != tc.want {
			t.Errorf("FoldsText(%v) = %q; want %q", tc.folds, got, tc.want)
		}
	}
}
