package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/synth"
)

// TestGenSales writes a sales table as CSV and as Parquet: each name reads
// back with the columns and the same content hash as the library's
// table, and bad flags are usage errors. (.csv.gz got plain CSV text and
// .pq CSV text, which tabforge could not read back; .xlsx CSV text.)
func TestGenSales(t *testing.T) {
	dir := t.TempDir()
	var hashes []string
	for _, name := range []string{"sales.csv", "sales.parquet", "sales.csv.gz", "sales.pq"} {
		out := filepath.Join(dir, name)
		code, stdout, stderr := tabforge(t, dir, "gen", "sales", "--rows", "3000", "--seed", "5", "--start", "2023-01-01",
			"--months", "6", "--drift-at", "2023-04", "--out", out, "--json")
		if code != 0 {
			t.Fatalf("gen sales: exit %d\n%s", code, stderr)
		}
		var res struct {
			Rows int    `json:"rows"`
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Rows != 3000 {
			t.Fatalf("gen sales --json: %v %s", err, stdout)
		}
		f, err := frame.ReadFile(out, frame.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.Names(), synth.SalesColumns) || f.NumRows() != 3000 {
			t.Errorf("%s: columns %v, %d rows", name, f.Names(), f.NumRows())
		}
		if f.Hash() != res.Hash {
			t.Errorf("%s reads back with hash %s; gen printed %s", name, f.Hash(), res.Hash)
		}
		hashes = append(hashes, res.Hash)
	}
	if len(slices.Compact(slices.Clone(hashes))) != 1 {
		t.Errorf("CSV and Parquet runs of one seed differ: %v", hashes)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", filepath.Join(dir, "x.csv"), "--drift-at", "2023-13"}, "--drift-at"},
		{[]string{"--out", filepath.Join(dir, "x.csv"), "--start", "yesterday"}, "--start"},
		{[]string{"--out", filepath.Join(dir, "x.csv"), "--rows", "0"}, "positive"},
		{nil, "--out is required"},
		{[]string{"--out", filepath.Join(dir, "x.xlsx")}, `unknown file extension ".xlsx"`},
	} {
		code, _, stderr := tabforge(t, dir, append([]string{"gen", "sales"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("gen sales %v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
