package continuous

import (
	"encoding/json"

	"github.com/tabforge/tabforge/eval"
)

// A period no model could be scored on (too few rows for the metric) has
// a NaN score, and a strategy without scored periods a NaN mean, which
// encoding/json cannot write: as JSON they are null, and null reads back
// as NaN.

// MarshalJSON writes a NaN score as null.
func (p Period) MarshalJSON() ([]byte, error) {
	type plain Period
	return json.Marshal(struct {
		plain
		Score *float64 `json:"score"`
	}{plain(p), eval.JSONValue(p.Score)})
}

// UnmarshalJSON reads a null score as NaN.
func (p *Period) UnmarshalJSON(b []byte) error {
	type plain Period
	var v struct {
		plain
		Score *float64 `json:"score"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Period(v.plain)
	p.Score = eval.FromJSONValue(v.Score)
	return nil
}

// MarshalJSON writes a NaN mean as null.
func (s Strategy) MarshalJSON() ([]byte, error) {
	type plain Strategy
	return json.Marshal(struct {
		plain
		Mean *float64 `json:"mean"`
	}{plain(s), eval.JSONValue(s.Mean)})
}

// UnmarshalJSON reads a null mean as NaN.
func (s *Strategy) UnmarshalJSON(b []byte) error {
	type plain Strategy
	var v struct {
		plain
		Mean *float64 `json:"mean"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Strategy(v.plain)
	s.Mean = eval.FromJSONValue(v.Mean)
	return nil
}

// MarshalJSON writes NaN scores as null. A retrain decision's scores
// are NaN when undefined (a challenger whose predictions are not
// numbers, a refresh check that could not score), which encoding/json
// refuses: `retrain --json` failed after the decision was recorded.
func (d Decision) MarshalJSON() ([]byte, error) {
	type plain Decision
	return json.Marshal(struct {
		plain
		ChampionScore   *float64 `json:"champion_score"`
		ChallengerScore *float64 `json:"challenger_score"`
	}{plain(d), eval.JSONValue(d.ChampionScore), eval.JSONValue(d.ChallengerScore)})
}

// MarshalJSON writes NaN scores as null.
func (r RefreshResult) MarshalJSON() ([]byte, error) {
	type plain RefreshResult
	return json.Marshal(struct {
		plain
		ChampionScore  *float64 `json:"champion_score"`
		RefreshedScore *float64 `json:"refreshed_score"`
	}{plain(r), eval.JSONValue(r.ChampionScore), eval.JSONValue(r.RefreshedScore)})
}
