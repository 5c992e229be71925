package main

import (
	"context"
	"encoding/json"
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
	code, out, errs := cli(t, dir, "drift", "--reference", ref, "--current", cur, "--record")
	if code != 0 {
		t.Fatalf("drift --record: %d %s", code, errs)
	}
	code, jsonOut, errs := cli(t, dir, "drift", "--reference", ref, "--current", cur, "--record", "--json")
	if code != 0 {
		t.Fatalf("drift --record --json: %d %s", code, errs)
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
	if len(got) != 2 || !strings.Contains(got[1].Title, "early.csv → ") || !strings.Contains(string(got[1].Report), `"dataset_drift":true`) {
		t.Fatalf("recorded drift reports %+v; want the two --record runs, drifted", got)
	}
	// The text run (older, listed second) says where its report went and
	// how to see it; the JSON run names its record's key.
	url := "sqlite://" + filepath.Join(dir, "tf.db")
	want := "recorded this drift report in " + url + " as monitor.drift " + got[1].Key + "; see it with tabforge ui --store " + url + " (page /monitor)\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("drift --record printed %q at the end; want %q", lastLine(out), want)
	}
	var j struct {
		DatasetDrift bool `json:"dataset_drift"`
		Record       struct{ Store, Kind, Key string }
	}
	if err := json.Unmarshal([]byte(jsonOut), &j); err != nil {
		t.Fatalf("drift --record --json: %v in %q", err, jsonOut)
	}
	if !j.DatasetDrift || j.Record.Key != got[0].Key || j.Record.Kind != monitor.DriftKind || j.Record.Store != url {
		t.Errorf("drift --record --json = %+v; want the drifted report and record {%s %s %s}", j, url, monitor.DriftKind, got[0].Key)
	}
}
