package frame

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectComma(t *testing.T) {
	type sepCase struct {
		name, text string
		want       rune
	}
	cases := []sepCase{
		{"comma", "a,b,c\n1,2,3\n", ','},
		{"semicolon with decimal commas", "price;area\n1,5;20\n2,25;30\n", ';'},
		{"tab", "a\tb\n1\t2\n", '\t'},
		{"pipe", "a|b|c\nx|y|z\n", '|'},
		{"quoted separators", "name,note\n\"a;b;c\",x\n\"d;e;f\",y\n", ','},
		{"one column", "a\n1\n2\n", ','},
		{"inconsistent everywhere", "a;b\n1,2,3\n", ','},
		{"empty", "", ','},
	}
	// Beyond a default bufio.Reader's 4 KB the sample's last line is cut,
	// somewhere that depends on the header's length; it used to be kept,
	// so when the cut fell before the separator every candidate
	// disagreed with it and a semicolon file read as one comma column.
	for pad := range 9 {
		head := "id" + strings.Repeat("_", pad)
		cases = append(cases,
			sepCase{"semicolon past the buffer " + head, head + ";x\n" + strings.Repeat("c-7;1,25\n", 1000), ';'},
			sepCase{"tab past the buffer " + head, head + "\tx\n" + strings.Repeat("c-7\t1\n", 2000), '\t'})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectComma(bufio.NewReader(strings.NewReader(tc.text))); got != tc.want {
				t.Errorf("DetectComma(%q) = %q; want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestReadSeparators reads the first rows of ames as comma, semicolon and
// tab text, with the separator detected and given, and expects the same
// frame each time.
func TestReadSeparators(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "ames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")[:300]
	text := strings.Join(lines, "")
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, v := range rec {
			if strings.ContainsAny(v, ",;\t") {
				t.Fatalf("field %q holds a separator; pick other rows for this test", v)
			}
		}
	}
	want, err := ReadCSV(strings.NewReader(text), ReadOptions{Comma: ','})
	if err != nil {
		t.Fatal(err)
	}
	for _, sep := range []rune{';', '\t'} {
		other := strings.ReplaceAll(text, ",", string(sep))
		for _, opts := range []ReadOptions{{}, {Comma: sep}} {
			got, err := ReadCSV(strings.NewReader(other), opts)
			if err != nil {
				t.Fatalf("separator %q, opts %+v: %v", sep, opts, err)
			}
			if got.NumCols() != want.NumCols() || got.Hash() != want.Hash() {
				t.Errorf("separator %q, opts %+v: %d columns, hash %.12s; want %d columns, hash %.12s", sep, opts, got.NumCols(), got.Hash(), want.NumCols(), want.Hash())
			}
		}
	}
}
