package frame

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testdataDir holds the repository's shared datasets (/work/main/testdata).
const testdataDir = "../testdata"

func readTestdata(t testing.TB, name string) *Frame {
	t.Helper()
	f, err := ReadFile(filepath.Join(testdataDir, name), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReadTestdata checks shapes, kinds and missing counts against the
// figures documented in the datasets' README (shared/datasets/README.md).
func TestReadTestdata(t *testing.T) {
	type colWant struct {
		kind    Kind
		missing int
		levels  int // categorical only; 0 = not checked
	}
	tests := []struct {
		file       string
		rows, cols int
		want       map[string]colWant
	}{
		{"txhousing.csv", 8602, 9, map[string]colWant{
			"city":      {Categorical, 0, 46},
			"year":      {Numeric, 0, 0},
			"sales":     {Numeric, 568, 0},
			"volume":    {Numeric, 568, 0},
			"median":    {Numeric, 616, 0},
			"listings":  {Numeric, 1424, 0},
			"inventory": {Numeric, 1467, 0},
			"date":      {Datetime, 0, 0},
		}},
		{"credit_data.csv", 4454, 14, map[string]colWant{
			"Status":  {Categorical, 0, 2},
			"Income":  {Numeric, 381, 0},
			"Assets":  {Numeric, 47, 0},
			"Debt":    {Numeric, 18, 0},
			"Home":    {Categorical, 6, 0},
			"Job":     {Categorical, 2, 0},
			"Marital": {Categorical, 1, 0},
		}},
		{"ames.csv", 2930, 74, map[string]colWant{
			"Neighborhood": {Categorical, 0, 28},
			"Sale_Price":   {Numeric, 0, 0},
			"Longitude":    {Numeric, 0, 0},
		}},
		{"mlc_churn.csv", 5000, 20, map[string]colWant{
			"state":     {Categorical, 0, 51},
			"area_code": {Categorical, 0, 3},
			"churn":     {Categorical, 0, 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := readTestdata(t, tt.file)
			if f.NumRows() != tt.rows || f.NumCols() != tt.cols {
				t.Fatalf("shape = %d×%d; want %d×%d", f.NumRows(), f.NumCols(), tt.rows, tt.cols)
			}
			sum := map[string]Summary{}
			for _, s := range f.Describe() {
				sum[s.Name] = s
			}
			for name, w := range tt.want {
				s, ok := sum[name]
				if !ok {
					t.Fatalf("no column %q", name)
				}
				if s.Kind != w.kind || s.Missing != w.missing {
					t.Errorf("%s: kind %v, %d missing; want %v, %d", name, s.Kind, s.Missing, w.kind, w.missing)
				}
				if w.levels > 0 && s.Distinct != w.levels {
					t.Errorf("%s: %d levels; want %d", name, s.Distinct, w.levels)
				}
			}
			for _, c := range f.Columns() {
				if c.Len() != tt.rows {
					t.Errorf("%s has %d values; want %d", c.Name, c.Len(), tt.rows)
				}
			}
		})
	}
}

func TestReadTxhousingValues(t *testing.T) {
	f := readTestdata(t, "txhousing.csv")
	date, _ := f.Lookup("date")
	// First data row: "Abilene",2000,1,72,5380000,71400,701,6.3,"2000-01-01".
	if got, want := date.Num[0], 946684800.0; got != want { // 2000-01-01T00:00:00Z
		t.Errorf("date[0] = %v; want %v", got, want)
	}
	median, _ := f.Lookup("median")
	if median.Num[0] != 71400 {
		t.Errorf("median[0] = %v; want 71400", median.Num[0])
	}
	city, _ := f.Lookup("city")
	if city.Label(0) != "Abilene" {
		t.Errorf("city[0] = %q; want Abilene", city.Label(0))
	}
	if !slices.IsSorted(city.Levels) {
		t.Errorf("levels not sorted: %q", city.Levels)
	}
}

// mustRead reads CSV text or fails the test.
func mustRead(t *testing.T, text string, opts ReadOptions) *Frame {
	t.Helper()
	f, err := ReadCSV(strings.NewReader(text), opts)
	if err != nil {
		t.Fatalf("ReadCSV(%q) error: %v", text, err)
	}
	return f
}

func TestReadCSVParsing(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		text string
		opts ReadOptions
		want *Frame
	}{
		{"plain", "a,b\n1,x\n2,y\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, 2}), NewCategoricalFromStrings("b", []string{"x", "y"}))},
		{"no final newline", "a,b\n1,x\n2,y", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, 2}), NewCategoricalFromStrings("b", []string{"x", "y"}))},
		{"quoted with comma, quote and newline", "a,b\n\"x,1\",\"say \"\"hi\"\"\"\n\"line1\nline2\",z\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("a", []string{"x,1", "line1\nline2"}), NewCategoricalFromStrings("b", []string{`say "hi"`, "z"}))},
		{"CRLF", "a,b\r\n1,x\r\n2,y\r\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, 2}), NewCategoricalFromStrings("b", []string{"x", "y"}))},
		{"CR only (classic Mac OS)", "a,b\r1,x\r\"2\",y\r", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, 2}), NewCategoricalFromStrings("b", []string{"x", "y"}))},
		{"BOM", "\uFEFFa,b\n1,x\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1}), NewCategoricalFromStrings("b", []string{"x"}))},
		{"quoted header", "\"a\",\"b c\"\n1,2\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1}), NewNumeric("b c", []float64{2}))},
		{"missing tokens", "a,b\n1,x\n,NA\nNaN,nan\nnull,NULL\nN/A,y\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, nan, nan, nan, nan}), NewCategoricalFromStrings("b", []string{"x", "", "", "", "y"}))},
		{"custom missing", "a,b\n1,x\n-999,?\nNA,y\n", ReadOptions{Missing: []string{"-999", "?"}},
			MustNew(NewCategoricalFromStrings("a", []string{"1", "", "NA"}), NewCategoricalFromStrings("b", []string{"x", "", "y"}))},
		{"all missing is numeric", "a,b\n,1\nNA,2\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{nan, nan}), NewNumeric("b", []float64{1, 2}))},
		{"numbers", "a\n1\n-2.5\n+3e2\n.5\n1E-3\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, -2.5, 300, 0.5, 0.001}))},
		{"hex and underscores stay text", "a,b\n0x1p3,1_000\n1,2\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("a", []string{"0x1p3", "1"}), NewCategoricalFromStrings("b", []string{"1_000", "2"}))},
		{"spaces are kept", "a\n 1\n2\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("a", []string{" 1", "2"}))},
		{"datetimes", "d,t,u,v\n2000-01-01,2000-01-01T00:00:01Z,2000-01-01 00:00:02,2000-01-01T00:00:03\n,2000-01-01T01:00:00+01:00,,2000-01-02T00:00:00.5\n", ReadOptions{},
			MustNew(NewDatetime("d", []float64{946684800, nan}), NewDatetimeOffsets("t", []float64{946684801, 946684800}, []int32{0, 3600}),
				NewDatetime("u", []float64{946684802, nan}), NewDatetime("v", []float64{946684803, 946771200.5}))},
		// 2019-01-01T00:00Z is 1546300800; pandas' to_datetime reads each of these as the same instants.
		{"timestamps without seconds", "a,b,c,d\n2019-01-01 00:00,2019-01-01T13:45,2019-01-01T13:45+01:00,2019/01/02 13:45\n" +
			"2019-01-01 13:45,2019-01-01T00:00Z,2019-01-01 13:45Z,2019/01/02\n,,,2019/01/02 13:45:30.5\n", ReadOptions{},
			MustNew(NewDatetime("a", []float64{1546300800, 1546350300, nan}), NewDatetime("b", []float64{1546350300, 1546300800, nan}),
				NewDatetimeOffsets("c", []float64{1546346700, 1546350300, nan}, []int32{3600, 0, 0}),
				NewDatetime("d", []float64{1546436700, 1546387200, 1546436730.5}))},
		{"day or month first stays text", "d\n01/02/2019 13:45\n02/01/2019 00:00\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("d", []string{"01/02/2019 13:45", "02/01/2019 00:00"}))},
		{"bad minute timestamps are text", "a,b\n2019-01-01 24:30,2019/13/01\n2019-01-01 13:4,2019/01/01T00:00\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("a", []string{"2019-01-01 24:30", "2019-01-01 13:4"}),
				NewCategoricalFromStrings("b", []string{"2019/13/01", "2019/01/01T00:00"}))},
		{"legacy datetimes leave timestamps without seconds text", "a,b,c\n2019-01-01 00:00,2019/01/02,2019-01-01 00:00:01\n",
			ReadOptions{LegacyDatetimes: true},
			MustNew(NewCategoricalFromStrings("a", []string{"2019-01-01 00:00"}), NewCategoricalFromStrings("b", []string{"2019/01/02"}),
				NewDatetime("c", []float64{1546300801}))},
		{"legacy datetimes under a schema", "a\n2019-01-01 00:00\n", ReadOptions{LegacyDatetimes: true, Schema: map[string]Kind{"a": Datetime}},
			MustNew(NewDatetime("a", []float64{1546300800}))},
		{"dates mixed with text are categorical", "d\n2000-01-01\nsoon\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("d", []string{"2000-01-01", "soon"}))},
		{"numbers mixed with text are categorical", "a\n1\nx\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("a", []string{"1", "x"}))},
		{"infinity among text is a label", "a\nInf\nx\n", ReadOptions{},
			MustNew(NewCategoricalFromStrings("a", []string{"Inf", "x"}))},
		{"semicolon", "a;b\n1;x\n", ReadOptions{Comma: ';'},
			MustNew(NewNumeric("a", []float64{1}), NewCategoricalFromStrings("b", []string{"x"}))},
		{"blank lines skipped", "a\n1\n\n2\n", ReadOptions{},
			MustNew(NewNumeric("a", []float64{1, 2}))},
		{"schema categorical", "area_code,x\n415,1\n408,2\n415,3\n", ReadOptions{Schema: map[string]Kind{"area_code": Categorical}},
			MustNew(NewCategoricalFromStrings("area_code", []string{"415", "408", "415"}), NewNumeric("x", []float64{1, 2, 3}))},
		{"schema numeric", "a\n1\nNA\n", ReadOptions{Schema: map[string]Kind{"a": Numeric}},
			MustNew(NewNumeric("a", []float64{1, nan}))},
		{"schema datetime on all missing", "a,b\n,1\n", ReadOptions{Schema: map[string]Kind{"a": Datetime}},
			MustNew(NewDatetime("a", []float64{nan}), NewNumeric("b", []float64{1}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRead(t, tt.text, tt.opts)
			if !slices.Equal(got.Names(), tt.want.Names()) {
				t.Fatalf("names = %q; want %q", got.Names(), tt.want.Names())
			}
			for i, c := range got.Columns() {
				w := tt.want.Col(i)
				if c.Kind != w.Kind {
					t.Errorf("%s: kind %v; want %v", c.Name, c.Kind, w.Kind)
				}
				if c.Kind == Categorical && !slices.IsSorted(c.Levels) {
					t.Errorf("%s: levels %q not sorted", c.Name, c.Levels)
				}
			}
			if got.Hash() != tt.want.Hash() {
				var buf bytes.Buffer
				WriteCSV(&buf, got) //nolint:errcheck // diagnostics only
				t.Errorf("ReadCSV(%q) read as\n%s", tt.text, buf.String())
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		opts   ReadOptions
		target error  // errors.Is target; nil = not checked
		line   int    // ParseError.Line; 0 = not checked
		row    int    // ParseError.Row; 0 = not checked
		column string // ParseError.Column; "" = not checked
		msg    string // substring of the message
	}{
		{"empty", "", ReadOptions{}, ErrNoHeader, 0, 0, "", "no header"},
		{"only BOM", "\uFEFF", ReadOptions{}, ErrNoHeader, 0, 0, "", "no header"},
		{"UTF-16 LE", "\xff\xfea\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00", ReadOptions{}, nil, 0, 0, "", "UTF-16"},
		{"UTF-16 BE", "\xfe\xff\x00a\x00,\x00b\x00\n", ReadOptions{}, nil, 0, 0, "", "save it as UTF-8"},
		// Binary files saved as .csv read as `line 2: bare " in
		// non-quoted-field`; the leading bytes are those of real files
		// (an .xlsx from Excel, a .csv.gz from Python's gzip module).
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04\x00\x00\x13\x00\x08\x02[Content_Types].xml \xa2\x04\x02(\xa0\x00\x02\x00\x00\x00\x00",
			ReadOptions{}, nil, 0, 0, "", "not CSV text but a ZIP archive, such as an Excel .xlsx"},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00\x00\x00\x00\x00>\x00\x03\x00\xfe\xff\t\x00", ReadOptions{}, nil, 0, 0, "", "such as an Excel .xls workbook"},
		{"gzip", "\x1f\x8b\x08\x08\xa5\x1c\x9ae\x02\xffbase.csv\x00\xadXKo\xdb", ReadOptions{}, nil, 0, 0, "", "gzip-compressed: name it with the extension .csv.gz"},
		{"parquet", "PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00", ReadOptions{}, nil, 0, 0, "", "a Parquet file: name it with the extension .parquet"},
		{"header only", "a,b\n", ReadOptions{}, ErrNoRows, 0, 0, "", "no data rows"},
		{"ragged short", "a,b\n1,2\n3\n", ReadOptions{}, csv.ErrFieldCount, 3, 0, "", "line 3: 1 field where the header has 2: wrong number of fields"},
		{"ragged long", "a,b\n1,2\n3,4\n5,6,7\n", ReadOptions{}, csv.ErrFieldCount, 4, 0, "", "line 4: 3 fields where the header has 2: wrong number of fields"},
		{"bare quote", "a,b\n1,x\"y\n", ReadOptions{}, nil, 2, 0, "", "line 2"},
		{"unterminated quote", "a,b\n1,\"xy\n", ReadOptions{}, nil, 2, 0, "", "quote"},
		{"empty name", "a,,c\n1,2,3\n", ReadOptions{}, ErrEmptyName, 1, 0, "", "field 2: empty column name: name every column in the header"},
		// R's write.csv writes row numbers under an empty first name by
		// default; the error said only "field 1: empty column name".
		{"R row names", "\"\",\"a\"\n\"1\",2\n", ReadOptions{}, ErrEmptyName, 1, 0, "",
			"field 1: empty column name: name every column in the header; a file from R's write.csv has row numbers there unless written with row.names = FALSE"},
		// Every line ending with a separator: the error said only "field
		// 3: empty column name: name every column in the header".
		{"trailing separator", "a,b,\n1,2,\n3,4,\n", ReadOptions{}, ErrEmptyName, 1, 0, "",
			"field 3: empty column name: the header ends with a separator; if every line does (a trailing separator), remove it from the lines, else name the last column"},
		{"duplicate name", "a,b,a\n1,2,3\n", ReadOptions{}, ErrDuplicateName, 1, 0, "a", `column "a": duplicate column name (fields 1 and 3)`},
		{"infinite", "x,y\n1,a\nInf,b\n", ReadOptions{}, ErrInfinite, 3, 2, "x", `row 2 (line 3) column "x": infinite value "Inf"`},
		{"minus infinity", "x\n-Inf\n", ReadOptions{}, ErrInfinite, 2, 1, "x", "infinite value"},
		{"plus infinity", "x\n1\n+Inf\n", ReadOptions{}, ErrInfinite, 3, 2, "x", "infinite value"},
		{"Infinity", "x\nInfinity\n", ReadOptions{}, ErrInfinite, 2, 1, "x", "infinite value"},
		{"overflow", "x\n1e999\n", ReadOptions{}, ErrInfinite, 2, 1, "x", "infinite value"},
		{"forced numeric", "area,x\n1,1\n2,2\nfoo,3\n", ReadOptions{Schema: map[string]Kind{"area": Numeric}},
			ErrNotNumeric, 4, 3, "area", `row 3 (line 4) column "area": not a number: "foo"`},
		{"forced numeric infinite", "a\nInf\n", ReadOptions{Schema: map[string]Kind{"a": Numeric}}, ErrInfinite, 2, 1, "a", "infinite"},
		{"forced numeric after multiline field", "s,a\n\"x\ny\",1\nz,q\n", ReadOptions{Schema: map[string]Kind{"a": Numeric}},
			ErrNotNumeric, 4, 2, "a", `row 2 (line 4)`},
		{"forced datetime", "d\n2000-01-01\n2000-13-01\n", ReadOptions{Schema: map[string]Kind{"d": Datetime}},
			ErrNotDatetime, 3, 2, "d", "not a datetime"},
		{"unknown schema column", "a\n1\n", ReadOptions{Schema: map[string]Kind{"b": Numeric}}, nil, 0, 0, "", `schema names column "b"`},
		{"invalid schema kind", "a\n1\n", ReadOptions{Schema: map[string]Kind{"a": Kind(9)}}, nil, 0, 0, "", "invalid kind"},
		// A Latin-1 name is decoded (TestReadCSVLatin1) before names are
		// compared.
		{"Latin-1 duplicate name", "caf\xe9,café\n1,2\n", ReadOptions{}, ErrDuplicateName, 1, 0, "café", `column "café": duplicate column name (fields 1 and 2)`},
		{"no empty missing", "a\n1\n\"\"\n", ReadOptions{Missing: []string{}, Schema: map[string]Kind{"a": Numeric}}, ErrNotNumeric, 3, 2, "a", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadCSV(strings.NewReader(tt.text), tt.opts)
			if err == nil {
				t.Fatalf("ReadCSV(%q) = %d×%d frame; want error", tt.text, f.NumRows(), f.NumCols())
			}
			if !strings.HasPrefix(err.Error(), "frame: read csv: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q; want prefix %q and %q", err, "frame: read csv: ", tt.msg)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %q is not %v", err, tt.target)
			}
			if tt.line == 0 && tt.row == 0 && tt.column == "" {
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %q is not a *ParseError", err)
			}
			if (tt.line != 0 && pe.Line != tt.line) || (tt.row != 0 && pe.Row != tt.row) || (tt.column != "" && pe.Column != tt.column) {
				t.Errorf("ParseError line %d row %d column %q; want %d, %d, %q", pe.Line, pe.Row, pe.Column, tt.line, tt.row, tt.column)
			}
		})
	}
}

// TestReadFileErrors: each error names the file and the problem. A
// directory, such as the data.parquet/ of part files Spark writes, says
// it is one (it read "read magic: read data.parquet: is a directory").
func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, msg string }{
		{"data.txt", "unknown file extension"},
		{"missing.csv", "no such file"},
		{"missing.parquet", "no such file"},
		{"spark.parquet", "is a directory, not a file (a Spark or Hive dataset of part files?)"},
		{"spark.csv", "is a directory, not a file"},
		{"spark.csv.gz", "is a directory, not a file"},
	} {
		path := filepath.Join(dir, tt.name)
		if tt.name == "data.txt" {
			if err := os.WriteFile(path, []byte("a\n1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if strings.HasPrefix(tt.name, "spark.") {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(path, "part-00000"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := ReadFile(path, ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("ReadFile(%q) error = %v; want one naming the file and %q", tt.name, err, tt.msg)
		}
	}
}

func TestReadFileGzip(t *testing.T) {
	plain := readTestdata(t, "credit_data.csv")
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, plain); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "credit.CSV.GZ")
	if err := os.WriteFile(path, gzipBytes(t, buf.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != plain.Hash() {
		t.Errorf("gzip round trip changed the hash")
	}
	// A file cut short (a partial copy) or corrupted is an error that
	// says so, never the rows before the damage (a cut one said only
	// "unexpected EOF").
	gz := gzipBytes(t, buf.Bytes())
	bad := slices.Clone(gz)
	bad[len(bad)-6] ^= 0xff // the CRC-32 of the trailer
	for _, tt := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"cut.csv.gz", gz[:len(gz)/2], "gzip: the compressed data ends early (the file is truncated): unexpected EOF"},
		{"crc.csv.gz", bad, "crc.csv.gz: gzip: invalid checksum"},
		{"plain.csv.gz", buf.Bytes(), "plain.csv.gz: gzip: invalid header"},
	} {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if f, err := ReadFile(p, ReadOptions{}); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ReadFile(%s) = %v, %v; want error %q", tt.name, f, err, tt.msg)
		}
	}
}

// TestWriteCSVRoundTrip writes every dataset and reads it back with the
// same kinds: the content hash must not change.
func TestWriteCSVRoundTrip(t *testing.T) {
	for _, name := range []string{"txhousing.csv", "credit_data.csv", "ames.csv", "mlc_churn.csv"} {
		t.Run(name, func(t *testing.T) {
			f := readTestdata(t, name)
			var buf bytes.Buffer
			if err := WriteCSV(&buf, f); err != nil {
				t.Fatal(err)
			}
			g, err := ReadCSV(&buf, ReadOptions{Schema: f.KindMap()})
			if err != nil {
				t.Fatal(err)
			}
			if g.Hash() != f.Hash() {
				t.Errorf("hash changed after WriteCSV/ReadCSV")
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		f    *Frame
		want string
	}{
		{"kinds", MustNew(
			NewNumeric("x", []float64{1.5, nan, -0.1}),
			NewCategoricalFromStrings("c", []string{"a,b", "", `q"`}),
			NewDatetime("d", []float64{946684800, 946684801.25, nan}),
		), "x,c,d\n1.5,\"a,b\",2000-01-01\n,,2000-01-01T00:00:01.25Z\n-0.1,\"q\"\"\",\n"},
		{"single column with missing", MustNew(NewNumeric("x", []float64{1, nan})), "x\n1\n\"\"\n"},
		{"leading space and newline", MustNew(NewCategoricalFromStrings(" a", []string{"x\ny"})), "\" a\"\n\"x\ny\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, tt.f); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("WriteCSV = %q; want %q", buf.String(), tt.want)
			}
		})
	}
}

// TestWriteCSVQuoting writes labels and names that need quoting (comma,
// quote, line feeds, leading white space, a byte order mark, a lone empty
// field) and reads them back: names, labels and the content hash must
// survive.
func TestWriteCSVQuoting(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		f    *Frame
	}{
		{"delimiters", MustNew(
			NewCategoricalFromStrings("a,b", []string{"x,y", `say "hi"`, `"`, ",", "plain"}),
			NewNumeric(`q"n`, []float64{1, nan, -2.5, 0, 3}),
		)},
		{"line breaks", MustNew(
			// "\r\n" inside a quoted field reads back as "\n", as encoding/csv reads it.
			NewCategoricalFromStrings("multi\nline", []string{"l\nm", "end\n", "\nstart", "\n"}),
			NewNumeric("n", []float64{1, 2, 3, 4}),
		)},
		{"white space", MustNew(NewCategoricalFromStrings(" lead", []string{" a", "\tb", "c ", "\u00a0d", "e"}))},
		{"byte order mark", MustNew(
			NewCategoricalFromStrings("\uFEFFh", []string{"\uFEFFy", "z"}),
			NewNumeric("\uFEFFn", []float64{1, 2}),
		)},
		{"lone empty field", MustNew(NewNumeric("x", []float64{nan, 1, nan}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, tt.f); err != nil {
				t.Fatal(err)
			}
			text := buf.String()
			g, err := ReadCSV(&buf, ReadOptions{Schema: tt.f.KindMap()})
			if err != nil {
				t.Fatalf("ReadCSV(%q): %v", text, err)
			}
			if got, want := g.Names(), tt.f.Names(); !slices.Equal(got, want) {
				t.Errorf("names = %q; want %q (written %q)", got, want, text)
			}
			if g.Hash() != tt.f.Hash() {
				t.Errorf("hash changed after WriteCSV/ReadCSV of %q", text)
			}
		})
	}
}

func TestWriteCSVErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *Frame
		msg  string
	}{
		{"infinite", MustNew(NewNumeric("x", []float64{1, math.Inf(1)})), `row 2 column "x": infinite value`},
		{"datetime out of range", MustNew(NewDatetime("d", []float64{1e12})), `row 1 column "d": datetime`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteCSV(&bytes.Buffer{}, tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("WriteCSV error = %v; want %q", err, tt.msg)
			}
		})
	}
}

func BenchmarkReadCSV(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "ames.csv"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadCSV(bytes.NewReader(data), ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteCSV(b *testing.B) {
	f := readTestdata(b, "ames.csv")
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteCSV(&bytes.Buffer{}, f); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBinaryPrefixText checks that text starting like a binary file is
// still read: the formats are told by a NUL byte too, which a header
// "PAR1" lacks, and the writer quotes a label that has one, so that a
// frame written is read back.
func TestBinaryPrefixText(t *testing.T) {
	f := mustRead(t, "PAR1,PK\x03\x04\n1,2\n", ReadOptions{})
	if got := f.Names(); !slices.Equal(got, []string{"PAR1", "PK\x03\x04"}) {
		t.Fatalf("names = %q; want [PAR1 PK\\x03\\x04]", got)
	}
	label := "PK\x03\x04\x00x"
	want, err := New(NewCategoricalFromStrings(label, []string{label, "y"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(bytes.NewReader(buf.Bytes()), ReadOptions{})
	if err != nil {
		t.Fatalf("re-reading %q: %v", buf.String(), err)
	}
	if got.Hash() != want.Hash() {
		t.Errorf("round trip of %q changed the frame", buf.String())
	}
}
