package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/monitor"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestDriftRecord: drift --record keeps the report in --store, where the
// dashboard's /monitor reads it; without --record nothing is kept.
func TestDriftRecord(t *testing.T) {
	dir := t.TempDir()
	f, err := frame.ReadFile(testdata("txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	year, _ := f.Lookup("year")
	var early, late []int
	for i, y := range year.Num {
		if y <= 2004 {
			early = append(early, i)
		} else if y >= 2011 {
			late = append(late, i)
		}
	}
	ref, cur := writeRows(t, dir, "early.csv", f, early), writeRows(t, dir, "late.csv", f, late)
	if code, _, errs := cli(t, dir, "drift", "--reference", ref, "--current", cur); code != 0 {
		t.Fatalf("drift: %d %s", code, errs)
	}
	if code, _, errs := cli(t, dir, "drift", "--reference", ref, "--current", cur, "--record"); code != 0 {
		t.Fatalf("drift --record: %d %s", code, errs)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := monitor.List(context.Background(), st, monitor.DriftKind, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0].Title, "early.csv → ") || !strings.Contains(string(got[0].Report), `"dataset_drift":true`) {
		t.Fatalf("recorded drift reports %+v; want the one --record run, drifted", got)
	}
}
