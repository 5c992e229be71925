package frame

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/internal/cputime"
)

// BenchmarkReadRows10k reads 10,000 ames rows (the file's rows repeated)
// given as text cells, as the server reads a JSON batch, row by row and
// column by column; cpu-ms/op is steadier than wall time on a shared
// machine.
func BenchmarkReadRows10k(b *testing.B) {
	fh, err := os.Open(filepath.Join(testdataDir, "ames.csv"))
	if err != nil {
		b.Fatal(err)
	}
	recs, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil {
		b.Fatal(err)
	}
	rows := make([][]string, 10_000)
	cells := make([][]string, len(recs[0]))
	for i := range rows {
		rows[i] = recs[1+i%(len(recs)-1)]
		for j, s := range rows[i] {
			cells[j] = append(cells[j], s)
		}
	}
	f, err := ReadRows(recs[0], rows, ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	text := textColumns(cells)
	pinned := ReadOptions{Schema: map[string]Kind{}} // as a predictor reads its inputs
	for _, c := range f.Columns() {
		pinned.Schema[c.Name] = c.Kind
	}
	read := map[string]func() (*Frame, error){
		"rows":           func() (*Frame, error) { return ReadRows(recs[0], rows, ReadOptions{}) },
		"columns":        func() (*Frame, error) { return ReadTextColumns(recs[0], text, ReadOptions{}) },
		"columns/pinned": func() (*Frame, error) { return ReadTextColumns(recs[0], text, pinned) },
	}
	benchReads(b, []string{"rows", "columns", "columns/pinned"}, read)
}

// BenchmarkReadCSV10k reads 10,000 ames rows (the file's rows repeated)
// as CSV text, as the server reads a text/csv batch: serially (ReadCSV)
// and in pieces (ReadCSVBytes), with the kinds pinned as a predictor
// reads its inputs.
func BenchmarkReadCSV10k(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "ames.csv"))
	if err != nil {
		b.Fatal(err)
	}
	header, body, _ := bytes.Cut(data, []byte{'\n'})
	lines := bytes.SplitAfter(bytes.TrimSuffix(body, []byte{'\n'}), []byte{'\n'})
	text := append(bytes.Clone(header), '\n')
	for i := range 10_000 {
		text = append(text, bytes.TrimSuffix(lines[i%len(lines)], []byte{'\n'})...)
		text = append(text, '\n')
	}
	f, err := ReadCSV(bytes.NewReader(text), ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	pinned := ReadOptions{Schema: f.KindMap()}
	read := map[string]func() (*Frame, error){
		"serial": func() (*Frame, error) { return ReadCSV(bytes.NewReader(text), pinned) },
		"bytes":  func() (*Frame, error) { return ReadCSVBytes(text, pinned) },
	}
	benchReads(b, []string{"serial", "bytes"}, read)
}

// benchReads runs each named read as a sub-benchmark, in the given
// order, reporting allocations and CPU time per read.
func benchReads(b *testing.B, names []string, read map[string]func() (*Frame, error)) {
	for _, by := range names {
		b.Run(by, func(b *testing.B) {
			b.ReportAllocs()
			c0 := cputime.Now()
			for b.Loop() {
				if _, err := read[by](); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Now()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
