package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
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

// TestGenWriteStops: gen's write stops when its context is done (Ctrl-C,
// SIGTERM), leaving no file and no temporary one behind. It went on to
// write every row and reported success: on a large table, where the
// write takes most of the time, Ctrl-C was ignored.
func TestGenWriteStops(t *testing.T) {
	f, err := synth.Sales(context.Background(), synth.SalesParams{Rows: 2000, Seed: 1, Months: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"sales.csv", "sales.csv.gz"} {
		dir := t.TempDir()
		if err := writeGenerated(ctx, filepath.Join(dir, name), f); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: writeGenerated after cancel = %v; want context.Canceled", name, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: a stopped write left %v", name, entries)
		}
	}
}
