package serve

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestRequestErrorsSpeakJSON sends bodies of the wrong shape to a real
// server: each answer is a 400 that names the field and the kind of JSON
// value wanted there, never the Go types the body is decoded into. They
// used to read "cannot unmarshal number into Go struct field
// v2Tensor.inputs.data of type []interface {}", and a NaN (as Python's
// json.dumps writes a float) got no hint that JSON has none.
func TestRequestErrorsSpeakJSON(t *testing.T) {
	f, _ := serveChurn(t, Options{})
	const mlflow, v2 = "/invocations", "/v2/models/churn/infer"
	named := func(a, b string) string {
		return `{"inputs": [{"name": "` + a + `", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "` + b + `", "shape": [1], "datatype": "FP64", "data": [2]}]}`
	}
	tests := []struct {
		name, path, ct, body string
		mention              []string
	}{
		{"array body", mlflow, "application/json", `[1, 2]`, []string{"want an object, got an array"}},
		{"split columns of numbers", mlflow, "application/json", `{"dataframe_split": {"columns": [1], "data": [[1]]}}`,
			[]string{`dataframe_split: field \"columns\": want a string, got a number`}},
		{"split data object", mlflow, "application/json", `{"dataframe_split": {"columns": ["a"], "data": {"a": 1}}}`,
			[]string{`field \"data\": want an array, got an object`}},
		{"records number", mlflow, "application/json", `{"dataframe_records": 5}`, []string{"dataframe_records", "got a number"}},
		{"NaN", mlflow, "application/json", `{"dataframe_records": [{"a": NaN}]}`, []string{"at byte 29", "JSON has no NaN; send null"}},
		{"Infinity", mlflow, "application/json", `{"dataframe_split": {"columns": ["a"], "data": [[-Infinity]]}}`, []string{"JSON has no -Infinity"}},
		{"object cell", mlflow, "application/json", `{"dataframe_records": [{"a": {"b": 1}}]}`,
			[]string{`row 1, column \"a\": a cell must be a number, a string, a boolean or null, not an object`}},
		{"list cell", mlflow, "application/json", `{"dataframe_split": {"columns": ["a"], "data": [[[1, 2]]]}}`, []string{"not a nested list"}},
		{"v2 data number", v2, "application/json", `{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": 5}]}`,
			[]string{`field \"inputs.data\": want an array, got a number`}},
		{"v2 inputs object", v2, "application/json", `{"inputs": {"a": [1]}}`, []string{`field \"inputs\": want an array, got an object`}},
		{"v2 shape of strings", v2, "application/json", `{"inputs": [{"name": "a", "shape": ["1"], "datatype": "FP64", "data": [1]}]}`,
			[]string{`field \"inputs.shape\": want a whole number, got a string`}},
		// It said "want a number, got the number 1.5".
		{"v2 fractional shape", v2, "application/json", `{"inputs": [{"name": "a", "shape": [1.5], "datatype": "FP64", "data": [1]}]}`,
			[]string{`field \"inputs.shape\": want a whole number, got the number 1.5`}},
		{"v2 NaN", v2, "application/json", `{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [NaN]}]}`, []string{"JSON has no NaN"}},
		// Names a JSON client gave were refused in a CSV header's terms:
		// "line 1: field 4: empty column name: name every column in the header".
		{"split duplicate column", mlflow, "application/json", `{"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}`,
			[]string{`column \"a\" is given twice (columns 1 and 2 of 2)`}},
		{"split empty column", mlflow, "application/json", `{"dataframe_split": {"columns": ["a", ""], "data": [[1, 2]]}}`,
			[]string{"column 2 of 2 has no name"}},
		{"split duplicate column, slow path", mlflow, "application/json", `{"dataframe_split": {"data": [[1, 2]], "columns": ["a", "a"]}}`,
			[]string{`column \"a\" is given twice`}},
		{"records empty name", mlflow, "application/json", `{"dataframe_records": [{"": 1, "a": 2}]}`, []string{"column 1 of 2 has no name"}},
		{"v2 duplicate input", v2, "application/json", named("a", "a"), []string{`input \"a\" is given twice (inputs 1 and 2 of 2)`}},
		{"v2 empty name", v2, "application/json", named("a", ""), []string{"input 2 of 2 has no name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := f.post(tt.path, tt.ct, []byte(tt.body))
			var e apiError
			if code != http.StatusBadRequest || json.Unmarshal(out, &e) != nil {
				t.Fatalf("POST %s %s: %d %s; want 400 with a JSON error", tt.path, tt.body, code, out)
			}
			for _, m := range tt.mention {
				if !strings.Contains(string(out), m) {
					t.Errorf("POST %s %s: %s; want it to mention %s", tt.path, tt.body, out, m)
				}
			}
			if csvism := regexp.MustCompile(`line \d|field \d|header`).Find(out); csvism != nil {
				t.Errorf("POST %s %s: %s speaks of a CSV file (%q)", tt.path, tt.body, out, csvism)
			}
			for _, goism := range []string{"Go struct", "Go value", "interface {}", "map[", "json:"} {
				if strings.Contains(e.Message, goism) {
					t.Errorf("POST %s %s: message %q names Go's types (%q)", tt.path, tt.body, e.Message, goism)
				}
			}
		})
	}
}

// TestContentTypes: a body of a media type no route reads is a 415
// naming it; JSON, CSV and the types clients send JSON as without
// meaning it are read. A multipart upload (curl -F) or an XML body was
// read as JSON and answered "malformed JSON body: invalid character '-'".
func TestContentTypes(t *testing.T) {
	f, _ := serveChurn(t, Options{})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	bodies := mlflowBodies(header, rows)
	v2 := mustJSON(v2Body(header, rows))
	tests := []struct {
		path, ct string
		body     []byte
		code     int
	}{
		{"/invocations", "application/json", bodies["dataframe_split"], 200},
		{"/invocations", "application/json; format=pandas-split", bodies["dataframe_split"], 200},
		{"/invocations", "", bodies["dataframe_records"], 200},
		{"/invocations", "text/plain", bodies["dataframe_records"], 200},
		{"/invocations", "application/x-www-form-urlencoded", bodies["dataframe_records"], 200},
		{"/invocations", "application/vnd.api+json", bodies["dataframe_records"], 200},
		{"/invocations", "text/csv; charset=utf-8", bodies["csv"], 200},
		{"/invocations", "application/csv", bodies["csv"], 200},
		{"/invocations", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n" + string(bodies["csv"]) + "\r\n--x--\r\n"), 415},
		{"/invocations", "application/xml", []byte(`<rows/>`), 415},
		{"/invocations", "json", bodies["dataframe_records"], 415},
		{"/v1/models/churn/explain", "application/octet-stream", bodies["dataframe_records"], 415},
		{"/v2/models/churn/infer", "application/json", v2, 200},
		{"/v2/models/churn/infer", "application/octet-stream", v2, 415},
		{"/v2/models/churn/infer", "text/csv", bodies["csv"], 415},
	}
	for _, tt := range tests {
		code, out, _ := f.post(tt.path, tt.ct, tt.body)
		if code != tt.code {
			t.Errorf("POST %s as %q: %d %s; want %d", tt.path, tt.ct, code, out, tt.code)
			continue
		}
		if code == http.StatusUnsupportedMediaType && (!strings.Contains(string(out), "Content-Type") || !strings.Contains(string(out), "text/csv")) {
			t.Errorf("POST %s as %q: %s; want it to name the Content-Type and what is read", tt.path, tt.ct, out)
		}
	}
}

// TestAdminBodyErrors: an admin body of the wrong shape is named in the
// body's terms; they read "json: cannot unmarshal string into Go struct
// field adminBody.shadow of type []string".
func TestAdminBodyErrors(t *testing.T) {
	f, _ := serveChurn(t, Options{AdminToken: "s3cret"})
	tests := []struct{ path, body, mention string }{
		{"/admin/models/churn/route", `{"shadow": "v1"}`, `field \"shadow\": want an array, got a string`},
		{"/admin/models/churn/rollback", `{"reason": 5}`, `field \"reason\": want a string, got a number`},
		{"/admin/models/churn/route", `[1]`, "want an object, got an array"},
		{"/admin/models/churn/route", `{"splits": "production=100"}`, `unknown field \"splits\"`},
	}
	for _, tt := range tests {
		code, out, _ := f.post(tt.path, "application/json", []byte(tt.body), "Authorization", "Bearer s3cret")
		if code != http.StatusBadRequest || !strings.Contains(string(out), tt.mention) {
			t.Errorf("POST %s %s: %d %s; want 400 mentioning %s", tt.path, tt.body, code, out, tt.mention)
		}
		for _, goism := range []string{"Go struct", "Go value", "adminBody", "json:"} {
			if strings.Contains(string(out), goism) {
				t.Errorf("POST %s %s: %s names Go's types (%q)", tt.path, tt.body, out, goism)
			}
		}
	}
}
