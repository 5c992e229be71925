package serve

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestClientErrorsInClientTerms sends rows the reader refuses, as CSV,
// MLflow JSON and V2 tensors: each 400 says what is wrong with the
// request without the packages that found it ("frame: read csv:",
// "gzip:"), which the server log keeps with the request id.
func TestClientErrorsInClientTerms(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	var log syncBuffer
	f := start(t, reg, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	h, r0 := strings.Join(header, ","), strings.Join(rows[0], ",")
	infCSV := strings.Replace(r0, ","+rows[0][1]+",", ",Inf,", 1)
	record := func(v string) string { // row 0 as a dataframe_records body, account_length set to v
		cells := make([]string, len(header))
		for j, name := range header {
			val, _ := json.Marshal(rows[0][j])
			if j == 1 {
				val = []byte(v)
			}
			cells[j] = `"` + name + `": ` + string(val)
		}
		return `{"dataframe_records": [{` + strings.Join(cells, ", ") + `}]}`
	}
	v2 := func(v string) string { // row 0 as V2 tensors, account_length FP64 data v
		inputs := make([]string, len(header))
		for j, name := range header {
			val, _ := json.Marshal(rows[0][j])
			dt := "BYTES"
			if j == 1 {
				val, dt = []byte(v), "FP64"
			}
			inputs[j] = `{"name": "` + name + `", "shape": [1], "datatype": "` + dt + `", "data": [` + string(val) + `]}`
		}
		return `{"inputs": [` + strings.Join(inputs, ", ") + `]}`
	}
	for _, tc := range []struct {
		name, path, contentType, encoding, body string
		want                                    string // the whole message
		logged                                  string // in the server log
	}{
		{"csv quotes", "/invocations", "text/csv", "", h + "\n\"a,b\n",
			`CSV body: line 2: extraneous or missing " in quoted-field`, "frame: read csv: line 2"},
		{"csv fields", "/invocations", "text/csv", "", h + "\n1,2\n",
			"CSV body: line 2: 2 fields where the header has 20: wrong number of fields", "frame: read csv: line 2"},
		{"csv header only", "/invocations", "text/csv", "", h + "\n", "CSV body: no data rows", "frame: read csv: no data rows"},
		{"csv duplicate column", "/invocations", "text/csv", "", h + ",state\n" + r0 + ",KS\n",
			`CSV body: line 1 column "state": duplicate column name (fields 1 and 21)`, "frame: read csv: line 1"},
		{"csv infinity", "/invocations", "text/csv", "", h + "\n" + infCSV + "\n",
			`CSV body: row 1 (line 2) column "account_length": infinite value "Inf"`, "frame: read csv: row 1"},
		{"json infinity text", "/invocations", "application/json", "", record(`"Inf"`),
			`row 1 column "account_length": infinite value "Inf"`, "frame: read rows: row 1"},
		{"json overflow", "/invocations", "application/json", "", record(`1e999`),
			`row 1 column "account_length": infinite value "1e999"`, "frame: read rows: row 1"},
		{"v2 overflow", "/v2/models/churn/infer", "application/json", "", v2(`1e999`),
			`row 1 column "account_length": infinite value "1e999"`, "frame: read"},
		{"gzip that is not", "/invocations", "text/csv", "gzip", h + "\n" + r0 + "\n",
			"the body is not valid gzip data, which its Content-Encoding says it is", "gzip: invalid header"},
		{"deflate that is not", "/invocations", "text/csv", "deflate", h + "\n" + r0 + "\n",
			"the body is not valid deflate data, which its Content-Encoding says it is", "zlib: invalid header"},
		{"gzip corrupt", "/invocations", "text/csv", "gzip", string(corruptGzip(t, h+"\n"+r0+"\n")),
			"the body is not valid gzip data, which its Content-Encoding says it is", "flate: corrupt input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"X-Request-Id", "req-" + strings.ReplaceAll(tc.name, " ", "-")}
			if tc.encoding != "" {
				hdr = append(hdr, "Content-Encoding", tc.encoding)
			}
			code, out, _ := f.post(tc.path, tc.contentType, []byte(tc.body), hdr...)
			var e apiError
			if err := json.Unmarshal(out, &e); err != nil || code != http.StatusBadRequest {
				t.Fatalf("status %d, body %s (%v); want 400 with a JSON error", code, out, err)
			}
			if e.Message != tc.want {
				t.Errorf("message %q; want %q", e.Message, tc.want)
			}
			line := ""
			for l := range strings.Lines(log.String()) {
				if strings.Contains(l, "request="+hdr[1]+" ") {
					line = l
				}
			}
			if !strings.Contains(line, tc.logged) {
				t.Errorf("server log for %s: %q; want the reader's whole error, with %q", hdr[1], line, tc.logged)
			}
		})
	}
}

// corruptGzip returns text gzip-compressed with its deflate data broken
// (a valid header, then a reserved block type).
func corruptGzip(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b[10] = 0xff // the first deflate block header: BTYPE 11 is reserved
	return b
}
