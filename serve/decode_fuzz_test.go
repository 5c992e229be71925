package serve

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// requestBodies seed FuzzDecodeRequest: every protocol's shapes, well and
// badly formed.
var requestBodies = []string{
	`{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 2]}, {"name": "b", "shape": [2, 1], "datatype": "BYTES", "data": [["x"], ["y"]]}]}`,
	`{"inputs": [{"name": "a", "shape": [3], "datatype": "FP64", "data": [1, 2]}]}`,
	`{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [[1, 2]]}]}`,
	`{"inputs": []}`,
	`{"dataframe_records": [{"a": 1, "k": "x"}, {"a": null, "k": "y"}]}`,
	`{"instances": [[1, "x"], [2, "y"]]}`,
	`{"inputs": {"a": [1, 2], "k": ["x", "y"]}}`,
	`{"dataframe_split": {"columns": ["a", "k"], "data": [[1, "x"]]}}`,
	"a,k\n1,x\n2,y\n",
	"a;k\n1;\"x\n",
	`{"dataframe_records": [{"a": {"nested": 1}}]}`,
}

// FuzzDecodeRequest: no body of any protocol panics a decoder or the read
// after it; a refused body is a client error (400, not 500), and a table a
// decoder returns has every row as wide as its header.
func FuzzDecodeRequest(f *testing.F) {
	for _, b := range append(requestBodies, splitBodies...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(proto string, tb *table, err error) {
			if err != nil {
				var bad *badRequest
				if !errors.As(err, &bad) {
					t.Fatalf("%s %q: error %v is not a client error", proto, body, err)
				}
				return
			}
			for i, row := range tb.cells {
				if len(row) != len(tb.columns) {
					t.Fatalf("%s %q: row %d has %d cells for %d columns", proto, body, i, len(row), len(tb.columns))
				}
			}
			tb.read(frame.ReadOptions{}) //nolint:errcheck // only a panic fails here
			tb.text()
		}
		_, tb, err := decodeV2(body, "k")
		check("v2", tb, err)
		tb, err = decodeMLflow(body, "application/json", "k", nil)
		check("mlflow json", tb, err)
		tb, err = decodeMLflow(body, "text/csv", "k", nil)
		check("mlflow csv", tb, err)
	})
}

// FuzzCSVRecords: csvRecords, which bounds a text/csv request's rows
// before it is parsed, counts what encoding/csv reads from any body it
// reads without error and without lone carriage returns (which it keeps
// inside fields, while tabforge's reader ends lines at them). The count
// used to be the body's newlines, so quoted line breaks and blank lines
// pushed requests within the limit over it.
func FuzzCSVRecords(f *testing.F) {
	for _, b := range []string{"a,b\n1,2\n", "a\n\"x\ny\"\n\n\n2\n", "a\r\n1\r\n", "h\n1", "", "\n\n", `a,"b""c"` + "\n1,2"} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.Contains(bytes.ReplaceAll(body, []byte("\r\n"), nil), []byte("\r")) {
			return
		}
		r := csv.NewReader(bytes.NewReader(body))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			return
		}
		if got := csvRecords(body); got != len(recs) {
			t.Errorf("csvRecords(%q) = %d; encoding/csv reads %d records", body, got, len(recs))
		}
	})
}
