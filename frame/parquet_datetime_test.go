package frame

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

// datetimeFile writes one optional column of node to a Parquet file in
// row groups of 2 rows, so that a row number in an error counts the
// rows of the groups before.
func datetimeFile(t *testing.T, node parquet.Node, vals []parquet.Value) string {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, parquet.NewSchema("t", parquet.Group{"d": parquet.Optional(node)}), parquet.MaxRowsPerRowGroup(2))
	for _, v := range vals {
		if _, err := w.WriteRows([]parquet.Row{{v.Level(0, 1, 0)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "d.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// int96Day is a legacy INT96 timestamp of midnight on Julian day day.
func int96Day(day int32) parquet.Value {
	return parquet.Int96Value(deprecated.Int96{0, 0, uint32(day)})
}

// TestReadParquetDatetimeRange: dates and timestamps outside the years 0
// to 9999, which WriteCSV and WriteParquet refuse, are refused when read,
// naming the row and the year, by ReadParquet and ParquetBlocks alike
// (they were read, and a frame read from a file could not be written
// back, by predict --out for one).
func TestReadParquetDatetimeRange(t *testing.T) {
	const minDay, maxDay = MinUnix / 86400, MaxUnix / 86400 // 0000-01-01 and 9999-12-31
	ms := func(sec int64) parquet.Value { return parquet.Int64Value(sec * 1e3) }
	day := func(d int64) parquet.Value { return parquet.Int32Value(int32(d)) }
	tests := []struct {
		name string
		node parquet.Node
		vals []parquet.Value
		msg  string
	}{
		{"timestamp after 9999", parquet.Timestamp(parquet.Millisecond),
			[]parquet.Value{ms(0), ms(1), {}, ms(MaxUnix), ms(MaxUnix + 1), ms(2)}, `row 5 column "d": datetime outside the supported years 0 to 9999: year 10000`},
		{"timestamp before 0", parquet.Timestamp(parquet.Microsecond),
			[]parquet.Value{parquet.Int64Value((MinUnix - 1) * 1e6)}, `row 1 column "d": datetime outside the supported years 0 to 9999: year -1`},
		{"date before 0", parquet.Date(),
			[]parquet.Value{day(0), day(minDay), day(maxDay), day(minDay - 1)}, `row 4 column "d": datetime outside the supported years 0 to 9999: year -1`},
		{"date far ahead", parquet.Date(),
			[]parquet.Value{day(0), {}, day(2_000_000_000)}, `row 3 column "d": datetime outside the supported years 0 to 9999: year 5477784`},
		{"int96 after 9999", parquet.Leaf(parquet.Int96Type),
			[]parquet.Value{int96Day(julianUnixEpoch), int96Day(julianUnixEpoch + maxDay + 1)}, `row 2 column "d": datetime outside the supported years 0 to 9999: year 10000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := datetimeFile(t, tt.node, tt.vals)
			_, err := ReadParquet(path, ReadOptions{})
			if !errors.Is(err, ErrDatetimeRange) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("ReadParquet() error = %v; want %v with %q", err, ErrDatetimeRange, tt.msg)
			}
			for _, rows := range []int{1, 3, 100} {
				b, berr := OpenParquetBlocks(path, ReadOptions{})
				if berr != nil {
					t.Fatal(berr)
				}
				_, berr = readBlocks(b, rows)
				b.Close()
				if berr == nil || berr.Error() != err.Error() {
					t.Errorf("blocks of %d: error %v; ReadParquet: %v", rows, berr, err)
				}
			}
		})
	}
}

// TestParquetDatetimeLimits: the first and last second of the supported
// years read, and write back as CSV and Parquet to the same frame.
func TestParquetDatetimeLimits(t *testing.T) {
	path := datetimeFile(t, parquet.Timestamp(parquet.Millisecond),
		[]parquet.Value{parquet.Int64Value(MinUnix * 1e3), {}, parquet.Int64Value(MaxUnix * 1e3), parquet.Int64Value(253402214400e3)})
	f, err := ReadParquet(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.Lookup("d")
	if d.Kind != Datetime || d.Num[0] != MinUnix || d.Num[2] != MaxUnix || d.Num[3] != 253402214400 {
		t.Fatalf("read %s %v; want datetimes [%d NaN %d 253402214400] (9999-12-31)", d.Kind, d.Num, int64(MinUnix), int64(MaxUnix))
	}
	for _, name := range []string{"back.csv", "back.parquet"} {
		out := filepath.Join(t.TempDir(), name)
		if err := WriteFile(out, f); err != nil {
			t.Fatalf("WriteFile(%s): %v", name, err)
		}
		g, err := ReadFile(out, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if g.Hash() != f.Hash() {
			e, _ := g.Lookup("d")
			t.Errorf("%s read back %s %v; want %s %v", name, e.Kind, e.Num, d.Kind, d.Num)
		}
	}
}

// TestWriteParquetFarDatetimes: a datetime far from 1970 with a fraction
// of a second is written in the coarsest unit that gives its float64
// back (the nanoseconds of 2500-01-01T00:00:00.100 are float noise; they
// were asked for and refused as outside 1678 to 2261), and reads back
// bit for bit.
func TestWriteParquetFarDatetimes(t *testing.T) {
	texts := []string{"2500-01-01T00:00:00.100Z", "1500-06-01T12:00:00.250Z", "9000-01-01T00:00:00.000001Z", "2020-01-01T00:00:00.000000001Z"}
	f, err := ReadCSV(strings.NewReader("d\n"+strings.Join(texts, "\n")+"\n"), ReadOptions{Schema: map[string]Kind{"d": Datetime}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "far.parquet")
	if err := WriteParquet(path, f); err != nil {
		t.Fatalf("WriteParquet: %v", err)
	}
	g, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, got := f.Columns()[0].Num, g.Columns()[0].Num
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s read back as %v; want %v", texts[i], got[i], want[i])
		}
	}
}

// TestWriteParquetCivilRange: a datetime whose instant is in range but
// whose civil time in its UTC offset is not is refused, as WriteCSV
// refuses it; it was written, and a file WriteParquet wrote could not be
// written as CSV.
func TestWriteParquetCivilRange(t *testing.T) {
	f := MustNew(NewDatetimeOffsets("d", []float64{0, MaxUnix - 3600}, []int32{0, 7200}))
	if err := WriteCSV(io.Discard, f); err == nil {
		t.Fatal("WriteCSV wrote a civil time in year 10000")
	}
	err := WriteParquet(filepath.Join(t.TempDir(), "civil.parquet"), f)
	if err == nil || !strings.Contains(err.Error(), `row 2 column "d": datetime 9999-12-31T22:59:59Z at UTC offset +02:00 is outside`) {
		t.Errorf("WriteParquet: %v; want an error naming row 2 of d", err)
	}
}
