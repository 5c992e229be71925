package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestPolicyFlagsShared: retrain, watch and backtest have the same
// policy flags with the same defaults, so the policy a backtest
// measures is the one retrain and watch run.
func TestPolicyFlagsShared(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	names := []string{"on-demand", "decay", "max-age", "on-drift", "refresh", "refresh-or-train", "min-absolute", "min-relative", "min-wins", "tie-wins", "keep-holdout"}
	want := map[string]string{"on-demand": "true", "on-drift": "true", "refresh-or-train": "true", "tie-wins": "0.05", "refresh": "0.1", "max-age": "1", "decay": "0.05"}
	for _, cmd := range []*cobra.Command{a.retrainCommand(), a.watchCommand(), a.backtestCommand()} {
		for _, n := range names {
			f := cmd.Flags().Lookup(n)
			if f == nil {
				t.Errorf("%s has no --%s", cmd.Name(), n)
				continue
			}
			if w, ok := want[n]; ok && f.DefValue != w {
				t.Errorf("%s --%s defaults to %s; want %s, as the backtest measured", cmd.Name(), n, f.DefValue, w)
			}
		}
	}
}

// TestPolicyFlagsChecked: values out of range are usage errors before
// any data is read, not silently replaced by the defaults.
func TestPolicyFlagsChecked(t *testing.T) {
	for _, args := range [][]string{
		{"retrain", "--name", "x", "--data", "x.csv", "--holdout", "0"},
		{"retrain", "--name", "x", "--data", "x.csv", "--holdout", "1.5"},
		{"retrain", "--name", "x", "--data", "x.csv", "--min-wins", "2"},
		{"watch", "--name", "x", "--dir", ".", "--decay", "NaN"},
		{"backtest", "--data", "x.csv", "--target", "y", "--tie-wins", "-0.1"},
	} {
		var out, errb bytes.Buffer
		if code := run(t.Context(), args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "range") && !strings.Contains(errb.String(), "--holdout 0") {
			t.Errorf("%v: exit %d, %q; want a usage error", args, code, errb.String())
		}
	}
}
