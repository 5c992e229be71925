package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResearchCases: every research case has the peer's Optuna row (its
// metric and search time) and its data and split files exist.
func TestResearchCases(t *testing.T) {
	td := filepath.Join("..", "testdata")
	peers, err := ReadPeerTuned(filepath.Join(td, "peers", "baselines.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ResearchCases(td) {
		p, ok := peers[c.Name]
		if !ok || !(p.TuneS > 0) || !(p.Value > 0.5 && p.Value < 1) || p.Trials != 30 {
			t.Errorf("%s: peer row %+v; want an Optuna row of 30 trials with tune_s and a metric in (0.5, 1)", c.Name, p)
		}
		for i, a := range c.Args {
			if a == "--data" || a == "--test-rows" {
				if _, err := os.Stat(c.Args[i+1]); err != nil {
					t.Errorf("%s: %v", c.Name, err)
				}
			}
		}
	}
}

// TestPeerNowErrors: a peer that fails, or prints no result, is a clear
// error naming the dataset, not a zero budget.
func TestPeerNowErrors(t *testing.T) {
	for _, tc := range []struct{ python, want string }{
		{"/bin/false", "peer ames: /bin/false"},
		{"/bin/echo", "peer ames: output"},
		{"/nonexistent/python3", "peer ames: /nonexistent/python3"},
	} {
		dir, now := t.TempDir(), PeerNow{Python: tc.python, Baselines: "baselines.py"}
		if err := now.writeScript(dir); err != nil {
			t.Fatal(err)
		}
		_, err := now.run(context.Background(), dir, "ames", PeerTuned{TuneS: 42})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("python %s: err %v; want one containing %q", tc.python, err, tc.want)
		}
	}
}
