package ui

import (
	"testing"
	"time"
)

// TestWhen: a time on a page names its zone (the pages showed a bare
// "2026-12-02 09:30:00" that a reader east or west of UTC took for local).
func TestWhen(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC), "2026-12-02 09:30:00 UTC"},
		{time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "2026-12-02 08:30:00 UTC"},
		{time.Time{}, "-"},
	}
	for _, tt := range tests {
		if got := when(tt.in); got != tt.want {
			t.Errorf("when(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
