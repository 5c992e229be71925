package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// TestProtocolsMatchPredict trains a regressor (ames) and a classifier
// (mlc_churn), serves both, and sends the same rows in every request
// format of both protocols: each answer must equal what predict computes
// on those rows from a file, exactly.
func TestProtocolsMatchPredict(t *testing.T) {
	reg, arts := newRegistry(t)
	houses := trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, houses.Version)
	promote(t, reg, churn.Version)
	f := start(t, reg, Options{})
	for _, c := range []struct {
		name, model, data, target, version string
		rows                               int
	}{
		{"houses", "houses", "ames.csv", "Sale_Price", houses.Version, 25},
		// Every ames row: a text/csv body past 1 MiB, parsed in pieces.
		{"houses/all", "houses", "ames.csv", "Sale_Price", houses.Version, 2930},
		{"churn", "churn", "mlc_churn.csv", "churn", churn.Version, 25},
	} {
		t.Run(c.name, func(t *testing.T) {
			header, rows := csvRows(t, c.data, c.rows)
			drop := slices.Index(header, c.target)
			header = slices.Delete(slices.Clone(header), drop, drop+1)
			for i := range rows {
				rows[i] = slices.Delete(slices.Clone(rows[i]), drop, drop+1)
			}
			p, want := wantPredictions(t, reg, c.version, writeCSV(t, t.TempDir(), header, rows))
			for format, body := range mlflowBodies(header, rows) {
				path := "/v1/models/" + c.model + "/invocations"
				ct := "application/json"
				if format == "csv" {
					ct = "text/csv"
				}
				if format == "query" {
					path = "/invocations?model=" + c.model
				}
				code, out, version := f.post(path, ct, body)
				if code != http.StatusOK || version != c.version {
					t.Fatalf("%s: %d, version %q (want %s): %s", format, code, version, c.version, out)
				}
				checkMLflow(t, format, p, want, out)
			}
			code, out, _ := f.postJSON("/v2/models/"+c.model+"/infer", v2Body(header, rows))
			if code != http.StatusOK {
				t.Fatalf("v2: %d %s", code, out)
			}
			checkV2(t, p, want, c.version, out)
		})
	}
	// Two models served and none named: the request is at fault (400),
	// no model is missing (it was a 404).
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	if code, out, _ := f.post("/invocations", "application/json", mlflowBodies(header, rows)["dataframe_split"]); code != http.StatusBadRequest || !strings.Contains(string(out), "name one with ?model=NAME") {
		t.Errorf("/invocations naming no model of two: %d %s; want 400 saying how to name one", code, out)
	}
}

// mlflowBodies encodes rows in each of MLflow's request formats.
func mlflowBodies(header []string, rows [][]string) map[string][]byte {
	cells := make([][]any, len(rows))
	records := make([]map[string]any, len(rows))
	columns := map[string][]any{}
	for i, r := range rows {
		records[i] = map[string]any{}
		for j, s := range r {
			v := jsonCell(s)
			cells[i] = append(cells[i], v)
			records[i][header[j]] = v
			columns[header[j]] = append(columns[header[j]], v)
		}
	}
	enc := func(v any) []byte { b, _ := json.Marshal(v); return b }
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	w.WriteAll(rows)
	split := enc(map[string]any{"dataframe_split": map[string]any{"columns": header, "data": cells}})
	return map[string][]byte{
		"dataframe_split":   split,
		"query":             split,
		"dataframe_records": enc(map[string]any{"dataframe_records": records}),
		"instances":         enc(map[string]any{"instances": records}),
		"inputs":            enc(map[string]any{"inputs": columns}),
		"csv":               buf.Bytes(),
	}
}

func v2Body(header []string, rows [][]string) map[string]any {
	var inputs []map[string]any
	for j, name := range header {
		data := make([]any, len(rows))
		dt := "FP64"
		for i, r := range rows {
			data[i] = jsonCell(r[j])
			if _, ok := data[i].(string); ok {
				dt = "BYTES"
			}
		}
		inputs = append(inputs, map[string]any{"name": name, "shape": []int{len(rows)}, "datatype": dt, "data": data})
	}
	return map[string]any{"id": "req-1", "inputs": inputs}
}

func checkMLflow(t *testing.T, format string, p *pipeline.Predictor, want *pipeline.Prediction, out []byte) {
	t.Helper()
	if p.Target.Task == model.Regression {
		var got struct{ Predictions []float64 }
		if err := json.Unmarshal(out, &got); err != nil || !slices.Equal(got.Predictions, want.Values) {
			t.Fatalf("%s: predictions %v (%v); predict gives %v", format, got.Predictions, err, want.Values)
		}
		return
	}
	var got struct{ Predictions []map[string]any }
	if err := json.Unmarshal(out, &got); err != nil || len(got.Predictions) != len(want.Labels) {
		t.Fatalf("%s: %v: %s", format, err, out)
	}
	k := len(p.Target.Classes)
	for i, rec := range got.Predictions {
		if rec["prediction"] != want.Labels[i] {
			t.Fatalf("%s row %d: prediction %v, predict gives %q", format, i, rec["prediction"], want.Labels[i])
		}
		for c, class := range p.Target.Classes {
			if rec["prob_"+class] != want.Probs[i*k+c] {
				t.Fatalf("%s row %d: prob_%s %v, predict gives %v", format, i, class, rec["prob_"+class], want.Probs[i*k+c])
			}
		}
	}
}

func checkV2(t *testing.T, p *pipeline.Predictor, want *pipeline.Prediction, version string, out []byte) {
	t.Helper()
	var got v2Response
	if err := json.Unmarshal(out, &got); err != nil || got.ModelVersion != version || got.ID != "req-1" {
		t.Fatalf("v2: %v, version %q, id %q", err, got.ModelVersion, got.ID)
	}
	byName := map[string][]any{}
	for _, o := range got.Outputs {
		byName[o.Name] = o.Data
	}
	for i := range byName["prediction"] {
		if p.Target.Task == model.Regression {
			if byName["prediction"][i] != want.Values[i] {
				t.Fatalf("v2 row %d: %v, predict gives %v", i, byName["prediction"][i], want.Values[i])
			}
			continue
		}
		if byName["prediction"][i] != want.Labels[i] || byName["prob_"+p.Target.Classes[1]][i] != want.Probs[2*i+1] {
			t.Fatalf("v2 row %d: %v %v, predict gives %q %v", i, byName["prediction"][i], byName["prob_"+p.Target.Classes[1]][i], want.Labels[i], want.Probs[2*i+1])
		}
	}
	if len(byName["prediction"]) != max(len(want.Values), len(want.Labels)) {
		t.Fatalf("v2: %d predictions", len(byName["prediction"]))
	}
}

// TestBadRequests sends requests a client gets wrong: each gets its
// status and a JSON body naming every problem, never a 5xx.
func TestBadRequests(t *testing.T) {
	f, _ := serveChurn(t, Options{MaxBodyBytes: 64 << 10, MaxRows: 3, MaxExplainRows: 2, Strict: true})
	header, rows := csvRows(t, "mlc_churn.csv", 4)
	split := func(h []string, rs [][]string) map[string]any {
		cells := make([][]any, len(rs))
		for i, r := range rs {
			for _, s := range r {
				cells[i] = append(cells[i], jsonCell(s))
			}
		}
		return map[string]any{"dataframe_split": map[string]any{"columns": h, "data": cells}}
	}
	// Two columns missing, a numeric column of text, an unknown column and
	// an unseen state: all of them are named in one answer.
	var badHeader, badRow []string
	for j, name := range header {
		v := rows[0][j]
		switch name {
		case "area_code", "international_plan":
			continue
		case "account_length":
			v = "long"
		case "state":
			v = "ZZ"
		case "churn":
			name = "favourite_colour"
		}
		badHeader, badRow = append(badHeader, name), append(badRow, v)
	}
	bad := [][]string{badRow}
	huge := bytes.Repeat([]byte("x"), 65<<10)
	cases := []struct {
		name    string
		ct      string
		body    []byte
		path    string
		code    int
		mention []string
	}{
		{"malformed json", "application/json", []byte(`{"dataframe_split": `), "", 400, []string{"malformed JSON"}},
		{"no format", "application/json", []byte(`{"rows": []}`), "", 400, []string{"dataframe_split"}},
		{"two formats", "application/json", []byte(`{"instances": [], "inputs": []}`), "", 400, []string{"exactly one"}},
		{"nested cell", "application/json", []byte(`{"dataframe_records": [{"state": {"a": 1}}]}`), "", 400, []string{`column \"state\"`}},
		{"schema", "application/json", mustJSON(split(badHeader, bad)), "", 400,
			[]string{`area_code`, `international_plan`, `account_length`, `favourite_colour`, `ZZ`, `"missing"`, `"wrong_type"`, `"unseen"`}},
		// A 413 names the flag that raises its limit: the client sees the
		// limit, the server's operator needs the knob.
		{"too many rows", "application/json", mustJSON(split(header, rows)), "", 413, []string{"at most 3", "tabforge serve --max-rows"}},
		{"too many explain rows", "application/json", mustJSON(split(header, rows[:3])), "/v1/models/churn/explain", 413, []string{"at most 2 per explain request", "tabforge serve --max-explain-rows"}},
		{"body too large", "text/csv", huge, "", 413, []string{"over 65536 bytes", "tabforge serve --max-body"}},
		{"unknown model", "application/json", mustJSON(split(header, rows[:1])), "/v1/models/nope/invocations", 404, []string{`nope\" is not served`, "churn"}},
		{"unknown v2 model", "application/json", []byte(`{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1]}]}`), "/v2/models/nope/infer", 404, []string{`nope\" is not served`}},
		{"empty csv", "text/csv", []byte("\n"), "", 400, []string{"empty CSV"}},
		{"deep nesting", "application/json", []byte(`{"dataframe_split": {"columns": ["a"], "data": [[1]], "x": ` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}}`), "", 400, []string{"malformed JSON"}},
		{"v2 ragged", "application/json", []byte(`{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 2]}, {"name": "b", "shape": [1], "datatype": "FP64", "data": [1]}]}`), "/v2/models/churn/infer", 400, []string{"equally long"}},
	}
	for _, c := range cases {
		path := c.path
		if path == "" {
			path = "/invocations"
		}
		// Every error names the request, so a client's report can be
		// found in the server's logs (unknown names used to have none).
		id := "bad-" + strings.ReplaceAll(c.name, " ", "-")
		code, out, _ := f.post(path, c.ct, c.body, "X-Request-Id", id)
		var e apiError
		if code != c.code || json.Unmarshal(out, &e) != nil || e.Message == "" {
			t.Errorf("%s: %d %s; want %d with a JSON error", c.name, code, out, c.code)
			continue
		}
		if e.RequestID != id {
			t.Errorf("%s: request_id %q; want %q: %s", c.name, e.RequestID, id, out)
		}
		for _, m := range c.mention {
			if !strings.Contains(string(out), m) {
				t.Errorf("%s: answer does not mention %s: %s", c.name, m, out)
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestSaturated fills every concurrency slot and checks that the next
// request is refused with 429 and Retry-After, not queued forever.
func TestSaturated(t *testing.T) {
	f, _ := serveChurn(t, Options{MaxConcurrent: 1})
	f.srv.slots <- struct{}{} // a request that never finishes
	req, _ := http.NewRequest(http.MethodPost, f.url+"/invocations", strings.NewReader(`{"instances": [{"state": "KS"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	<-f.srv.slots
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("saturated: %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	metrics := f.get("/metrics")
	if !strings.Contains(metrics, fmt.Sprintf(`tabforge_requests_total{code="429",model="churn",variant="",version=""} 1`)) {
		t.Errorf("metrics do not count the 429:\n%s", grep(metrics, "tabforge_requests_total"))
	}
}

// TestSlowUploadsKeepSlots: clients that send a body slowly used to hold
// prediction slots while they trickled in, so a few of them refused
// every other request with 429. Now they hold reading places only.
func TestSlowUploadsKeepSlots(t *testing.T) {
	f, _ := serveChurn(t, Options{MaxConcurrent: 1, QueueWait: 200 * time.Millisecond})
	addr := strings.TrimPrefix(f.url, "http://")
	for range 2 { // more slow uploads than prediction slots
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /invocations HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"in", addr)
	}
	time.Sleep(100 * time.Millisecond) // let the server start reading them
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	var body strings.Builder
	body.WriteString(strings.Join(header, ",") + "\n" + strings.Join(rows[0], ",") + "\n")
	resp, err := http.Post(f.url+"/invocations", "text/csv", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a request beside two slow uploads: %d %s; want 200", resp.StatusCode, out)
	}
}

// TestDeadline: a request past its deadline is a 503 on every endpoint
// (explain answered 500 "explain failed: context deadline exceeded"),
// without the input report of the rows (their tolerated extra column,
// the target here), which read as the cause.
func TestDeadline(t *testing.T) {
	f, _ := serveChurn(t, Options{RequestTimeout: time.Nanosecond})
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	body := []byte(strings.Join(header, ",") + "\n" + strings.Join(rows[0], ",") + "\n")
	for _, path := range []string{"/invocations", "/v1/models/churn/explain"} {
		if code, out, _ := f.post(path, "text/csv", body); code != http.StatusServiceUnavailable || !strings.Contains(string(out), "deadline") ||
			strings.Contains(string(out), `"input"`) {
			t.Errorf("%s past the deadline: %d %s; want 503 with no input report", path, code, out)
		}
	}
}

func (f *fixture) get(path string) string {
	f.t.Helper()
	resp, err := http.Get(f.url + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(text, s string) string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestExplainAndMetadata asks for SHAP values, V2 metadata and health,
// and checks that the metrics name what was served.
func TestExplainAndMetadata(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	if code, _, _ := start(t, reg, Options{}).post("/invocations", "text/csv", []byte("a\n1\n")); code != http.StatusNotFound {
		t.Errorf("a server with nothing in production answered %d", code)
	}
	promote(t, reg, churn.Version)
	f := start(t, reg, Options{})
	header, rows := csvRows(t, "mlc_churn.csv", 3)
	code, out, version := f.post("/v1/models/churn/explain", "application/json", mlflowBodies(header, rows)["dataframe_records"])
	var ex explainResponse
	if code != http.StatusOK || version != churn.Version || json.Unmarshal(out, &ex) != nil {
		t.Fatalf("explain: %d %s", code, out)
	}
	if len(ex.Values) != 3 || len(ex.Values[0]) != len(ex.BaseValue) || len(ex.Values[0][0]) != len(ex.FeatureNames) || !ex.Exact {
		t.Fatalf("explain: %d rows, base %v, %d features", len(ex.Values), ex.BaseValue, len(ex.FeatureNames))
	}
	var md v2Metadata
	if err := json.Unmarshal([]byte(f.get("/v2/models/churn")), &md); err != nil || md.Name != "churn" || len(md.Inputs) != len(header)-1 || md.Outputs[1].Name != "prob_no" {
		t.Errorf("metadata %+v %v", md, err)
	}
	for _, path := range []string{"/ping", "/v2/health/ready", "/v2/health/live", "/v2/models/churn/ready"} {
		if resp, err := http.Get(f.url + path); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %v %v", path, resp, err)
		}
	}
	f.post("/invocations", "text/csv", []byte(strings.Join(header, ",")+"\n"+strings.Join(rows[0], ",")+"\n"))
	m := f.get("/metrics")
	for _, want := range []string{
		`tabforge_requests_total{code="200",model="churn",variant="explain",version="` + churn.Version + `"} 1`,
		`tabforge_requests_total{code="200",model="churn",variant="production",version="` + churn.Version + `"} 1`,
		`tabforge_model_info{family="logistic",model="churn",role="production",task="binary",version="` + churn.Version + `"} 1`,
		`tabforge_predicted_class_total{class="no",model="churn",variant="production",version="` + churn.Version + `"}`,
		"tabforge_request_duration_seconds_bucket", "tabforge_model_load_seconds_count", "go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestOverflowingInput: numbers so large that the model's arithmetic
// overflows are the request's fault: 400 naming the row, not a bare 500.
func TestOverflowingInput(t *testing.T) {
	reg, arts := newRegistry(t)
	tx := trainModel(t, reg, arts, "txhousing.csv", "median", "ridge", "tx", 1)
	promote(t, reg, tx.Version)
	f := start(t, reg, Options{})
	header, rows := csvRows(t, "txhousing.csv", 1)
	cells := make([]any, len(header))
	for j, s := range rows[0] {
		cells[j] = jsonCell(s)
		if _, ok := cells[j].(json.Number); ok && header[j] != "median" {
			cells[j] = json.Number("1e308")
		}
	}
	body := mustJSON(map[string]any{"dataframe_split": map[string]any{"columns": header, "data": [][]any{cells}}})
	for _, path := range []string{"/invocations", "/v1/models/tx/explain"} {
		code, out, _ := f.post(path, "application/json", body)
		if code != http.StatusBadRequest || !strings.Contains(string(out), "for row 1:") || !strings.Contains(string(out), "out of the range") {
			t.Errorf("%s: %d %s; want 400 naming row 1 as out of range", path, code, out)
		}
	}
}
