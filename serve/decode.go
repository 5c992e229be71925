package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/tabforge/tabforge/frame"
)

// table is a request's rows before they meet a model: a text/csv body
// as it came, or JSON rows as text cells (numbers keep their JSON text),
// which the predictor's reader takes as it would take the same cells in
// a CSV file, so kinds, missing values and categories are decided
// exactly as `tabforge predict` decides them on a file.
type table struct {
	csv   []byte // a text/csv body; nil for JSON rows
	comma rune   // 0: detect (a text/csv body)
	// columns and cells are JSON rows, cells[i][j] the text of row i's
	// value of columns[j] ("" for null); or, from the fast
	// dataframe_split decoder, byCol[j].Cell(i) is.
	columns []string
	cells   [][]string
	byCol   []frame.TextColumn
	rows    int
	// key is the routing key (X-Routing-Key, or the route's key field in
	// the first row); empty: none.
	key string
	// params are the names in an MLflow JSON body's "params" (a value
	// that is not an object shows as its JSON text), which tabforge
	// models, taking none, ignore; nil: none sent (absent, null or {}).
	params []string

	csvOnce sync.Once
}

// text returns the table as CSV text: the body of a text/csv request, or
// JSON rows written as CSV once, for the prediction log (hash or inputs).
func (t *table) text() []byte {
	t.csvOnce.Do(func() {
		if t.csv != nil {
			return
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(t.columns)       //nolint:errcheck // a bytes.Buffer does not fail
		w.WriteAll(t.rowCells()) //nolint:errcheck // see above
		t.csv = buf.Bytes()
	})
	return t.csv
}

// rowCells returns the JSON cells row by row.
func (t *table) rowCells() [][]string {
	if t.byCol == nil {
		return t.cells
	}
	rows := make([][]string, t.rows)
	for i := range rows {
		rows[i] = make([]string, len(t.byCol))
		for j := range t.byCol {
			rows[i][j] = t.byCol[j].Cell(i)
		}
	}
	return rows
}

// read reads the table with the options a predictor's reader gives.
func (t *table) read(o frame.ReadOptions) (*frame.Frame, error) {
	if t.byCol != nil {
		return frame.ReadTextColumns(t.columns, t.byCol, o)
	}
	if t.cells != nil {
		return frame.ReadRows(t.columns, t.cells, o)
	}
	o.Comma = t.comma
	return frame.ReadCSVBytes(t.csv, o)
}

// badRequest is a client error: decoding failed before any model ran.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, a ...any) error { return &badRequest{fmt.Sprintf(format, a...)} }

// decodeMLflow reads a body of MLflow's scoring protocol: text/csv, or a
// JSON object with one of dataframe_split, dataframe_records, instances
// or inputs. keyField names the field whose first value is the routing
// key ("" for none). A dataframe_split table's columns reuse the memory
// of reuse (see columnPool; nil for none).
func decodeMLflow(body []byte, contentType, keyField string, reuse []frame.TextColumn) (*table, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if isCSV(mt) {
		return csvTable(body, keyField)
	}
	body = trimBOM(body)
	if columns, byCol, ok := fastSplit(body, reuse); ok {
		return splitTable(columns, byCol, keyField)
	}
	return decodeJSON(body, keyField)
}

// decodeJSON is decodeMLflow for any JSON body, with encoding/json.
func decodeJSON(body []byte, keyField string) (*table, error) {
	var req map[string]json.RawMessage
	if err := unmarshal(body, &req); err != nil {
		return nil, badf("malformed JSON body: %v (want {\"dataframe_split\": ...}, dataframe_records, instances or inputs, or a text/csv body)", err)
	}
	var formats []string
	for _, f := range []string{"dataframe_split", "dataframe_records", "instances", "inputs"} {
		if _, ok := req[f]; ok {
			formats = append(formats, f)
		}
	}
	if len(formats) != 1 {
		return nil, badf("want exactly one of dataframe_split, dataframe_records, instances, inputs in the body; got %v", slices.Sorted(maps.Keys(req)))
	}
	raw := req[formats[0]]
	var t *table
	var err error
	if formats[0] == "dataframe_split" {
		var split struct {
			Columns []string `json:"columns"`
			Data    [][]any  `json:"data"`
		}
		if err := unmarshal(raw, &split); err != nil {
			return nil, badf("dataframe_split: %v (want {\"columns\": [...], \"data\": [[...], ...]})", err)
		}
		t, err = rowsTable(split.Columns, split.Data, keyField)
	} else {
		t, err = recordsOrColumns(formats[0], raw, keyField)
	}
	if err != nil {
		return nil, err
	}
	t.params = paramNames(req["params"])
	return t, nil
}

// recordsOrColumns decodes a list of records ([{"a": 1}, ...]) or an
// object of columns ({"a": [1, 2]}).
func recordsOrColumns(field string, raw json.RawMessage, keyField string) (*table, error) {
	var records []map[string]any
	if err := unmarshal(raw, &records); err == nil {
		cols := map[string]bool{}
		for _, r := range records {
			for c := range r {
				cols[c] = true
			}
		}
		names := slices.Sorted(maps.Keys(cols))
		rows := make([][]any, len(records))
		for i, r := range records {
			rows[i] = make([]any, len(names))
			for j, c := range names {
				rows[i][j] = r[c] // absent: nil, a missing value
			}
		}
		return rowsTable(names, rows, keyField)
	}
	var columns map[string][]any
	if err := unmarshal(raw, &columns); err != nil {
		return nil, badf("%s: want a list of records [{\"col\": value, ...}] or an object of columns {\"col\": [values]}: %v", field, err)
	}
	names := slices.Sorted(maps.Keys(columns))
	return columnsTable(names, func(j int) []any { return columns[names[j]] }, keyField)
}

// columnsTable builds a table from equally long columns.
func columnsTable(names []string, col func(j int) []any, keyField string) (*table, error) {
	n := -1
	for j, name := range names {
		if c := col(j); n < 0 {
			n = len(c)
		} else if len(c) != n {
			return nil, badf("column %q has %d values, column %q %d: columns must be equally long", name, len(c), names[0], n)
		}
	}
	rows := make([][]any, max(n, 0))
	for i := range rows {
		rows[i] = make([]any, len(names))
		for j := range names {
			rows[i][j] = col(j)[i]
		}
	}
	return rowsTable(names, rows, keyField)
}

// rowsTable turns decoded JSON rows into text cells. Numbers keep their
// JSON text, null is a missing value, booleans are true/false; nested
// values are an error naming the cell.
func rowsTable(columns []string, rows [][]any, keyField string) (*table, error) {
	cells := make([][]string, len(rows))
	for i, row := range rows {
		if len(row) != len(columns) {
			return nil, badf("row %d has %d values for %d columns", i+1, len(row), len(columns))
		}
		rec := make([]string, len(row))
		for j, v := range row {
			s, err := cell(v)
			if err != nil {
				return nil, badf("row %d, column %q: %v", i+1, columns[j], err)
			}
			rec[j] = s
		}
		cells[i] = rec
	}
	return cellsTable(columns, cells, keyField)
}

// cellsTable makes the table of text cells, checking it is not empty
// and taking the routing key from the first row.
func cellsTable(columns []string, cells [][]string, keyField string) (*table, error) {
	for i, row := range cells {
		if len(row) != len(columns) {
			return nil, badf("row %d has %d values for %d columns", i+1, len(row), len(columns))
		}
	}
	if len(columns) == 0 || len(cells) == 0 {
		return nil, badf("no rows: the request must hold at least one row with at least one column")
	}
	if err := checkNames(columns, "column"); err != nil {
		return nil, err
	}
	t := &table{columns: columns, cells: cells, rows: len(cells)}
	if j := slices.Index(columns, keyField); j >= 0 {
		t.key = cells[0][j]
	}
	return t, nil
}

// splitTable is cellsTable for cells given column by column, byCol[j]
// the cells of the rows' j-th fields (every row as long as the first,
// which is not empty), with cellsTable's errors.
func splitTable(columns []string, byCol []frame.TextColumn, keyField string) (*table, error) {
	rows := 0
	if len(byCol) > 0 {
		rows = byCol[0].Len()
	}
	if rows > 0 && len(byCol) != len(columns) {
		return nil, badf("row %d has %d values for %d columns", 1, len(byCol), len(columns))
	}
	if len(columns) == 0 || rows == 0 {
		return nil, badf("no rows: the request must hold at least one row with at least one column")
	}
	if err := checkNames(columns, "column"); err != nil {
		return nil, err
	}
	t := &table{columns: columns, byCol: byCol, rows: rows}
	if j := slices.Index(columns, keyField); j >= 0 {
		t.key = byCol[j].Cell(0)
	}
	return t, nil
}

// isCSV reports whether media type mt is a CSV body's.
func isCSV(mt string) bool { return mt == "text/csv" || mt == "application/csv" }

// checkNames refuses an empty or repeated column name in a JSON request
// (what is "column", or "input" for a V2 tensor). The reader would refuse
// them too, but in a CSV file's terms ("line 1: field 4: empty column
// name: name every column in the header"), which a JSON client never
// sent.
func checkNames(names []string, what string) error {
	first := make(map[string]int, len(names))
	for j, name := range names {
		if name == "" {
			return badf("%s %d of %d has no name: name every %s", what, j+1, len(names), what)
		}
		if i, ok := first[name]; ok {
			return badf("%s %q is given twice (%ss %d and %d of %d)", what, name, what, i+1, j+1, len(names))
		}
		first[name] = j
	}
	return nil
}

func cell(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case json.Number:
		return v.String(), nil
	case string:
		return v, nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("a cell must be a number, a string, a boolean or null, not %s", describeJSON(v))
}

// csvTable takes a text/csv body as it is; only its first row is parsed
// here, for the routing key.
func csvTable(body []byte, keyField string) (*table, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badf("empty CSV body")
	}
	t := &table{csv: body, rows: max(csvRecords(body)-1, 0)} // less the header
	if keyField != "" {
		// Read as the predictor's reader will read it (byte order mark,
		// line ends, detected separator), so that a semicolon body's key
		// is found; what it cannot read, the predictor's reader reports.
		br, err := frame.TextReader(bytes.NewReader(body))
		if err != nil {
			return t, nil
		}
		r := csv.NewReader(br)
		r.Comma = frame.DetectComma(br)
		header, err1 := r.Read()
		first, err2 := r.Read()
		if err1 == nil && err2 == nil {
			if j := slices.Index(header, keyField); j >= 0 && j < len(first) {
				t.key = first[j]
			}
		}
	}
	return t, nil
}

// csvRecords counts the records of a CSV body: its non-blank lines, a
// line break inside quotes not ending one (the reader's counting; lines
// end in \n, \r\n or a lone \r).
func csvRecords(body []byte) int {
	n, quoted, blank := 0, false, true
	for i, b := range body {
		switch {
		case b == '"':
			quoted, blank = !quoted, false
		case quoted:
		case b == '\n' || (b == '\r' && (i+1 == len(body) || body[i+1] != '\n')):
			if !blank {
				n++
			}
			blank = true
		case b != '\r':
			blank = false
		}
	}
	if !blank {
		n++
	}
	return n
}

// v2Request is an Open Inference Protocol V2 inference request: one
// named tensor per input column.
type v2Request struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []v2Tensor     `json:"inputs"`
	// Outputs names the output tensors wanted; none means all of them.
	Outputs []v2RequestedOutput `json:"outputs,omitempty"`
}

type v2RequestedOutput struct {
	Name string `json:"name"`
}

type v2Tensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	Data     []any  `json:"data"`
}

// decodeV2 reads a V2 inference request; tensors of shape [n] or [n, 1]
// are columns of n rows (nested [[v], ...] data is flattened), their data
// of their datatype (see checkTensor).
func decodeV2(body []byte, keyField string) (*v2Request, *table, error) {
	var req v2Request
	if err := unmarshal(trimBOM(body), &req); err != nil {
		return nil, nil, badf("malformed JSON body: %v (want {\"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}, ...]})", err)
	}
	if len(req.Inputs) == 0 {
		return nil, nil, badf("no inputs: want one named tensor per input column")
	}
	names := make([]string, len(req.Inputs))
	for j := range req.Inputs {
		in := &req.Inputs[j]
		names[j] = in.Name
		if in.Data == nil { // absent or null; it read as "shape [n] for 0 values"
			return nil, nil, badf("input %q has no data: want its values in \"data\", one per row", in.Name)
		}
		flat, err := flatten(in.Data)
		if err != nil {
			return nil, nil, badf("input %q: %v", in.Name, err)
		}
		in.Data = flat
		if err := checkTensor(in); err != nil {
			return nil, nil, badf("input %q: %v", in.Name, err)
		}
	}
	if err := checkNames(names, "input"); err != nil {
		return nil, nil, err
	}
	t, err := columnsTable(names, func(j int) []any { return req.Inputs[j].Data }, keyField)
	return &req, t, err
}

func flatten(data []any) ([]any, error) {
	out := make([]any, 0, len(data))
	for _, v := range data {
		if inner, ok := v.([]any); ok {
			if len(inner) != 1 {
				return nil, errors.New("each row must hold one value (shape [n] or [n, 1])")
			}
			v = inner[0]
		}
		out = append(out, v)
	}
	return out, nil
}

// trimBOM drops a leading UTF-8 byte order mark, which RFC 8259 lets a
// JSON parser ignore and editors on Windows write: the CSV reader drops
// it, and a JSON body starting with one was refused as malformed
// ("invalid character 'ï'").
func trimBOM(body []byte) []byte {
	return bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
}

// unmarshal decodes JSON keeping numbers as their text. Its errors speak
// of the request, not of the Go values it is decoded into (see
// jsonProblem).
func unmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return jsonProblem(b, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// routingKey is the request's sticky routing key: the X-Routing-Key
// header, else the table's key field.
func routingKey(header string, t *table) string {
	if k := strings.TrimSpace(header); k != "" {
		return k
	}
	return t.key
}

// columnPool recycles the columns of dataframe_split tables: a 10,000-row
// request's are some 7 MB, which would otherwise be allocated (and
// collected) anew for each. A table's columns go back only once nothing
// reads them any more: the frame read from them holds copies, the
// prediction log line copies what it keeps, and a request whose rows go
// to shadow variants, which read the table after the response, does not
// give them back.
type columnPool struct{ p sync.Pool }

// get returns emptied columns whose memory a scan can reuse, or nil.
func (cp *columnPool) get() []frame.TextColumn {
	cols, _ := cp.p.Get().([]frame.TextColumn)
	return cols
}

// put gives back t's columns, if it has any; t must not be read again.
// Columns that hold far more memory than t used are dropped (see
// oversize).
func (cp *columnPool) put(t *table) {
	if t.byCol == nil {
		return
	}
	cols := t.byCol
	t.byCol = nil
	if oversize(columnBytes(cols)) {
		return
	}
	for j := range cols {
		cols[j].Reset()
	}
	cp.p.Put(cols)
}

// columnBytes returns the bytes cols' cells take and the bytes the
// columns hold, counting those past len(cols) that a larger table left
// (the next scan reuses them).
func columnBytes(cols []frame.TextColumn) (used, held int) {
	const header = int(unsafe.Sizeof(frame.TextColumn{}))
	for j, c := range cols[:cap(cols)] {
		u, h := c.Size()
		if j < len(cols) {
			used += u + header
		}
		held += h + header
	}
	return used, held
}

// oversize reports whether a buffer holding held bytes, of which the
// request it served used used, is not worth pooling: a request takes
// whatever the pool gives it, so one large batch's buffers, once pooled,
// would be handed from small request to small request for good, pinning
// the large batch's memory. Up to 4 times the use (append's doublings,
// Reserve's estimates, batches of varying size) and up to 64 KiB in any
// case are kept.
func oversize(used, held int) bool {
	return held > 64<<10 && held > 4*used
}

// bytesPool recycles request bodies: a 10,000-row batch is some 5 MB. A
// body goes back only from a handler that is done with it and whose
// table no shadow reads later (a CSV table is its body).
type bytesPool struct{ p sync.Pool }

// get returns a buffer whose memory a body can reuse, or nil.
func (bp *bytesPool) get() []byte {
	b, _ := bp.p.Get().([]byte)
	return b
}

// put gives back body, which must not be read again, unless its buffer
// is far larger than body (see oversize).
func (bp *bytesPool) put(body []byte) {
	if cap(body) > 0 && !oversize(len(body), cap(body)) {
		bp.p.Put(body[:0])
	}
}

// jsonProblem rewrites an error of encoding/json on body in a client's
// terms. A value of the wrong kind was reported in Go's ("cannot
// unmarshal number into Go struct field v2Tensor.inputs.data of type
// []interface {}"), which names neither what the protocol wants there
// nor anything a client sent; it now reads `field "inputs.data": want
// an array, got a number`. A syntax error gains its byte offset, and a
// NaN or Infinity (which Python's json.dumps writes for a float) a hint
// that JSON has neither and that null is a missing value.
func jsonProblem(body []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got := te.Value
		if kind, rest, _ := strings.Cut(te.Value, " "); rest != "" {
			got = "the " + kind + " " + rest // "number -1", as decoded into an unsigned field
		} else if name, ok := jsonKinds[kind]; ok {
			got = name
		}
		if te.Field == "" {
			return fmt.Errorf("want %s, got %s", jsonKind(te.Type), got)
		}
		return fmt.Errorf("field %q: want %s, got %s", te.Field, jsonKind(te.Type), got)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		at := max(se.Offset-1, 0)
		rest := body[min(at, int64(len(body))):]
		for _, w := range []string{"NaN", "Infinity", "nan", "inf"} {
			if bytes.HasPrefix(rest, []byte(w)) {
				if at > 0 && body[at-1] == '-' { // the minus was read as a number's
					w = "-" + w
				}
				return fmt.Errorf("%s at byte %d: JSON has no %s; send null for a missing value", se, at, w)
			}
		}
		return fmt.Errorf("%s at byte %d", se, at)
	}
	return err
}

// jsonKinds name the kinds of value encoding/json reports.
var jsonKinds = map[string]string{"array": "an array", "object": "an object", "string": "a string", "number": "a number", "bool": "a boolean"}

// jsonKind names the JSON kind that decodes into a Go type.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		// "want a number, got the number 1.5" did not say what was wrong.
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}
