package frame

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/internal/cputime"
)

// BenchmarkReadRows10k reads 10,000 ames rows (the file's rows repeated)
// given as text cells, as the server reads a JSON batch; cpu-ms/op is
// steadier than wall time on a shared machine.
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
	for i := range rows {
		rows[i] = recs[1+i%(len(recs)-1)]
	}
	b.ReportAllocs()
	c0 := cputime.Now()
	for b.Loop() {
		if _, err := ReadRows(recs[0], rows, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Now()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}
