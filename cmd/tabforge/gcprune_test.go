package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/registry"
)

// TestGCHistory: gc --history-older-than removes the registry history
// older than its cutoff but for the events behind the current stages
// (each version's newest stage change), the dry run counts what the
// real run removes, per name, and models list answers as before
// (rollback after pruning: registry's TestPruneHistory). The history grew for good before it: 100,000 events for a
// year of hot swaps every five minutes.
func TestGCHistory(t *testing.T) {
	dir := swappedHistory(t)
	gc := func(args ...string) registry.Pruned {
		t.Helper()
		code, out, errs := cli(t, dir, append([]string{"gc", "--json", "--history-older-than"}, args...)...)
		var rep struct{ History registry.Pruned }
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("gc --history-older-than %v: exit %d, %q, %q", args, code, out, errs)
		}
		return rep.History
	}
	_, list, _ := cli(t, dir, "models", "list")
	if h := gc("30d"); len(h.Removed) != 0 || len(h.Kept) != 0 {
		t.Errorf("gc --history-older-than 30d of a history an hour old: %+v; want nothing removed", h)
	}
	dry := gc("1ns", "--dry-run")
	if dry.Removed["houses"] != 58 || dry.Kept["houses"] != 2 {
		t.Errorf("dry run: %+v; want 58 of 60 removed, 2 kept (the newest stage change of each version)", dry)
	}
	code, out, errs := cli(t, dir, "gc", "--history-older-than", "1ns")
	if code != 0 || !strings.Contains(out, "removed 58 registry history events") || !strings.Contains(out, "houses: 58") {
		t.Errorf("gc --history-older-than 1ns: exit %d, %q, %q; want 58 removed, as the dry run said", code, out, errs)
	}
	if _, after, _ := cli(t, dir, "models", "list"); after != list {
		t.Errorf("models list after pruning:\n%s\nwant as before:\n%s", after, list)
	}
	for _, bad := range [][]string{{"gc"}, {"gc", "--history-older-than", "0"}, {"gc", "--history-older-than", "30x"}} {
		if code, _, errs := cli(t, dir, bad...); code != 2 {
			t.Errorf("%v: exit %d, %q; want a usage error (2)", bad, code, errs)
		}
	}
}
