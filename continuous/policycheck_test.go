package continuous

import (
	"math"
	"strings"
	"testing"
)

// TestPolicyCheckSaysTheRange: a policy value out of range is refused with
// the range it must lie in; "policy: min-wins 2 is out of range" left the
// user guessing whether 2 was too many or meant to be a percentage.
func TestPolicyCheckSaysTheRange(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want string
	}{
		{"min-wins as a percentage", Policy{MinWins: 2}, "min-wins 2 is out of range: want a share from 0 to 1"},
		{"tie-wins negative", Policy{TieWins: -0.1}, "tie-wins -0.1 is out of range: want a share from 0 to 1"},
		{"holdout of everything", Policy{Holdout: 1}, "holdout 1 is out of range: want a share from 0 to below 1"},
		{"negative decay", Policy{Decay: -1}, "decay -1 is out of range: want a finite number, 0 or more"},
		{"infinite refresh", Policy{Refresh: math.Inf(1)}, "refresh +Inf is out of range: want a finite number, 0 or more"},
		// It said "max-age -1 and holdout rows 0 must not be negative".
		{"negative max-age", Policy{MaxAge: -1}, "policy: max-age -1 is out of range: want 0 (no limit) or more"},
	}
	for _, tt := range tests {
		if err := tt.p.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check() = %v; want %q", tt.name, err, tt.want)
		}
	}
	if err := DefaultPolicy().Check(); err != nil {
		t.Errorf("DefaultPolicy().Check() = %v; want nil", err)
	}
}
