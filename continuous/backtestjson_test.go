package continuous

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestBacktestJSON: unscored periods and means encode as null and read
// back as NaN (json.Marshal refused the whole result before); scored ones
// round-trip exactly.
func TestBacktestJSON(t *testing.T) {
	in := BacktestResult{Metric: "r2", Strategies: []Strategy{
		{Name: "static", Mean: 0.5, Trainings: 1, Periods: []Period{{Start: "2015-01", Rows: 3, Score: 0.5}, {Start: "2015-02", Rows: 1, Score: math.NaN()}}},
		{Name: "always", Mean: math.NaN(), Periods: []Period{{Start: "2015-01", Rows: 3, Score: math.Inf(1)}}},
	}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"score":null`) || !strings.Contains(string(b), `"mean":null`) || strings.Count(string(b), `"score"`) != 3 {
		t.Errorf("JSON %s; want null for the NaN and infinite scores and mean, one score key per period", b)
	}
	var out BacktestResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	s := out.Strategies
	if s[0].Mean != 0.5 || s[0].Periods[0].Score != 0.5 || s[0].Periods[0].Rows != 3 || !math.IsNaN(s[0].Periods[1].Score) ||
		!math.IsNaN(s[1].Mean) || !math.IsNaN(s[1].Periods[0].Score) || s[0].Trainings != 1 || s[1].Name != "always" {
		t.Errorf("round trip = %+v", out)
	}
}
