package continuous

import (
	"encoding/json"
	"math"
)

// A period no model could be scored on (too few rows for the metric) has
// a NaN score, and a strategy without scored periods a NaN mean, which
// encoding/json cannot write: as JSON they are null, and null reads back
// as NaN.

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes a NaN score as null.
func (p Period) MarshalJSON() ([]byte, error) {
	type plain Period
	return json.Marshal(struct {
		plain
		Score *float64 `json:"score"`
	}{plain(p), finite(p.Score)})
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
	p.Score = orNaN(v.Score)
	return nil
}

// MarshalJSON writes a NaN mean as null.
func (s Strategy) MarshalJSON() ([]byte, error) {
	type plain Strategy
	return json.Marshal(struct {
		plain
		Mean *float64 `json:"mean"`
	}{plain(s), finite(s.Mean)})
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
	s.Mean = orNaN(v.Mean)
	return nil
}
