package frame

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDecodeText: every byte decodes to its own rune, so two different
// byte strings never become one label (x/text decodes the five bytes
// Windows-1252 leaves undefined all to U+FFFD), and UTF-8 is kept.
func TestDecodeText(t *testing.T) {
	seen := map[string]int{}
	for b := range 256 {
		s := decodeText(string([]byte{byte(b), 0xff})) // 0xff: never UTF-8
		if k, dup := seen[s]; dup {
			t.Errorf("bytes %#x and %#x both decode to %q", k, b, s)
		}
		seen[s] = b
	}
	for in, want := range map[string]string{
		"caf\xe9": "café", "\x80 5": "€ 5", "\x81\x9d": "\u0081\u009d",
		"café": "café", "\ufffd": "\ufffd", "caf\xc3\xa9\xe9": "cafÃ©é",
	} {
		if got := decodeText(in); got != want {
			t.Errorf("decodeText(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestReadCSVLatin1: a Latin-1 or Windows-1252 file reads as the text it
// holds (it was refused, even in a column the model never reads), and
// spellings of one label in both encodings are one level.
func TestReadCSVLatin1(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		opts   ReadOptions
		names  []string
		labels []string // of the last column, row by row
		levels []string
	}{
		{"labels", "x,cat\n1,plain\n2,caf\xe9\n3,\x80 5\n", ReadOptions{},
			[]string{"x", "cat"}, []string{"plain", "café", "€ 5"}, []string{"café", "plain", "€ 5"}},
		{"forced categorical", "x,cat\n1,na\xefve\n", ReadOptions{Schema: map[string]Kind{"cat": Categorical}},
			[]string{"x", "cat"}, []string{"naïve"}, []string{"naïve"}},
		{"name", "x,caf\xe9\n1,a\n", ReadOptions{}, []string{"x", "café"}, []string{"a"}, []string{"a"}},
		{"mixed encodings merge", "c\ncafé\ncaf\xe9\nCAF\xc9\ncafé\n", ReadOptions{},
			[]string{"c"}, []string{"café", "café", "CAFÉ", "café"}, []string{"CAFÉ", "café"}},
		{"undefined 1252 bytes stay distinct", "c\n\x81\n\x8d\n\ufffd\n", ReadOptions{},
			[]string{"c"}, []string{"\u0081", "\u008d", "\ufffd"}, []string{"\u0081", "\u008d", "\ufffd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadCSV(strings.NewReader(tt.text), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Names(); !slices.Equal(got, tt.names) {
				t.Errorf("names %q; want %q", got, tt.names)
			}
			c := f.Col(f.NumCols() - 1)
			var labels []string
			for i := range c.Len() {
				labels = append(labels, c.Label(i))
			}
			if !slices.Equal(labels, tt.labels) || !slices.Equal(c.Levels, tt.levels) {
				t.Errorf("labels %q, levels %q; want %q, %q", labels, c.Levels, tt.labels, tt.levels)
			}
		})
	}
}

// TestParquetLatin1: a frame read from a Latin-1 file round-trips through
// Parquet with its Hash; labels and names that are not UTF-8, which only
// a frame built in code holds, are written as the readers decode them (the
// file was written as binary that ReadParquet refused).
func TestParquetLatin1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.parquet")
	read, err := ReadCSV(strings.NewReader("n\xe9,c\n1,caf\xe9\n2,\xff\xfe\n3,\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	built := MustNew(NewNumeric("n\xe9", []float64{1, 2, 3}),
		NewCategorical("c", []int32{0, 1, -1}, []string{"caf\xe9", "\xff\xfe", "café"}))
	for _, f := range []*Frame{read, built} {
		if err := WriteParquet(path, f); err != nil {
			t.Fatal(err)
		}
		back, err := ReadParquet(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if back.Hash() != read.Hash() {
			var got, want bytes.Buffer
			_, _ = WriteCSV(&got, back), WriteCSV(&want, read)
			t.Errorf("read back %q; want %q", got.String(), want.String())
		}
	}
	dup := MustNew(NewNumeric("caf\xe9", []float64{1}), NewNumeric("café", []float64{2}))
	if err := WriteParquet(path, dup); !errors.Is(err, ErrDuplicateName) {
		t.Errorf("WriteParquet of names equal once decoded: error %v; want ErrDuplicateName", err)
	}
}

// TestReadCSVLatin1Missing: a missing-value token written in UTF-8 marks
// the same text in a Latin-1 file missing, as its labels read the same;
// bytes that only look like a token's encoding in UTF-8 stay labels.
func TestReadCSVLatin1Missing(t *testing.T) {
	text := "x,c\n1,n\xe9ant\n2,néant\n3,caf\xe9\n4,é\n"
	f, err := ReadCSV(strings.NewReader(text), ReadOptions{Missing: []string{"", "néant", "Ã©"}})
	if err != nil {
		t.Fatal(err)
	}
	c := f.Col(1)
	var got []bool
	for i := range c.Len() {
		got = append(got, c.IsMissing(i))
	}
	// The token "Ã©" is "é" in UTF-8 once encoded as 1252, but the cell
	// "é" is UTF-8 and reads as "é": not a token.
	if want := []bool{true, true, false, false}; !slices.Equal(got, want) {
		t.Errorf("missing %v; want %v (levels %q)", got, want, c.Levels)
	}
}
