package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store/sqlite"
)

// TestJSONEmptyListsAreArrays: under --json a list with nothing in it is
// [], as runs list, models list and watch print it, never null, so that a
// script can take its length or loop over it without a special case.
// models history, gc, monitor realised and workers printed null.
func TestJSONEmptyListsAreArrays(t *testing.T) {
	dir := t.TempDir()
	// An empty store: one that does not exist is an error to read.
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	log := filepath.Join(dir, "pred.log")
	actuals := filepath.Join(dir, "actuals.csv")
	// One prediction whose actual has not arrived: no group to score.
	if err := os.WriteFile(log, []byte(`{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"m","version":"v1","predictions":[1]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(actuals, []byte("request_id,actual\nb,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		lists []string // keys of the top-level object; "" is the document itself
	}{
		{"models history", []string{"models", "history", "--json"}, []string{""}},
		{"gc", []string{"gc", "--keep-last", "1", "--json"}, []string{"runs", "versions"}},
		{"monitor realised", []string{"monitor", "realised", "--log", log, "--actuals", actuals, "--json"}, []string{"groups"}},
		{"workers", []string{"workers", "--queue", startQueue(t).URL(), "--json"}, []string{"workers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := tabforge(t, dir, c.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, key := range c.lists {
				raw := json.RawMessage(out)
				if key != "" {
					var obj map[string]json.RawMessage
					if err := json.Unmarshal([]byte(out), &obj); err != nil {
						t.Fatalf("%v\n%s", err, out)
					}
					raw = obj[key]
				}
				if s := strings.TrimSpace(string(raw)); s != "[]" {
					t.Errorf("%s %q = %s; want []", c.name, key, s)
				}
			}
		})
	}
}
