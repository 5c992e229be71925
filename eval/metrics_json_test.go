package eval

import (
	"encoding/json"
	"math"
	"testing"
)

func TestMetricsJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Metrics
		want string
	}{
		{"finite", Metrics{"r2": 0.5, "mae": 2}, `{"mae":2,"r2":0.5}`},
		{"undefined", Metrics{"auc": math.NaN(), "rmse": math.Inf(1), "accuracy": 1}, `{"accuracy":1,"auc":null,"rmse":null}`},
		{"nil", nil, `null`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(b) != tc.want {
			t.Errorf("%s: %s; want %s", tc.name, b, tc.want)
		}
		var back Metrics
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(back) != len(tc.in) || (tc.in == nil) != (back == nil) {
			t.Fatalf("%s: decoded %v from %v", tc.name, back, tc.in)
		}
		for k, v := range tc.in {
			finite := !math.IsNaN(v) && !math.IsInf(v, 0)
			if got := back[k]; (finite && got != v) || (!finite && !math.IsNaN(got)) {
				t.Errorf("%s: %s decoded %v; want %v (NaN where undefined)", tc.name, k, got, v)
			}
		}
	}
	// Inside a struct, as in the run result and the model header.
	b, err := json.Marshal(struct{ Test Metrics }{Metrics{"auc": math.NaN()}})
	if err != nil || string(b) != `{"Test":{"auc":null}}` {
		t.Errorf("in a struct: %s, %v", b, err)
	}
}
