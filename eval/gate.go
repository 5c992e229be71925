package eval

import "encoding/json"

// Gate is one quality check on a model's test metrics (a metric floor, the
// latency limit, a business rule) and its outcome.
type Gate struct {
	Name      string  `json:"name"`
	Metric    string  `json:"metric"`
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Passed    bool    `json:"passed"`
	// Max means Value must not exceed Threshold (latency); otherwise it
	// must reach it.
	Max bool `json:"max,omitempty"`
	// Detail, when set, describes the outcome in words (business rules)
	// and is what a list of failures shows.
	Detail string `json:"detail,omitempty"`
}

// MarshalJSON writes an undefined Value (the metric of a single test
// row, say) as null.
func (g Gate) MarshalJSON() ([]byte, error) {
	type plain Gate
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(g), JSONValue(g.Value)})
}

// UnmarshalJSON reads what MarshalJSON writes: a null Value is NaN.
func (g *Gate) UnmarshalJSON(b []byte) error {
	type plain Gate
	var v struct {
		plain
		Value *float64 `json:"value"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*g = Gate(v.plain)
	g.Value = FromJSONValue(v.Value)
	return nil
}
