package frame

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFileReadsBack: WriteFile writes the format ReadFile reads the
// name in, so every name it accepts reads back to the same frame, and it
// refuses (writing nothing) a name ReadFile would refuse. Writers chose
// by ".parquet" alone: x.csv.gz got plain CSV ("gzip: invalid header"
// on reading), x.pq CSV text ("not a parquet file"), x.xlsx CSV text.
func TestWriteFileReadsBack(t *testing.T) {
	f, err := New(
		NewNumeric("x", []float64{1.5, 2, -3}),
		NewCategoricalFromStrings("c", []string{"a", "", "b,c"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"f.csv", "f.csv.gz", "f.CSV.GZ", "f.parquet", "f.pq", "f.PQ"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, f); err != nil {
			t.Fatalf("WriteFile(%s) = %v", name, err)
		}
		got, err := ReadFile(path, ReadOptions{})
		if err != nil {
			t.Fatalf("ReadFile(%s) of WriteFile's output = %v", name, err)
		}
		if got.Hash() != f.Hash() {
			t.Errorf("%s: read back hash %s; want %s", name, got.Hash(), f.Hash())
		}
	}
	for _, name := range []string{"f.xlsx", "f.tsv", "f.json", "f", "f.gz"} {
		path := filepath.Join(dir, name)
		err := WriteFile(path, f)
		if err == nil || !strings.Contains(err.Error(), "unknown file extension") || !strings.Contains(err.Error(), ".csv.gz") {
			t.Errorf("WriteFile(%s) = %v; want an unknown-extension error listing the formats", name, err)
		}
		if _, serr := os.Stat(path); serr == nil {
			t.Errorf("WriteFile(%s) refused the name but wrote the file", name)
		}
		if CheckOutputName(path) == nil {
			t.Errorf("CheckOutputName(%s) = nil; want the error WriteFile gave", name)
		}
	}
}
