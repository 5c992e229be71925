package serve

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
)

// TestDecodeV2Tensors: a tensor is one column, shape [n] or [n, 1], its
// data of its datatype. A [2, 3] shape over 2 values, an unknown
// datatype, strings in an FP64 tensor and 1.5 in an INT64 one used to be
// read as text cells and answered 200.
func TestDecodeV2Tensors(t *testing.T) {
	tests := []struct {
		name, tensor string
		err          string // "" if accepted
	}{
		{"fp64", `"shape": [2], "datatype": "FP64", "data": [1.5, null]`, ""},
		{"fp32 nested", `"shape": [2, 1], "datatype": "FP32", "data": [[1], [2e3]]`, ""},
		{"int64", `"shape": [2], "datatype": "INT64", "data": [-9007199254740992, 3.0]`, ""},
		{"uint8", `"shape": [2], "datatype": "UINT8", "data": [0, 255]`, ""},
		{"int64 limits", `"shape": [2], "datatype": "INT64", "data": [9223372036854775807, -9223372036854775808]`, ""},
		{"uint64 limit", `"shape": [2], "datatype": "UINT64", "data": [18446744073709551615, 0]`, ""},
		{"past int64", `"shape": [1], "datatype": "INT64", "data": [9223372036854775808]`, "INT64 data cannot hold the number 9223372036854775808"},
		{"bool", `"shape": [2], "datatype": "BOOL", "data": [true, null]`, ""},
		{"bytes", `"shape": [2], "datatype": "BYTES", "data": ["KS", ""]`, ""},
		{"shape [n, 2]", `"shape": [2, 3], "datatype": "FP64", "data": [1, 2]`, "shape [2 3] for 2 values: want [2] or [2, 1]"},
		{"shape [n, 1, 1]", `"shape": [2, 1, 1], "datatype": "FP64", "data": [1, 2]`, "shape [2 1 1]"},
		{"no shape", `"datatype": "FP64", "data": [1, 2]`, "shape [] for 2 values"},
		{"no data", `"shape": [2], "datatype": "FP64"`, "has no data"},
		{"null data", `"shape": [2], "datatype": "FP64", "data": null`, "has no data"},
		{"short shape", `"shape": [3], "datatype": "FP64", "data": [1, 2]`, "shape [3] for 2 values"},
		{"negative shape", `"shape": [-1], "datatype": "FP64", "data": [1, 2]`, "shape [-1]"},
		{"unknown datatype", `"shape": [1], "datatype": "FLOAT", "data": [1]`, `datatype "FLOAT"`},
		{"no datatype", `"shape": [1], "data": [1]`, `datatype ""`},
		{"lower-case datatype", `"shape": [1], "datatype": "fp64", "data": [1]`, `datatype "fp64"`},
		{"string in fp64", `"shape": [2], "datatype": "FP64", "data": [1, "abc"]`, `row 2: FP64 data cannot hold the string "abc"`},
		{"fraction in int64", `"shape": [1], "datatype": "INT64", "data": [1.5]`, "row 1: INT64 data cannot hold the number 1.5"},
		{"int8 overflow", `"shape": [1], "datatype": "INT8", "data": [128]`, "INT8 data cannot hold the number 128"},
		{"negative uint", `"shape": [1], "datatype": "UINT32", "data": [-1]`, "UINT32 data cannot hold the number -1"},
		{"number in bytes", `"shape": [1], "datatype": "BYTES", "data": [415]`, "BYTES data cannot hold the number 415"},
		{"number in bool", `"shape": [1], "datatype": "BOOL", "data": [1]`, "BOOL data cannot hold the number 1"},
		{"object in fp64", `"shape": [1], "datatype": "FP64", "data": [{"a": 1}]`, "cannot hold an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"inputs": [{"name": "a", ` + tt.tensor + `}]}`
			_, tb, err := decodeV2([]byte(body), "")
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("decodeV2(%s) = %v; want accepted", body, err)
			case tt.err == "" && tb.rows != 2:
				t.Fatalf("decodeV2(%s): %d rows; want 2", body, tb.rows)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), `input "a"`)):
				t.Fatalf("decodeV2(%s) = %v; want an error naming input \"a\" and %q", body, err, tt.err)
			}
		})
	}
}

// TestJSONBodyBOM: a JSON body starting with a UTF-8 byte order mark
// decodes as without it, in both protocols, as a CSV body does; it was
// refused as malformed JSON ("invalid character 'ï'").
func TestJSONBodyBOM(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	for _, body := range []string{
		`{"dataframe_split": {"columns": ["a", "k"], "data": [[1, "x"]]}}`,
		`{"dataframe_records": [{"a": 1, "k": "x"}]}`,
		`{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "k", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}`,
	} {
		decode := func(b string) (*table, error) {
			if strings.Contains(b, `"datatype"`) {
				_, tb, err := decodeV2([]byte(b), "k")
				return tb, err
			}
			return decodeMLflow([]byte(b), "application/json", "k", nil)
		}
		want, err := decode(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(bom + body)
		if err != nil || string(got.text()) != string(want.text()) || got.key != "x" {
			t.Errorf("decode(BOM + %s) = %v; want the table without the BOM", body, err)
		}
	}
}

// TestV2RequestedOutputs: a request's "outputs" picks the tensors
// answered, in its order; an unknown name is a 400 naming it and the
// model's outputs. The list used to be ignored: every output came back.
func TestV2RequestedOutputs(t *testing.T) {
	f, churn := serveChurn(t, Options{})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	p, _ := wantPredictions(t, f.reg, churn.Version, writeCSV(t, t.TempDir(), header, rows))
	prob := pipeline.ProbColumn(p.Target.Classes[1])
	body := v2Body(header, rows)
	body["outputs"] = []map[string]string{{"name": prob}, {"name": "prediction"}}
	code, out, _ := f.postJSON("/v2/models/churn/infer", body)
	var got v2Response
	if code != http.StatusOK || json.Unmarshal(out, &got) != nil {
		t.Fatalf("outputs [%s prediction]: %d %s", prob, code, out)
	}
	var names []string
	for _, o := range got.Outputs {
		names = append(names, o.Name)
	}
	if strings.Join(names, ",") != prob+",prediction" {
		t.Errorf("outputs [%s prediction] answered %v", prob, names)
	}
	body["outputs"] = []map[string]string{{"name": "prediction"}, {"name": "score"}}
	code, out, _ = f.postJSON("/v2/models/churn/infer", body)
	if code != http.StatusBadRequest || !strings.Contains(string(out), `\"score\"`) || !strings.Contains(string(out), prob) {
		t.Errorf("unknown output: %d %s; want 400 naming \"score\" and %s", code, out, prob)
	}
}

// TestV2BinaryTensors: a request of Triton's binary tensor extension
// (tritonclient's default for inputs: a JSON header, its length in
// Inference-Header-Content-Length, then raw tensor bytes) is a 415 that
// says to send the data as JSON, with or without a Content-Type. Without
// one it was a 400 "trailing data after the JSON value". A header as long
// as the body holds no binary data and is served.
func TestV2BinaryTensors(t *testing.T) {
	f, _ := serveChurn(t, Options{})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	v2 := mustJSON(v2Body(header, rows))
	withBinary := append(slices.Clone(v2), 0, 0, 0x80, 0x3f) // a float32 1.0 after the JSON
	jsonLen := strconv.Itoa(len(v2))
	for _, tc := range []struct {
		contentType string
		body        []byte
		code        int
	}{
		{"", withBinary, http.StatusUnsupportedMediaType},
		{"application/octet-stream", withBinary, http.StatusUnsupportedMediaType},
		{"application/json", withBinary, http.StatusUnsupportedMediaType},
		{"", v2, http.StatusOK},
	} {
		resp, out := f.do(http.MethodPost, "/v2/models/churn/infer", tc.body, "Content-Type", tc.contentType, "Inference-Header-Content-Length", jsonLen)
		if resp.StatusCode != tc.code || (tc.code != http.StatusOK && !strings.Contains(string(out), "binary_data=False")) {
			t.Errorf("V2 infer with Inference-Header-Content-Length %s of a %d-byte body as %q = %d %s; want %d",
				jsonLen, len(tc.body), tc.contentType, resp.StatusCode, out, tc.code)
		}
	}
}
