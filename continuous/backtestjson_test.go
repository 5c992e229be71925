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

// TestDecisionJSON: a decision with undefined scores encodes them as null
// (json.Marshal refused it, so `retrain --json` failed after recording
// the decision); defined ones keep their keys and values.
func TestDecisionJSON(t *testing.T) {
	d := Decision{Decision: Keep, Metric: "r2", ChampionScore: 0.5, ChallengerScore: math.NaN(),
		Refresh: &RefreshResult{CheckRows: 3, ChampionScore: math.NaN(), RefreshedScore: 0.25}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"champion_score":0.5`, `"challenger_score":null`, `"champion_score":null`, `"refreshed_score":0.25`, `"check_rows":3`, `"decision":"keep"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s; want %s", b, want)
		}
	}
	if n := strings.Count(string(b), `"champion_score"`); n != 2 {
		t.Errorf("JSON %s has %d champion_score keys; want one in the decision and one in the refresh", b, n)
	}
}
