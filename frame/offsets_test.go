package frame

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadCSVOffsets reads datetimes written with UTC offsets from a real
// file: the instant is kept in Num, the offset in Offsets, and Local is the
// civil time as written, so 2020-01-01T00:00:00+02:00 is 1 January although
// its instant is 31 December in UTC. A space may stand for the T.
func TestReadCSVOffsets(t *testing.T) {
	nan := math.NaN()
	const jan1 = 1577836800 // 2020-01-01T00:00:00Z
	tests := []struct {
		name    string
		values  []string
		num     []float64
		offsets []int32 // nil: no offsets kept
	}{
		{"utc and zone-less keep no offsets", []string{"2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01 00:00:00", "2020-01-01T00:00:00+00:00"},
			[]float64{jan1, jan1, jan1, jan1}, nil},
		{"east of utc", []string{"2020-01-01T00:00:00+02:00", "2020-02-01T00:00:00+02:00"},
			[]float64{jan1 - 7200, jan1 + 31*86400 - 7200}, []int32{7200, 7200}},
		{"daylight saving time", []string{"2020-01-01T00:00:00+01:00", "2020-07-01T00:00:00+02:00"},
			[]float64{jan1 - 3600, jan1 + 182*86400 - 7200}, []int32{3600, 7200}},
		{"half hours west and missing", []string{"2020-01-01T00:00:00-09:30", "NA", "2020-01-01"},
			[]float64{jan1 + 34200, nan, jan1}, []int32{-34200, 0, 0}},
		// pandas writes zone-aware timestamps with a space (RFC 3339
		// allows one, section 5.6), and fractional seconds when present.
		{"space before the time", []string{"2020-01-01 00:00:00+02:00", "2020-01-01 00:00:00.000000+02:00", "2020-01-01 00:00:00Z"},
			[]float64{jan1 - 7200, jan1 - 7200, jan1}, []int32{7200, 7200, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.csv")
			if err := os.WriteFile(path, []byte("d\n"+strings.Join(tt.values, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := ReadFile(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := f.Col(0)
			if c.Kind != Datetime {
				t.Fatalf("kind %v; want datetime", c.Kind)
			}
			if !slices.EqualFunc(c.Num, tt.num, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
				t.Errorf("Num = %v; want %v", c.Num, tt.num)
			}
			if !slices.Equal(c.Offsets, tt.offsets) {
				t.Errorf("Offsets = %v; want %v", c.Offsets, tt.offsets)
			}
			for i := range c.Num {
				if l := c.Local(i); !math.IsNaN(l) && math.Mod(l, 86400) != 0 {
					t.Errorf("Local(%d) = %v; want a civil midnight, as %q was written", i, l, tt.values[i])
				}
			}
		})
	}
}

// TestOffsetsRoundTrip checks that writing a frame with offsets as CSV
// keeps them (the hash covers them) and that Take and Concat carry them.
func TestOffsetsRoundTrip(t *testing.T) {
	text := "d,x\n2020-01-01T00:00:00+02:00,1\n2020-01-01T00:00:00Z,2\n,3\n2020-07-01T00:00:00.25-05:00,4\n9999-12-31T23:59:59-05:00,5\n"
	f := mustRead(t, text, ReadOptions{})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2020-01-01T00:00:00+02:00", "2020-01-01,", "2020-07-01T00:00:00.25-05:00", "9999-12-31T23:59:59-05:00"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteCSV wrote\n%s\nwithout %q", buf.String(), want)
		}
	}
	back := mustRead(t, buf.String(), ReadOptions{Schema: f.KindMap()})
	if back.Hash() != f.Hash() {
		t.Errorf("round trip changed the hash; wrote\n%s", buf.String())
	}
	take := f.Take([]int{3, 0})
	if got := take.Col(0).Offsets; !slices.Equal(got, []int32{-18000, 7200}) {
		t.Errorf("Take offsets = %v; want [-18000 7200]", got)
	}
	utc := MustNew(NewDatetime("d", []float64{0}), NewNumeric("x", []float64{6}))
	cat, err := Concat(utc, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := cat.Col(0).Offsets; !slices.Equal(got, []int32{0, 7200, 0, 0, -18000, -18000}) {
		t.Errorf("Concat offsets = %v", got)
	}
}

// TestHashOffsets checks that offsets change the hash only when they say
// something: data without offsets hash as before they were kept (see
// TestHashGolden), zero offsets and offsets of missing values do not count.
func TestHashOffsets(t *testing.T) {
	v := []float64{0, 86400, math.NaN()}
	hash := func(offsets []int32) string {
		c := NewDatetime("d", slices.Clone(v))
		c.Offsets = offsets
		return MustNew(c).Hash()
	}
	base := hash(nil)
	if got := hash([]int32{0, 0, 0}); got != base {
		t.Errorf("zero offsets hash %s; want %s as without offsets", got, base)
	}
	if got := hash([]int32{0, 0, 3600}); got != base {
		t.Errorf("an offset on a missing value changed the hash")
	}
	east, west := hash([]int32{3600, 0, 0}), hash([]int32{-3600, 0, 0})
	if east == base || west == base || east == west {
		t.Errorf("offsets +1h, -1h and none hash %s, %s, %s; want three ids", east, west, base)
	}
}

// TestParquetOffsets checks WriteParquet keeps UTC offsets (a TIMESTAMP
// holds the instant only, so they read back as UTC) and that ReadParquet
// refuses offsets metadata that does not fit the column.
func TestParquetOffsets(t *testing.T) {
	dir := t.TempDir()
	f := mustRead(t, "d,x\n2020-01-01T00:00:00+01:00,1\nNA,2\n2020-07-01T00:00:00+02:00,3\n2020-08-01T00:00:00+02:00,4\n", ReadOptions{})
	path := filepath.Join(dir, "d.parquet")
	if err := WriteParquet(path, f); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Col(0).Offsets; !slices.Equal(got, []int32{3600, 0, 7200, 7200}) || back.Hash() != f.Hash() {
		t.Errorf("read back offsets %v (hash equal: %v); want [3600 0 7200 7200]", got, back.Hash() == f.Hash())
	}
	for _, bad := range []string{"7200*5", "7200*3", "90000*4", "x*4", "7200*2,,3600*2", "3600*0,7200*4"} {
		c := f.Col(0)
		pc, err := parquetColumnOf(c, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		pc.offsets = bad
		var buf bytes.Buffer
		if err := writeColumns(&buf, []parquetColumn{pc}, c.Len(), nil, rowGroupRows); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "bad.parquet")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(p, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "utc offsets") {
			t.Errorf("offsets %q: ReadFile error %v; want one about utc offsets", bad, err)
		}
	}
}
