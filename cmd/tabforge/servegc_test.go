package main

import (
	"runtime/debug"
	"testing"

	"github.com/spf13/pflag"
)

// TestSetGCPercent checks that serve's --gc-percent applies by default,
// that a GOGC the user exported wins over the default, and that the
// flag, once given, wins over GOGC.
func TestSetGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gogc  string
		flags []string
		want  int
	}{
		{"default", "", nil, serverGCPercent},
		{"GOGC exported", "150", nil, 77}, // untouched: stays at what the test set
		{"flag over GOGC", "150", []string{"--gc-percent", "250"}, 250},
		{"flag", "", []string{"--gc-percent", "-1"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := debug.SetGCPercent(77)
			defer debug.SetGCPercent(prev)
			t.Setenv("GOGC", tc.gogc)
			f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			var pct int
			gcPercentFlag(f, &pct)
			if err := f.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			setGCPercent(f, pct)
			if got := debug.SetGCPercent(77); got != tc.want {
				t.Errorf("GC percent %d, want %d", got, tc.want)
			}
		})
	}
}
