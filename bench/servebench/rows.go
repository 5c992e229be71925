package servebench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
)

// rowSet is the data file's rows without the target column: as text
// (for CSV bodies) and as JSON values (for JSON bodies).
type rowSet struct {
	columns []string
	text    [][]string
	values  [][]any
}

// readRows reads a CSV file and drops its target column.
func readRows(path, target string) (*rowSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench serve: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("bench serve: read %s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("bench serve: %s has no data rows", path)
	}
	t := slices.Index(recs[0], target)
	if t < 0 {
		return nil, fmt.Errorf("bench serve: %s has no column %q", path, target)
	}
	drop := func(r []string) []string { return slices.Delete(slices.Clone(r), t, t+1) }
	rs := &rowSet{columns: drop(recs[0])}
	for _, r := range recs[1:] {
		text := drop(r)
		vals := make([]any, len(text))
		for j, s := range text {
			vals[j] = jsonValue(s)
		}
		rs.text, rs.values = append(rs.text, text), append(rs.values, vals)
	}
	return rs, nil
}

// jsonValue is how a JSON client sends a CSV cell: numbers as numbers,
// empty and NA as null, anything else as a string.
func jsonValue(s string) any {
	switch s {
	case "", "NA":
		return nil
	}
	// ParseFloat also takes NaN and Inf, which JSON has no numbers for.
	if _, err := strconv.ParseFloat(s, 64); err == nil && json.Valid([]byte(s)) {
		return json.Number(s)
	}
	return s
}

// singleBodies returns MLflow dataframe_split bodies of one row each,
// for the first n rows.
func (rs *rowSet) singleBodies(n int) ([][]byte, error) {
	out := make([][]byte, 0, min(n, len(rs.values)))
	for i := range cap(out) {
		b, err := rs.jsonBody([][]any{rs.values[i]})
		if err != nil {
			return nil, fmt.Errorf("bench serve: row %d: %w", i+1, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// batchBody returns a body of n rows, the file's rows repeated in order:
// dataframe_split JSON or text/csv.
func (rs *rowSet) batchBody(format string, n int) ([]byte, error) {
	if format == "csv" {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(rs.columns) //nolint:errcheck // w.Error is checked below
		for i := range n {
			w.Write(rs.text[i%len(rs.text)]) //nolint:errcheck // see above
		}
		w.Flush()
		return buf.Bytes(), w.Error()
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = rs.values[i%len(rs.values)]
	}
	return rs.jsonBody(rows)
}

func (rs *rowSet) jsonBody(rows [][]any) ([]byte, error) {
	type split struct {
		Columns []string `json:"columns"`
		Data    [][]any  `json:"data"`
	}
	return json.Marshal(map[string]split{"dataframe_split": {Columns: rs.columns, Data: rows}})
}
