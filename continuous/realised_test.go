package continuous

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/eval"
)

// A prediction log as tabforge serve writes it: a regression model in
// two versions over two days, one two-row request, a shadow line, and a
// classifier.
const predLog = `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"price","version":"v1","variant":"production","rows":2,"inputs_sha256":"x","predictions":[10,20]}
{"request_id":"b","time":"2024-03-01T11:00:00Z","model":"price","version":"v1","variant":"production","rows":1,"inputs_sha256":"x","predictions":[30]}
{"request_id":"b","time":"2024-03-01T11:00:00Z","model":"price","version":"v2","variant":"shadow","shadow":true,"rows":1,"inputs_sha256":"x","predictions":[33]}
{"request_id":"c","time":"2024-03-02T09:00:00Z","model":"price","version":"v2","variant":"production","rows":1,"inputs_sha256":"x","predictions":[41]}

{"request_id":"d","time":"2024-03-02T09:00:00Z","model":"churn","version":"c1","variant":"production","rows":2,"inputs_sha256":"x","predictions":[{"prediction":"yes","prob_no":0.2,"prob_yes":0.8},{"prediction":"no","prob_no":0.9,"prob_yes":0.1}]}
{"request_id":"e","time":"2024-03-02T09:00:00Z","model":"price","version":"v2","variant":"production","rows":1,"inputs_sha256":"x","predictions":[50]}
`

func TestRealise(t *testing.T) {
	actuals := "request_id,row,actual\na,0,12\na,1,18\nb,0,29\nc,0,40\nd,0,yes\nd,1,yes\nzz,0,1\n"
	r, err := Realise(strings.NewReader(predLog), strings.NewReader(actuals), RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 8 predicted rows; e has no actual; zz no prediction.
	if r.Predictions != 8 || r.Joined != 7 || r.Unmatched != 1 {
		t.Errorf("Realise = %d predictions, %d joined, %d unmatched; want 8, 7, 1", r.Predictions, r.Joined, r.Unmatched)
	}
	v1, _ := eval.Regression([]float64{12, 18, 29}, []float64{10, 20, 30})
	want := []Realised{
		{Model: "churn", Version: "c1", Day: "2024-03-02", Rows: 2, Metrics: map[string]float64{"accuracy": 0.5}},
		{Model: "price", Version: "v1", Day: "2024-03-01", Rows: 3, Metrics: v1},
		{Model: "price", Version: "v2", Day: "2024-03-01", Rows: 1, Metrics: map[string]float64{"rmse": 4, "mae": 4}},
		{Model: "price", Version: "v2", Day: "2024-03-02", Rows: 1, Metrics: map[string]float64{"rmse": 1, "mae": 1}},
	}
	if len(r.Groups) != len(want) {
		t.Fatalf("Realise groups = %+v; want %+v", r.Groups, want)
	}
	for i, g := range r.Groups {
		w := want[i]
		if g.Model != w.Model || g.Version != w.Version || g.Day != w.Day || g.Rows != w.Rows {
			t.Errorf("group %d = %+v; want %+v", i, g, w)
		}
		for k, v := range w.Metrics {
			if math.Abs(g.Metrics[k]-v) > 1e-12 {
				t.Errorf("group %d %s = %v; want %v", i, k, g.Metrics[k], v)
			}
		}
	}
}

// TestRealisePending: actuals that are not known yet (empty or a
// missing-value token) are left out and counted; a later line may bring
// a row's actual. Such a file used to fail the whole report ("actual ""
// of request a is not a number").
func TestRealisePending(t *testing.T) {
	actuals := "request_id,row,actual\na,0,\na,1,NA\nb,0, \nc,0,\nc,0,40\n"
	r, err := Realise(strings.NewReader(predLog), strings.NewReader(actuals), RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Joined != 1 || r.Pending != 3 || r.Unmatched != 0 {
		t.Errorf("Realise = %d joined, %d pending, %d unmatched; want 1, 3, 0", r.Joined, r.Pending, r.Unmatched)
	}
	if len(r.Groups) != 1 || r.Groups[0].Version != "v2" || r.Groups[0].Metrics["mae"] != 1 {
		t.Errorf("Realise groups = %+v; want c's row alone (v2, mae 1)", r.Groups)
	}
}

// TestRealiseClassSpelling: an actual is a class by training's rule
// (pipeline.SameClass), the model's classes read from its records'
// probabilities. A model trained on numbers reads "1.0" as its class
// "1"; one trained on text labels "01", "1" and "x" has "01" as a class
// of its own, which used to count as a hit for a prediction of "1".
func TestRealiseClassSpelling(t *testing.T) {
	log := `{"request_id":"n","time":"2024-03-01T10:00:00Z","model":"grade","version":"g1","predictions":[{"prediction":"1","prob_0":0.1,"prob_1":0.9}]}
{"request_id":"t","time":"2024-03-01T10:00:00Z","model":"codes","version":"k1","predictions":[{"prediction":"1","prob_01":0.2,"prob_1":0.7,"prob_x":0.1},{"prediction":"01","prob_01":0.6,"prob_1":0.3,"prob_x":0.1}]}
`
	actuals := "request_id,row,actual\nn,0,1.0\nt,0,01\nt,1,1\n"
	r, err := Realise(strings.NewReader(log), strings.NewReader(actuals), RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"grade": 1, "codes": 0}
	if len(r.Groups) != len(want) {
		t.Fatalf("Realise groups = %+v; want one per model", r.Groups)
	}
	for _, g := range r.Groups {
		if g.Metrics["accuracy"] != want[g.Model] {
			t.Errorf("%s accuracy = %v; want %v", g.Model, g.Metrics["accuracy"], want[g.Model])
		}
	}
}

// TestRealiseModelMissing: each version's actuals are read with its own
// missing texts, those without a prediction with Missing. Version r1,
// trained with missing_values [] (only empty fields missing), has a
// class "NA" (North America), a hit; version p1 reads "?" as not known.
func TestRealiseModelMissing(t *testing.T) {
	log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"region","version":"r1","predictions":[{"prediction":"NA","prob_EU":0.1,"prob_NA":0.9}]}
{"request_id":"b","time":"2024-03-01T10:00:00Z","model":"price","version":"p1","predictions":[10]}
`
	actuals := "request_id,actual\na,NA\nb,?\nc,?\nd,NA\n"
	tokens := map[string][]string{"r1": {""}, "p1": {"", "?"}}
	r, err := Realise(strings.NewReader(log), strings.NewReader(actuals), RealiseOptions{
		ModelMissing: func(_, version string) ([]string, error) { return tokens[version], nil }})
	if err != nil {
		t.Fatal(err)
	}
	// c ("?") has no prediction and Missing is the default list: unmatched; d (NA) is pending.
	if r.Joined != 1 || r.Pending != 2 || r.Unmatched != 1 || len(r.Groups) != 1 || r.Groups[0].Metrics["accuracy"] != 1 {
		t.Errorf("Realise = %+v; want region's NA joined and right, b and d pending, c unmatched", r)
	}
}

// TestRealiseBOM: an actuals file saved with a byte order mark (Excel's
// "CSV UTF-8") reads; its header was "\ufeffrequest_id".
func TestRealiseBOM(t *testing.T) {
	if _, err := Realise(strings.NewReader(predLog), strings.NewReader("\uFEFFrequest_id,actual\na,1\n"), RealiseOptions{}); err != nil {
		t.Errorf("Realise with a BOM: %v", err)
	}
}

// TestRealiseSeparators: actuals written with another separator read,
// detected or given (--sep); the header used to be one field.
func TestRealiseSeparators(t *testing.T) {
	tests := []struct {
		name    string
		actuals string
		comma   rune
	}{
		{"semicolon detected", "request_id;row;actual\na;0;12\na;1;18\n", 0},
		{"tab detected", "request_id\trow\tactual\na\t0\t12\na\t1\t18\n", 0},
		{"pipe given", "request_id|row|actual\na|0|12\na|1|18\n", '|'},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Realise(strings.NewReader(predLog), strings.NewReader(tc.actuals), RealiseOptions{Comma: tc.comma})
			if err != nil {
				t.Fatal(err)
			}
			if r.Joined != 2 {
				t.Errorf("joined %d rows; want 2", r.Joined)
			}
		})
	}
}

func TestRealiseErrors(t *testing.T) {
	tests := []struct{ name, log, actuals, err string }{
		{"no actual column", predLog, "request_id,y\na,1\n", "want request_id and actual"},
		{"bad row", predLog, "request_id,row,actual\na,x,1\n", "not a row number"},
		{"label for a number", predLog, "request_id,actual\na,high\n", "not a number"},
		{"bad log", "{not json\n", "request_id,actual\na,1\n", "line 1"},
		{"bad predictions", `{"request_id":"a","predictions":"x"}` + "\n", "request_id,actual\na,1\n", "neither numbers nor records"},
		{"two actuals of a row", predLog, "request_id,actual\na,1\nb,2\na,3\n", "lines 2 and 4"},
		// The metrics refused it as "y[0] = +Inf", naming no request.
		{"infinite actual", predLog, "request_id,row,actual\na,1,Inf\n", "actual \"Inf\" of request a row 1 is not a finite number"},
		// Cut short, yet followed by a whole line: damage, not a stop.
		{"cut line inside", predLog[:40] + "\n" + predLog, "request_id,actual\na,1\n", "line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Realise(strings.NewReader(tc.log), strings.NewReader(tc.actuals), RealiseOptions{}); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Realise = %v; want an error containing %q", err, tc.err)
			}
		})
	}
}

// TestRealiseZeroActual: a day whose actuals include a 0 has no MAPE (a
// zero has no percentage error): it is named undefined and left out of
// the metrics, the others stand. It was 4.5e15 times the prediction.
func TestRealiseZeroActual(t *testing.T) {
	log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"sales","version":"s1","predictions":[3,20]}` + "\n"
	r, err := Realise(strings.NewReader(log), strings.NewReader("request_id,row,actual\na,0,0\na,1,19\n"), RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != 1 {
		t.Fatalf("Realise groups = %+v; want one", r.Groups)
	}
	g := r.Groups[0]
	// mae: (|3-0| + |20-19|)/2 = 2.
	if _, ok := g.Metrics["mape"]; ok || g.Metrics["mae"] != 2 || !slices.Equal(g.Undefined, []string{"mape"}) {
		t.Errorf("Realise = %+v; want mape undefined and left out, mae 2", g)
	}
}

// TestRealiseNoModelStore: when no version's missing texts can be read
// (ErrNoModelStore: the store is absent or unreachable), the actuals
// are read with Missing and the report warns once; any other error of
// ModelMissing still stops Realise.
func TestRealiseNoModelStore(t *testing.T) {
	log := `{"request_id":"a","time":"2024-03-01T10:00:00Z","model":"price","version":"p1","predictions":[10]}
{"request_id":"b","time":"2024-03-01T10:00:00Z","model":"price","version":"p2","predictions":[20,30]}
`
	actuals := "request_id,row,actual\na,0,11\nb,0,?\nb,1,31\n"
	calls := 0
	unavailable := func(_, _ string) ([]string, error) {
		calls++
		return nil, fmt.Errorf("%w: store sqlite://x.db does not exist", ErrNoModelStore)
	}
	r, err := Realise(strings.NewReader(log), strings.NewReader(actuals), RealiseOptions{Missing: []string{"", "?"}, ModelMissing: unavailable})
	if err != nil {
		t.Fatalf("Realise without the store: %v", err)
	}
	if r.Joined != 2 || r.Pending != 1 || calls != 1 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "sqlite://x.db") {
		t.Errorf("Realise = %+v after %d calls; want 2 joined, 1 pending (read with Missing), one call and one warning naming the store", r, calls)
	}
	broken := func(_, _ string) ([]string, error) { return nil, errors.New("registry: version p1: corrupt record") }
	if _, err := Realise(strings.NewReader(log), strings.NewReader(actuals), RealiseOptions{ModelMissing: broken}); err == nil || !strings.Contains(err.Error(), "corrupt record") {
		t.Errorf("Realise with a failing registry: %v; want its error", err)
	}
}

// TestRealiseCutLastLine: a server killed between two flushes of its
// log buffer leaves the last line cut short, without a newline. The lines
// before it are whole and reported, with a warning naming the cut line;
// the whole report used to fail ("unexpected end of JSON input").
func TestRealiseCutLastLine(t *testing.T) {
	last := strings.LastIndex(predLog[:len(predLog)-1], "\n") + 1 // start of the last line
	log := predLog[:last+30]
	actuals := "request_id,row,actual\na,0,12\na,1,18\ne,0,49\n"
	r, err := Realise(strings.NewReader(log), strings.NewReader(actuals), RealiseOptions{})
	if err != nil {
		t.Fatalf("Realise of a log cut short: %v", err)
	}
	// Request e's line was cut: its actual joins nothing.
	if r.Predictions != 7 || r.Joined != 2 || r.Unmatched != 1 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "line 7 is cut short") {
		t.Errorf("Realise = %+v; want 7 predictions, 2 joined, 1 unmatched and a warning naming line 7", r)
	}
}

// TestRealiseStrangerActuals: actuals that are none of the model's
// classes ("No" for a model of no and yes, a 0/1 coding of them) count as
// misses, and the report warns of them per version and day, naming the
// classes and one such actual; the accuracy of 0 they gave was silent.
func TestRealiseStrangerActuals(t *testing.T) {
	log := `{"request_id":"d","time":"2024-03-02T09:00:00Z","model":"churn","version":"c1","predictions":[{"prediction":"yes","prob_no":0.2,"prob_yes":0.8},{"prediction":"no","prob_no":0.9,"prob_yes":0.1},{"prediction":"no","prob_no":0.7,"prob_yes":0.3}]}
`
	r, err := Realise(strings.NewReader(log), strings.NewReader("request_id,row,actual\nd,0,Yes\nd,1,0\nd,2,no\n"), RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != 1 || r.Groups[0].Metrics["accuracy"] != 1.0/3 {
		t.Fatalf("Realise groups = %+v; want one, accuracy 1/3", r.Groups)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `churn c1 on 2024-03-02: 2 of 3 actuals are none of the model's classes (no, yes), such as "Yes"`) {
		t.Errorf("Realise warnings = %q; want one naming 2 of 3 actuals, the classes and \"Yes\"", r.Warnings)
	}
	// Known classes only: no warning.
	r, err = Realise(strings.NewReader(log), strings.NewReader("request_id,row,actual\nd,0,no\nd,1,no\n"), RealiseOptions{})
	if err != nil || len(r.Warnings) != 0 {
		t.Errorf("Realise of known classes: %v, warnings %q; want none", err, r.Warnings)
	}
}

// TestRealiseRowsFromOne: actuals numbering a request's rows from 1 leave
// each request's last actual past its rows, and the report warns, naming
// one; every other one was joined to the row after its own, silently,
// and rows count from 0 was said nowhere. Rows within their requests,
// and actuals of requests not in the log, give no such warning.
func TestRealiseRowsFromOne(t *testing.T) {
	r, err := Realise(strings.NewReader(predLog), strings.NewReader("request_id,row,actual\na,1,12\na,2,18\nb,1,29\n"), RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "2 actuals name a row their request does not have, such as row 2 of request a, which has 2 row(s): rows count from 0") {
		t.Errorf("Realise of rows numbered from 1: warnings %q; want one naming 2 actuals and row 2 of request a", r.Warnings)
	}
	r, err = Realise(strings.NewReader(predLog), strings.NewReader("request_id,row,actual\na,0,12\na,1,18\nzz,5,1\n"), RealiseOptions{})
	if err != nil || len(r.Warnings) != 0 {
		t.Errorf("Realise of rows from 0: %v, warnings %q; want none", err, r.Warnings)
	}
}
