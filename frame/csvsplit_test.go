package frame

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkSplit checks that a split parse of data, in 2, 3 and 5 pieces and
// in as many pieces as bytes (a cut after every newline), either gives
// up or reads what ReadCSV read (want, or the error wantErr). It returns
// whether the 2-piece parse was accepted.
func checkSplit(t *testing.T, data []byte, opts ReadOptions, want *Frame, wantErr error) bool {
	t.Helper()
	accepted := false
	for _, pieces := range []int{2, 3, 5, max(len(data), 2)} {
		f, ok := readCSVSplit(data, opts, pieces)
		if !ok {
			continue
		}
		if pieces == 2 {
			accepted = true
		}
		if wantErr != nil {
			t.Fatalf("%d pieces: the split parse accepted %q, which ReadCSV rejects: %v", pieces, data, wantErr)
		}
		if f.Hash() != want.Hash() || f.NumRows() != want.NumRows() {
			t.Fatalf("%d pieces: the split parse of %q read %d rows (hash %s), ReadCSV %d (%s)",
				pieces, data, f.NumRows(), f.Hash(), want.NumRows(), want.Hash())
		}
	}
	return accepted
}

func TestReadCSVSplitEdgeCases(t *testing.T) {
	rep := strings.Repeat
	for _, tc := range []struct {
		name string
		data string
		opts ReadOptions
		// split: whether the 2-piece parse is accepted (false: the cut
		// after the midpoint is not between records, or the input has an
		// error that only the serial parse may report).
		split bool
	}{
		{"plain", "a,b\n" + rep("1,x\n2,y\n", 20), ReadOptions{}, true},
		{"quoted newlines and commas", "a,b\n" + rep("\"x,\ny\",1\n\"p\n,q\",2\n", 10) + rep("3,z\n", 40), ReadOptions{}, true},
		{"quoted newlines everywhere", "a,b\n" + rep("\"x,\ny\",1\n\"p\n,q\",2\n", 20), ReadOptions{}, false},
		{"escaped quotes", "a,b\n" + rep("\"he said \"\"hi\"\"\",1\n\"\"\"\",2\n", 20), ReadOptions{}, true},
		{"CRLF", "a,b\r\n" + rep("1,\"x\r\ny\"\r\n2,z\r\n", 10) + rep("3,w\r\n", 40), ReadOptions{}, true},
		{"cut inside a quoted field", "a,b\n1,x\n2,\"" + rep("long\n", 40) + "\"\n3,y\n", ReadOptions{}, false},
		{"cut inside a quoted field with CRLF", "a,b\r\n1,x\r\n2,\"" + rep("long\r\n", 40) + "\"\r\n3,y\r\n", ReadOptions{}, false},
		{"BOM and semicolons", "\uFEFFa;b\n" + rep("1;2,5\n3;4,5\n", 20), ReadOptions{}, true},
		{"blank lines", "a,b\n" + rep("1,x\n\n\r\n2,y\n", 20), ReadOptions{}, true},
		{"no final newline, trailing CR", "a,b\n" + rep("1,x\n", 20) + "2,y\r", ReadOptions{}, true},
		{"wrong field count after the cut", "a,b\n" + rep("1,x\n", 20) + "2\n" + rep("3,z\n", 5), ReadOptions{}, false},
		{"unterminated quote at the end", "a,b\n" + rep("1,x\n", 20) + "2,\"y\n", ReadOptions{}, false},
		{"bare quote after the cut", "a,b\n" + rep("1,x\n", 20) + "2,y\"z\n", ReadOptions{}, false},
		{"forced kind fails after the cut", "a,b\n" + rep("1,x\n", 20) + "q,y\n",
			ReadOptions{Schema: map[string]Kind{"a": Numeric}}, false},
		{"no rows", "a,b\n\n\n", ReadOptions{}, false},
		{"header only, no newline", "a,b", ReadOptions{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.data)
			want, wantErr := ReadCSV(bytes.NewReader(data), tc.opts)
			if got := checkSplit(t, data, tc.opts, want, wantErr); got != tc.split {
				t.Errorf("2-piece split accepted = %v, want %v", got, tc.split)
			}
			// ReadCSVBytes always answers as ReadCSV does.
			got, err := ReadCSVBytes(data, tc.opts)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("ReadCSVBytes error %v, ReadCSV %v", err, wantErr)
			}
			if err == nil && got.Hash() != want.Hash() {
				t.Fatalf("ReadCSVBytes hash %s, ReadCSV %s", got.Hash(), want.Hash())
			}
		})
	}
}

// TestReadCSVBytesAmes reads ames (1.5 MB, past splitMin) through
// ReadCSVBytes and in pieces and checks each gives ReadCSV's frame.
func TestReadCSVBytesAmes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "ames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < splitMin {
		t.Fatalf("ames.csv is %d bytes, below splitMin %d: the test would not split", len(data), splitMin)
	}
	want, err := ReadCSV(bytes.NewReader(data), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pieces := range []int{2, 3, 8} {
		f, ok := readCSVSplit(data, ReadOptions{}, pieces)
		if !ok {
			t.Fatalf("%d pieces: the split parse gave up on ames", pieces)
		}
		if f.Hash() != want.Hash() {
			t.Fatalf("%d pieces: hash %s, ReadCSV %s", pieces, f.Hash(), want.Hash())
		}
	}
	f, err := ReadCSVBytes(data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Hash() != want.Hash() {
		t.Fatalf("ReadCSVBytes hash %s, ReadCSV %s", f.Hash(), want.Hash())
	}
}
