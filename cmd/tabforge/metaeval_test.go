package main

import (
	"strings"
	"testing"

	"github.com/tabforge/tabforge/meta"
)

// TestPrintWarmReach checks the REACH column of meta eval -v: a warm study
// that never matched cold's best printed 0, as if it had after no trial.
func TestPrintWarmReach(t *testing.T) {
	r := &meta.WarmReport{Trials: 2, Checkpoints: []int{2}, ColdMean: []float64{0.5}, WarmMean: []float64{0.5}, Rows: []meta.WarmRow{
		{Name: "reached", Cold: []float64{1, 2}, Warm: []float64{2, 2}, Reach: 1, ColdAt: []float64{1}, WarmAt: []float64{1}},
		{Name: "never", Cold: []float64{1, 2}, Warm: []float64{1, 1}, ColdAt: []float64{1}, WarmAt: []float64{0}},
		{Name: "far", Far: true, Cold: []float64{1, 2}, Warm: []float64{1, 2}, Reach: 2},
		{Name: "failed", Err: "boom"},
	}}
	var b strings.Builder
	if err := printWarm(&b, r, true); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"reached": "1", "never": "never", "far": "-", "failed": "-"}
	seen := 0
	for line := range strings.Lines(b.String()) {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		if w, ok := want[f[0]]; ok {
			seen++
			if f[2] != w {
				t.Errorf("%s: REACH %q; want %q (line %q)", f[0], f[2], w, line)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of %d dataset rows in:\n%s", seen, len(want), b.String())
	}
}
