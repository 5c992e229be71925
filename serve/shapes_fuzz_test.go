package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tabforge/tabforge/frame"
)

// shapeValue is one cell of a fuzzed table as a JSON value: a string, a
// number (its text), a boolean or null.
type shapeValue struct {
	kind byte // 's', 'n', 'b' or 0 for null
	text string
}

func (v shapeValue) json() any {
	switch v.kind {
	case 's':
		return v.text
	case 'n':
		return json.Number(v.text)
	case 'b':
		return v.text == "true"
	}
	return nil
}

// shapeTable builds a table from fuzz input: names split at ',' (sorted,
// distinct, non-empty: the records forms sort their columns), cells at
// '|' row-major, each cell's kind from two bits of kinds. ok is false
// when the input makes no such table.
func shapeTable(names, cells string, kinds uint64) (cols []string, rows [][]shapeValue, ok bool) {
	// JSON carries only UTF-8 (encoding/json writes U+FFFD for a bad
	// byte), while a CSV body's reader takes other encodings.
	if !utf8.ValidString(names) || !utf8.ValidString(cells) {
		return nil, nil, false
	}
	cols = strings.Split(names, ",")
	slices.Sort(cols)
	if len(cols) > 4 || slices.Contains(cols, "") || len(slices.Compact(slices.Clone(cols))) != len(cols) {
		return nil, nil, false
	}
	vals := strings.Split(cells, "|")
	if len(vals)%len(cols) != 0 || len(vals) > 16 {
		return nil, nil, false
	}
	for i := 0; i < len(vals); i += len(cols) {
		row := make([]shapeValue, len(cols))
		for j := range row {
			v := shapeValue{kind: "snb\x00"[kinds&3], text: vals[i+j]}
			kinds >>= 2
			if v.kind == 'b' {
				v.text = strings.TrimSpace(v.text)
				if v.text != "true" {
					v.text = "false"
				}
			}
			if v.kind == 'n' && !jsonNumber(v.text) {
				v.kind = 's' // not a JSON number: send it as a string
			}
			row[j] = v
		}
		rows = append(rows, row)
	}
	return cols, rows, true
}

// jsonNumber reports whether s is a JSON number, alone.
func jsonNumber(s string) bool {
	return s != "" && s == strings.TrimSpace(s) && strings.ContainsRune("-0123456789", rune(s[0])) && json.Valid([]byte(s))
}

// shapeBodies writes the table in every request shape the server takes.
// A V2 body is left out when a column mixes value kinds, which no V2
// datatype holds.
func shapeBodies(cols []string, rows [][]shapeValue) map[string][]byte {
	var split [][]any
	records := make([]map[string]any, len(rows))
	columns := map[string][]any{}
	for i, row := range rows {
		records[i] = map[string]any{}
		var r []any
		for j, v := range row {
			r = append(r, v.json())
			records[i][cols[j]] = v.json()
			columns[cols[j]] = append(columns[cols[j]], v.json())
		}
		split = append(split, r)
	}
	must := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	out := map[string][]byte{
		"dataframe_split":   must(map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": split}}),
		"dataframe_records": must(map[string]any{"dataframe_records": records}),
		"instances":         must(map[string]any{"instances": records}),
		"inputs":            must(map[string]any{"inputs": columns}),
	}
	if csv := csvShape(cols, rows); csv != nil {
		out["csv"] = csv
	}
	if v2 := v2Shape(cols, rows); v2 != nil {
		out["v2"] = must(v2)
	}
	return out
}

// csvShape is the table as a CSV body, nil if a row is blank (a one
// column row of "" or null), which CSV cannot tell from no row.
func csvShape(cols []string, rows [][]shapeValue) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(cols) //nolint:errcheck // a bytes.Buffer does not fail
	for _, row := range rows {
		rec := make([]string, len(row))
		for j, v := range row {
			if v.kind != 0 {
				rec[j] = v.text
			}
		}
		if len(rec) == 1 && rec[0] == "" {
			return nil
		}
		w.Write(rec) //nolint:errcheck // see above
	}
	w.Flush()
	return buf.Bytes()
}

// v2Shape is the table as V2 tensors, nil if a column mixes kinds.
func v2Shape(cols []string, rows [][]shapeValue) *v2Request {
	req := &v2Request{}
	for j, name := range cols {
		in := v2Tensor{Name: name, Shape: []int{len(rows), 1}, Datatype: "BYTES"}
		kind := byte(0)
		for _, row := range rows {
			if k := row[j].kind; k != 0 && kind != 0 && k != kind {
				return nil
			} else if k != 0 {
				kind = k
			}
			in.Data = append(in.Data, []any{row[j].json()})
		}
		in.Datatype = map[byte]string{'n': "FP64", 'b': "BOOL"}[kind]
		if in.Datatype == "" {
			in.Datatype = "BYTES"
		}
		req.Inputs = append(req.Inputs, in)
	}
	return req
}

// decodeShape decodes body as the server does for its shape.
func decodeShape(shape string, body []byte) (*table, error) {
	switch shape {
	case "v2":
		_, t, err := decodeV2(body, "")
		return t, err
	case "csv":
		t, err := decodeMLflow(body, "text/csv; charset=utf-8", "", nil)
		if err == nil {
			t.comma = ',' // the separator is detected on real bodies; this one is known
		}
		return t, err
	}
	return decodeMLflow(body, "application/json", "", nil)
}

// FuzzRequestShapes writes one fuzzed table in every request shape —
// MLflow dataframe_split, dataframe_records, instances, inputs, text/csv
// and a V2 tensor per column — and checks they agree: each decodes (or
// each refuses) and each reads to the frame the dataframe_split body
// reads to, as the protocols promise the same rows whatever their shape.
func FuzzRequestShapes(f *testing.F) {
	for _, s := range []struct {
		names, cells string
		kinds        uint64
	}{
		{"a,k", "1|x|2|y", 0b0001}, {"a", "1.5", 1}, {"a,b", "NA|true|| false", 0b11_10_11_00}, {"x", "007", 1}, {"x", "007", 0},
		{"é,a b", " 1 |x\ny", 0b0001}, {"a", "1e999", 1}, {"a", "-0", 1}, {"a,b,c", "1|2|3", 0b010101}, {"z", "\"q\"", 0}, {"a", "", 3},
	} {
		f.Add(s.names, s.cells, s.kinds)
	}
	f.Fuzz(func(t *testing.T, names, cells string, kinds uint64) {
		cols, rows, ok := shapeTable(names, cells, kinds)
		if !ok {
			return
		}
		bodies := shapeBodies(cols, rows)
		want, wantErr := readShape(t, "dataframe_split", bodies["dataframe_split"])
		for shape, body := range bodies {
			got, err := readShape(t, shape, body)
			if (err != nil) != (wantErr != nil) || got != want {
				t.Fatalf("%s body %q reads to\n%s (%v);\ndataframe_split %q to\n%s (%v)", shape, body, got, err, bodies["dataframe_split"], want, wantErr)
			}
		}
	})
}

// readShape decodes and reads body, returning the frame as CSV text.
func readShape(t *testing.T, shape string, body []byte) (string, error) {
	tb, err := decodeShape(shape, body)
	if err != nil {
		return "", err
	}
	fr, err := tb.read(frame.ReadOptions{})
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := frame.WriteCSV(&buf, fr); err != nil {
		t.Fatalf("%s: WriteCSV: %v", shape, err)
	}
	return buf.String(), nil
}
