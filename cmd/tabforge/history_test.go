package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestModelsHistoryLimit: `models history` shows the newest 50 events
// and says there are older ones; --limit and --since choose, --json
// keeps its shape (an array, oldest first), and a bad value is a usage
// error. It printed every event there was: 100,000 lines and 14 s for a
// year of hot swaps every five minutes.
func TestModelsHistoryLimit(t *testing.T) {
	dir := swappedHistory(t)
	events := func(args ...string) []registry.Event {
		t.Helper()
		code, out, errs := cli(t, dir, append([]string{"models", "history", "houses", "--json"}, args...)...)
		var h []registry.Event
		if code != 0 || json.Unmarshal([]byte(out), &h) != nil || h == nil {
			t.Fatalf("models history --json %v: exit %d, %q, %q; want an array", args, code, out, errs)
		}
		return h
	}
	all := events("--limit", "0")
	if len(all) != 60 {
		t.Fatalf("--limit 0 gave %d events; want all 60", len(all))
	}
	tests := []struct {
		args []string
		want int // the newest want events
	}{
		{nil, 50},
		{[]string{"--limit", "3"}, 3},
		{[]string{"--limit", "100"}, 60},
		{[]string{"--since", "1h", "--limit", "0"}, 60},
		{[]string{"--since", "1d", "--limit", "0"}, 60}, // days, as gc --older-than takes them
		{[]string{"--since", "2000-01-31", "--limit", "7"}, 7},
		{[]string{"--since", "2999-01-01T00:00:00Z"}, 0},
	}
	for _, tt := range tests {
		got := events(tt.args...)
		want := all[len(all)-tt.want:]
		if len(got) != len(want) || (len(got) > 0 && (got[0].Time != want[0].Time || got[len(got)-1].Time != want[len(want)-1].Time)) {
			t.Errorf("models history %v: %d events; want the newest %d, oldest first", tt.args, len(got), tt.want)
		}
	}
	code, out, errs := cli(t, dir, "models", "history", "houses")
	if lines := strings.Count(out, "\n"); code != 0 || lines != 51 || !strings.Contains(errs, "the newest 50 events") {
		t.Errorf("models history: exit %d, %d lines, stderr %q; want a header, 50 events and a note of older ones", code, lines, errs)
	}
	if code, _, errs := cli(t, dir, "models", "history", "houses", "--limit", "5", "--since", "1h"); code != 0 || !strings.Contains(errs, "newest 5") {
		t.Errorf("models history --limit 5: exit %d, stderr %q; want the note", code, errs)
	}
	for _, bad := range [][]string{{"--limit", "-1"}, {"--since", "yesterday"}} {
		if code, _, errs := cli(t, dir, append([]string{"models", "history", "houses"}, bad...)...); code != 2 || !strings.Contains(errs, bad[0]) {
			t.Errorf("models history %v: exit %d, %q; want a usage error (2) naming %s", bad, code, errs, bad[0])
		}
	}
}

// swappedHistory returns a directory whose SQLite store holds two
// versions of "houses" promoted to production in turn 60 times: a
// history of hot swaps.
func swappedHistory(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, ds := range []string{"d1", "d2"} {
		m, _, err := reg.Register(ctx, registry.Model{Name: "houses", RunID: "run-" + ds, Deployable: true,
			Artifact: artifact.Ref{URL: "mem://", Key: ds + "/model.tfm", SHA256: "ab", Size: 2},
			Identity: registry.Identity{DatasetHash: ds, ConfigHash: "cfg", Seed: 1, CodeVersion: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, m.Version)
	}
	for i := range 60 {
		if _, err := reg.Promote(ctx, vs[i%2], registry.Production, registry.PromoteOptions{Reason: "swap"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	return dir
}
