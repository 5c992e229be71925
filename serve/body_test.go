package serve

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestEncodedBodies: a body sent with Content-Encoding gzip or deflate is
// decoded, within the body limit as sent and once decoded. A gzip body
// used to be read as the CSV or JSON it compresses and refused for
// missing every column (400); an encoding the server cannot decode is a
// 415 naming it.
func TestEncodedBodies(t *testing.T) {
	f, _ := serveChurn(t, Options{MaxBodyBytes: 64 << 10})
	header, rows := csvRows(t, "mlc_churn.csv", 5)
	drop := slices.Index(header, "churn")
	header = slices.Delete(slices.Clone(header), drop, drop+1)
	for i := range rows {
		rows[i] = slices.Delete(slices.Clone(rows[i]), drop, drop+1)
	}
	bodies := mlflowBodies(header, rows)
	code, want, _ := f.post("/invocations", "text/csv", bodies["csv"])
	if code != http.StatusOK {
		t.Fatalf("plain CSV: %d %s", code, want)
	}
	// 1 MiB of spaces after the JSON: a few KiB gzipped, over the limit
	// decoded.
	bomb := append(slices.Clone(bodies["dataframe_split"]), bytes.Repeat([]byte(" "), 1<<20)...)
	tests := []struct {
		name, ct, encoding string
		body               []byte
		code               int
		mention            string
	}{
		{"gzip csv", "text/csv", "gzip", compress(t, "gzip", bodies["csv"]), 200, ""},
		{"gzip json", "application/json", "gzip", compress(t, "gzip", bodies["dataframe_split"]), 200, ""},
		{"deflate json", "application/json", "deflate", compress(t, "deflate", bodies["dataframe_records"]), 200, ""},
		{"upper-case gzip", "text/csv", "GZIP", compress(t, "gzip", bodies["csv"]), 200, ""},
		{"identity", "text/csv", "identity", bodies["csv"], 200, ""},
		{"gzip bomb", "application/json", "gzip", compress(t, "gzip", bomb), 413, "tabforge serve --max-body"},
		{"not gzip", "text/csv", "gzip", bodies["csv"], 400, "gzip"},
		{"brotli", "text/csv", "br", bodies["csv"], 415, `Content-Encoding \"br\" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := f.post("/invocations", tt.ct, tt.body, "Content-Encoding", tt.encoding)
			if code != tt.code || (tt.code == 200 && !bytes.Equal(out, want)) || !strings.Contains(string(out), tt.mention) {
				t.Fatalf("%s body: %d %s; want %d %s", tt.encoding, code, out, tt.code, tt.mention)
			}
		})
	}
	// The V2 protocol reads its bodies the same way.
	v2 := mustJSON(v2Body(header, rows))
	if code, out, _ := f.post("/v2/models/churn/infer", "application/json", compress(t, "gzip", v2), "Content-Encoding", "gzip"); code != http.StatusOK {
		t.Errorf("gzip V2 body: %d %s", code, out)
	}
}

// compress encodes b with a Content-Encoding, gzip or deflate.
func compress(t *testing.T, encoding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser = gzip.NewWriter(&buf)
	if encoding == "deflate" {
		w = zlib.NewWriter(&buf)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCSVRoutingKey: a CSV body's routing key is read as the predictor
// reads the body. With a semicolon separator or a byte order mark before
// the key's column the key used to be missed, so a sticky route sent
// those clients anywhere.
func TestCSVRoutingKey(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"comma", "id,x\nc-7,1\n", "c-7"},
		{"semicolon", "id;x\nc-7;1,5\n", "c-7"},
		{"tab", "x\tid\n1\tc-7\n", "c-7"},
		{"byte order mark", "\xef\xbb\xbfid,x\nc-7,1\n", "c-7"},
		{"semicolon past 4 KB", "id;x\nc-7;1,5\n" + strings.Repeat("c-8;2,5\n", 1000), "c-7"},
		{"classic Mac line ends", "id,x\rc-7,1\r", "c-7"},
		{"no such column", "x,y\n1,2\n", ""},
		{"header only", "id,x\n", ""},
	} {
		tab, err := csvTable([]byte(tc.body), "id")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tab.key != tc.want {
			t.Errorf("%s: key %q; want %q", tc.name, tab.key, tc.want)
		}
	}
}
