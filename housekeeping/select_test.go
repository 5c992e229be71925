package housekeeping

import (
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// TestSelectRuns covers the rules that pick runs to remove: the newest N
// stay, recent runs stay, lineage of protected versions and running runs
// stay, and both rules must agree when both are set.
func TestSelectRuns(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	run := func(id string, age time.Duration, status store.Status) *store.Run {
		return &store.Run{ID: id, Created: now.Add(-age), Finished: now.Add(-age), Status: status}
	}
	runs := []*store.Run{ // newest first, as ListRuns returns them
		run("r5", 1*day, store.Succeeded), run("r4", 2*day, store.Running), run("r3", 10*day, store.Succeeded),
		run("r2", 20*day, store.Failed), run("r1", 30*day, store.Succeeded),
	}
	lineage := map[string]string{"r1": "produced v1 (credit@production)"}
	tests := []struct {
		name string
		p    Policy
		want []string
	}{
		{"keep last 2", Policy{KeepLast: 2}, []string{"r3", "r2"}},
		{"older than 15 days", Policy{OlderThan: 15 * day}, []string{"r2"}},
		{"both rules", Policy{KeepLast: 3, OlderThan: 5 * day}, []string{"r2"}},
		{"keep last 1 spares the running run", Policy{KeepLast: 1}, []string{"r3", "r2"}},
		{"named runs", Policy{Runs: []string{"r3", "r2"}}, []string{"r3", "r2"}},
	}
	// Collect looks the named runs up in the store.
	byID := func(ids []string) []*store.Run {
		var out []*store.Run
		for _, id := range ids {
			out = append(out, runs[slices.IndexFunc(runs, func(r *store.Run) bool { return r.ID == id })])
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Now = now
			rep := &Report{Kept: map[string]string{}}
			got, err := selectRuns(runs, byID(tt.p.Runs), tt.p, lineage, rep)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("removes %v, want %v (kept %v)", ids, tt.want, rep.Kept)
			}
		})
	}
	// Protected or running: nothing is removed.
	for _, id := range []string{"r1", "r4"} {
		p := Policy{Runs: []string{id}, Now: now}
		if _, err := selectRuns(runs, byID(p.Runs), p, lineage, &Report{}); err == nil {
			t.Errorf("removing %s by name was accepted", id)
		}
	}
}
