package frame

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestParquetRoundTrip reads each dataset from CSV, writes Parquet, reads
// it back: the content hash must not change.
func TestParquetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"txhousing.csv", "credit_data.csv", "ames.csv", "mlc_churn.csv"} {
		t.Run(name, func(t *testing.T) {
			f := readTestdata(t, name)
			path := filepath.Join(dir, strings.TrimSuffix(name, ".csv")+".parquet")
			if err := WriteParquet(path, f); err != nil {
				t.Fatal(err)
			}
			g, err := ReadFile(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := g.Hash(), f.Hash(); got != want {
				t.Errorf("hash after Parquet round trip = %s; want %s", got, want)
			}
		})
	}
}

func TestParquetRoundTripEdgeCases(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		f    *Frame
	}{
		{"missing everywhere", MustNew(
			NewNumeric("x", []float64{nan, 1, nan}),
			NewCategoricalFromStrings("c", []string{"", "", ""}),
			NewDatetime("d", []float64{nan, nan, nan}),
		)},
		{"fractional datetimes", MustNew(NewDatetime("d", []float64{946684800.5, 946684800.001, -1.25, 0}))},
		{"nanosecond datetimes", MustNew(NewDatetime("d", []float64{unixFloat(1700000000, 123456789), unixFloat(-86400*365, 1)}))},
		{"non-ASCII and empty labels", MustNew(NewCategorical("c", []int32{0, 1, -1, 2}, []string{"", "日本", "é"}))},
		{"unused levels", MustNew(NewCategorical("c", []int32{2, 2}, []string{"a", "b", "c"}))},
		{"many rows across pages", func() *Frame {
			n := 3*(1<<16) + 17
			x := make([]float64, n)
			labels := make([]string, n)
			for i := range x {
				x[i] = float64(i) * 0.5
				if i%7 == 0 {
					x[i] = nan
				}
				labels[i] = string(rune('a' + i%300))
				if i%11 == 0 {
					labels[i] = ""
				}
			}
			return MustNew(NewNumeric("x", x), NewCategoricalFromStrings("c", labels))
		}()},
		{"zero rows", MustNew(NewNumeric("x", []float64{}))},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "f.parquet")
			if err := WriteParquet(path, tt.f); err != nil {
				t.Fatal(err)
			}
			g, err := ReadParquet(path, ReadOptions{})
			if tt.f.NumRows() == 0 {
				if !errors.Is(err, ErrNoRows) {
					t.Fatalf("ReadParquet error = %v; want ErrNoRows", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.Hash() != tt.f.Hash() {
				t.Errorf("hash changed in Parquet round trip")
			}
		})
	}
}

func TestWriteParquetErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		f    *Frame
		msg  string
	}{
		{"infinite", MustNew(NewNumeric("x", []float64{1, math.Inf(-1)})), `row 2 column "x": infinite value`},
		{"datetime range", MustNew(NewDatetime("d", []float64{1e15})), `column "d"`},
		{"nanoseconds out of range", MustNew(NewDatetime("d", []float64{unixFloat(9.5e9, 0), 0.5e-6 + 1})), "needs nanoseconds"},
		{"no columns", MustNew(), "no columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.parquet")
			err := WriteParquet(path, tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("WriteParquet error = %v; want %q", err, tt.msg)
			}
			if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("failed write left %s behind (stat: %v)", path, statErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("failed write left temporary files: %v", entries)
			}
		})
	}
}

func TestParquetSchemaOverride(t *testing.T) {
	f := readTestdata(t, "txhousing.csv")
	path := filepath.Join(t.TempDir(), "tx.parquet")
	if err := WriteParquet(path, f); err != nil {
		t.Fatal(err)
	}
	schema := map[string]Kind{"year": Categorical, "date": Categorical}
	g, err := ReadParquet(path, ReadOptions{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadFile(filepath.Join(testdataDir, "txhousing.csv"), ReadOptions{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if g.Hash() != h.Hash() {
		t.Errorf("schema override: Parquet and CSV reads differ")
	}
	year, _ := g.Lookup("year")
	if year.Kind != Categorical || year.Label(0) != "2000" {
		t.Errorf("year: kind %v, first label %q; want categorical \"2000\"", year.Kind, year.Label(0))
	}
	for _, tt := range []struct {
		schema map[string]Kind
		msg    string
	}{
		{map[string]Kind{"city": Numeric}, `column "city": not a number: "Abilene"`},
		{map[string]Kind{"nope": Numeric}, `schema names column "nope"`},
	} {
		if _, err := ReadParquet(path, ReadOptions{Schema: tt.schema}); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ReadParquet(schema %v) error = %v; want %q", tt.schema, err, tt.msg)
		}
	}
}

// TestReadParquetForeign reads files written by other Parquet
// implementations, from apache/parquet-testing (commit 1a2a751, data/;
// Apache License 2.0), see testdata/README.md.
func TestReadParquetForeign(t *testing.T) {
	// alltypes_plain*.parquet (written by Impala) hold 8 rows; the values
	// below are those documented by the Arrow and DataFusion test suites
	// that use these files: id = 4,5,6,7,2,3,0,1, bool_col = id is even,
	// int_col = id%2, double_col = 10.1*(id%2), string_col = "0"/"1",
	// timestamp_col = 2009-03-01T00:00:00Z, then one minute later, ...
	for _, tt := range []struct {
		name string
		ids  []float64
	}{
		{"alltypes_plain.parquet", []float64{4, 5, 6, 7, 2, 3, 0, 1}}, // PLAIN, uncompressed
		{"alltypes_plain.snappy.parquet", []float64{6, 7}},            // SNAPPY
		{"alltypes_dictionary.parquet", []float64{0, 1}},              // dictionary pages
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadFile(filepath.Join("testdata", tt.name), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if f.NumCols() != 11 || f.NumRows() != len(tt.ids) {
				t.Fatalf("shape %d×%d; want %d×11", f.NumRows(), f.NumCols(), len(tt.ids))
			}
			id, _ := f.Lookup("id")
			boolCol, _ := f.Lookup("bool_col")
			intCol, _ := f.Lookup("int_col")
			dbl, _ := f.Lookup("double_col")
			date, _ := f.Lookup("date_string_col")
			str, _ := f.Lookup("string_col")
			ts, _ := f.Lookup("timestamp_col")
			if id.Kind != Numeric || boolCol.Kind != Categorical || str.Kind != Categorical || ts.Kind != Datetime {
				t.Fatalf("kinds %v", f.Schema())
			}
			for i, k := range tt.ids {
				odd := math.Mod(k, 2)
				wantBool, wantStr := "true", "0"
				if odd == 1 {
					wantBool, wantStr = "false", "1"
				}
				if id.Num[i] != k || boolCol.Label(i) != wantBool || intCol.Num[i] != odd || dbl.Num[i] != 10.1*odd || str.Label(i) != wantStr {
					t.Errorf("row %d: id %v bool %q int %v double %v string %q; want id %v", i, id.Num[i], boolCol.Label(i), intCol.Num[i], dbl.Num[i], str.Label(i), k)
				}
				// timestamp_col is date_string_col (MM/DD/YY) plus id%2 minutes.
				d := date.Label(i)
				day, ok := parseDatetime("20" + d[6:8] + "-" + d[0:2] + "-" + d[3:5])
				if want := day + 60*odd; !ok || ts.Num[i] != want {
					t.Errorf("row %d: timestamp %v; want %v (date %q)", i, ts.Num[i], want, d)
				}
			}
		})
	}
}

// TestReadParquetInt96: int96_from_spark.parquet holds Spark 3.4.3 INT96
// timestamps; its README lists the inputs. Rows 2-4 carry explicit
// zones, so their instants do not depend on the Spark session's time
// zone; row 5 is null; row 6, year 290000, overflowed as Spark wrote it
// (year -294554 read as written), outside the years 0 to 9999, which
// refuses the file. A block of the rows before it reads.
func TestReadParquetInt96(t *testing.T) {
	path := filepath.Join("testdata", "int96_from_spark.parquet")
	_, err := ReadParquet(path, ReadOptions{})
	if msg := `row 6 column "a": datetime outside the supported years 0 to 9999: year -294554`; !errors.Is(err, ErrDatetimeRange) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("ReadParquet() error = %v; want %q", err, msg)
	}
	b, err := OpenParquetBlocks(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f, err := b.Next(5)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Col(0)
	want := map[int]string{
		0: "2024-01-01T20:34:56.123456Z",
		1: "2024-01-01T01:00:00Z",
		2: "9999-12-31T03:00:00Z", // 9999-12-31T01:00:00-02:00
		3: "2024-12-30T23:00:00Z", // 2024-12-31T01:00:00+02:00
	}
	for i, s := range want {
		v, _ := parseDatetime(s)
		if a.Num[i] != v {
			t.Errorf("row %d = %v; want %v (%s)", i, a.Num[i], v, s)
		}
	}
	if a.Kind != Datetime || f.NumRows() != 5 || !a.IsMissing(4) {
		t.Errorf("kind %v, %d rows, row 4 missing %v; want datetime, 5, true", a.Kind, f.NumRows(), a.IsMissing(4))
	}
	if _, err := b.Next(5); !errors.Is(err, ErrDatetimeRange) {
		t.Errorf("second block: error %v; want %v", err, ErrDatetimeRange)
	}
}

func TestReadParquetErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	if err := WriteParquet(good, MustNew(NewNumeric("x", []float64{1, 2, 3}), NewCategoricalFromStrings("c", []string{"a", "b", "a"}))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		target     error
		msg        string
	}{
		{"nested list", filepath.Join("testdata", "datapage_v2.snappy.parquet"), ErrUnsupported, "nested"},
		{"nested struct", filepath.Join("testdata", "nulls.snappy.parquet"), ErrUnsupported, "nested"},
		{"not parquet", write("text.parquet", []byte("a,b\n1,2\n3,4\n")), nil, "not a parquet file"},
		{"too short", write("short.parquet", []byte("PAR1")), nil, "not a parquet file"},
		{"truncated", write("trunc.parquet", append(data[:len(data)/2:len(data)/2], data[len(data)-8:]...)), nil, "footer"},
		{"cut short", write("cut.parquet", data[:len(data)-3]), errCorrupt, "truncated: it starts with the PAR1 magic but does not end with it"},
		{"cut in half", write("half.parquet", data[:len(data)/2]), errCorrupt, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFile(tt.path, ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("ReadFile(%s) error = %v; want one naming the file and %q", tt.path, err, tt.msg)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %v is not %v", err, tt.target)
			}
		})
	}
}

// FuzzReadParquet checks that no byte sequence makes ReadParquet panic
// (the Parquet library may panic on hostile input; readParquetFrom recovers), that
// accepted input gives equally long columns, and that ParquetBlocks reads
// what ReadParquet reads or fails with its error.
//
// The fuzzer minimizes each new input for up to -fuzzminimizetime (60 s)
// and counts no execs meanwhile, so the first minute shows about 10
// execs; -fuzzminimizetime=100x shows the search moving at once.
func FuzzReadParquet(f *testing.F) {
	for _, name := range []string{"alltypes_plain.parquet", "alltypes_plain.snappy.parquet", "alltypes_dictionary.parquet", "rle_dictionary_page.parquet"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range runBombSeeds(f) {
		f.Add(b)
	}
	seed := MustNew(
		NewNumeric("x", []float64{1, math.NaN(), 3}),
		NewCategoricalFromStrings("c", []string{"a", "", "b"}),
		NewDatetime("d", []float64{1.5, 0, math.NaN()}),
	)
	for _, codec := range []compress.Codec{&parquet.Zstd, &parquet.Uncompressed} {
		var buf bytes.Buffer
		if err := writeParquetTo(&buf, seed, codec, rowGroupRows); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()-3]) // cut short: no end magic
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := readParquetFrom(bytes.NewReader(b), int64(len(b)), ReadOptions{})
		sameParquetBlocks(t, b, fr, err)
		if err != nil {
			return
		}
		for _, c := range fr.Columns() {
			if c.Len() != fr.NumRows() {
				t.Fatalf("column %q has %d values; frame has %d rows", c.Name, c.Len(), fr.NumRows())
			}
		}
	})
}

// BenchmarkReadParquet reads txhousing (8,602 rows, a categorical city,
// numbers and a date) from a ZSTD Parquet file.
func BenchmarkReadParquet(b *testing.B) {
	path := filepath.Join(b.TempDir(), "tx.parquet")
	if err := WriteParquet(path, readTestdata(b, "txhousing.csv")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadParquet(path, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteParquet(b *testing.B) {
	f := readTestdata(b, "txhousing.csv")
	b.ReportAllocs()
	for b.Loop() {
		if err := writeParquetTo(io.Discard, f, &parquet.Zstd, rowGroupRows); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParquetSchemaMissingTokens converts Parquet string columns to
// numbers and datetimes, as a saved model's schema does at predict time:
// "" and "NA" are missing, as they are in the same text read from CSV
// (the conversion read them as values that are not numbers, so a file
// the CSV reader took was refused as Parquet).
func TestParquetSchemaMissingTokens(t *testing.T) {
	f, err := New(
		NewCategorical("x", []int32{0, 1, 2, 3, 4}, []string{"1.5", "", "NA", "null", "2"}),
		NewCategorical("d", []int32{0, 1, 2, 1, 0}, []string{"2024-01-02", "", "N/A"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.parquet")
	if err := WriteParquet(path, f); err != nil {
		t.Fatal(err)
	}
	csvText := "x,d\n1.5,2024-01-02\n,\nNA,N/A\nnull,\n2,2024-01-02\n"
	schema := map[string]Kind{"x": Numeric, "d": Datetime}
	for _, tt := range []struct {
		name    string
		missing []string
		err     string // "" for success
	}{
		{"default tokens", nil, ""},
		{"no tokens", []string{}, `column "x": not a number: ""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := ReadOptions{Schema: schema, Missing: tt.missing}
			pq, err := ReadParquet(path, opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ReadParquet() error = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fromCSV, err := ReadCSV(strings.NewReader(csvText), opts)
			if err != nil {
				t.Fatal(err)
			}
			if pq.Hash() != fromCSV.Hash() {
				x, _ := pq.Lookup("x")
				t.Errorf("Parquet x = %v; want the CSV read of the same text, [1.5 NaN NaN NaN 2]", x.Num)
			}
		})
	}
}
