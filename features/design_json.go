package features

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// Versions of Design's JSON encoding; UnmarshalJSON rejects any other.
// Version 2 reads datetime columns in the civil time each value was
// written in (frame.Column.Local); version 1 read them in UTC, and a
// version 1 design keeps doing so, so a model saved then predicts as it
// did. A design without datetime columns reads the same in both and is
// still written as version 1, which older tabforge loads. Version 3
// encodes a label unseen in training as OtherLevel in a column that pools
// labels (see Design.unseenZero); versions 1 and 2 keep encoding it as
// all zeros. Only a design with a pooled column is written as version 3.
const (
	designVersionUTC   = 1
	designVersionLocal = 2
	designVersionOther = 3
)

// designJSON is Design's JSON encoding.
//
//	{"version": 2,                                          // 1 without datetime columns, 3 with pooled labels
//	 "spec": {"one_hot": true, "scale": true, ...},          // DesignSpec, empty fields omitted
//	 "columns": [                                            // inputs, training-frame order
//	   {"name": "age", "kind": "numeric",
//	    "features": [{"part": "value", "fill": 35, "mean": 37.2, "scale": 10.9}]},
//	   {"name": "date", "kind": "datetime",
//	    "features": [{"part": "year", ...}, {"part": "month", ...}, {"part": "dow", ...}]},
//	   {"name": "home", "kind": "categorical",
//	    "levels": ["__missing__", "owner", "rent"],           // sorted; output order
//	    "pooled": ["x", "y"],                                 // only with MaxOneHotLevels: labels encoded as "__other__"
//	    "missing_as": "__missing__"}]}                        // label of a missing value; absent means NaN / all zeros
//
// A feature computes (v - mean) / scale after filling a missing v with
// fill (unless spec.missing); mean is 0 and scale 1 without spec.scale.
// The output column order is derived: numeric, datetime, categorical
// columns, each group in the order listed.
type designJSON struct {
	Version int          `json:"version"`
	Spec    DesignSpec   `json:"spec"`
	Columns []columnJSON `json:"columns"`
}

type columnJSON struct {
	Name      string        `json:"name"`
	Kind      frame.Kind    `json:"kind"`
	Features  []featureJSON `json:"features,omitempty"`
	Levels    []string      `json:"levels,omitempty"`
	Pooled    []string      `json:"pooled,omitempty"`
	MissingAs string        `json:"missing_as,omitempty"`
}

type featureJSON struct {
	Part  string  `json:"part"`
	Fill  float64 `json:"fill"`
	Mean  float64 `json:"mean"`
	Scale float64 `json:"scale"`
}

// MarshalJSON implements json.Marshaler (on the value, so a Design
// embedded by value encodes too); the encoding is documented on designJSON
// in design_json.go. Floats round-trip exactly.
func (d Design) MarshalJSON() ([]byte, error) {
	out := designJSON{Version: designVersionUTC, Spec: d.spec, Columns: make([]columnJSON, len(d.inputs))}
	if !d.utc && slices.ContainsFunc(d.inputs, func(in *inputColumn) bool { return in.kind == frame.Datetime }) {
		out.Version = designVersionLocal
	}
	if !d.unseenZero && slices.ContainsFunc(d.inputs, func(in *inputColumn) bool { return len(in.pooled) > 0 }) {
		out.Version = designVersionOther
	}
	for i, in := range d.inputs {
		c := columnJSON{Name: in.name, Kind: in.kind, Levels: in.levels, Pooled: in.pooled, MissingAs: in.missingAs}
		for _, p := range in.parts {
			c.Features = append(c.Features, featureJSON{Part: partNames[p.part], Fill: p.fill, Mean: p.mean, Scale: p.scale})
		}
		out.Columns[i] = c
	}
	return json.Marshal(out)
}

// ReadsUTC reports whether d reads a datetime input as its UTC instant
// rather than in the civil time it was written in: only a design saved as
// version 1, before offsets were kept, that has a datetime input does.
func (d *Design) ReadsUTC() bool {
	return d.utc && slices.ContainsFunc(d.inputs, func(in *inputColumn) bool { return in.kind == frame.Datetime })
}

// UnmarshalJSON implements json.Unmarshaler. It validates the encoding, so
// a decoded Design is as usable as a fitted one and produces identical
// matrices.
func (d *Design) UnmarshalJSON(data []byte) error {
	if err := checkVersion(data, "design", designVersionUTC, designVersionOther); err != nil {
		return fmt.Errorf("features: decode design: %w", err)
	}
	var in designJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("features: decode design: %w", err)
	}
	if err := in.Spec.validate(); err != nil {
		return fmt.Errorf("features: decode design: %w", err)
	}
	out := Design{spec: in.Spec, utc: in.Version == designVersionUTC, unseenZero: in.Version < designVersionOther}
	seen := make(map[string]bool, len(in.Columns))
	for _, c := range in.Columns {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("features: decode design: empty or duplicate column name %q", c.Name)
		}
		seen[c.Name] = true
		col, err := c.decode()
		if err != nil {
			return fmt.Errorf("features: decode design: column %q: %w", c.Name, err)
		}
		out.inputs = append(out.inputs, col)
	}
	if err := out.layout(); err != nil {
		return fmt.Errorf("features: decode design: %w", err)
	}
	*d = out
	return nil
}

func (c *columnJSON) decode() (*inputColumn, error) {
	in := &inputColumn{name: c.Name, kind: c.Kind}
	var want []datePart
	switch c.Kind {
	case frame.Numeric:
		want = []datePart{partValue}
	case frame.Datetime:
		want = []datePart{partYear, partMonth, partDow}
		if len(c.Features) == 2 {
			want = want[:2]
		}
	case frame.Categorical:
		if len(c.Features) > 0 {
			return nil, fmt.Errorf("categorical column with numeric features")
		}
		in.levels, in.pooled, in.missingAs = c.Levels, c.Pooled, c.MissingAs
		return in, nil // levels are checked by layout
	default:
		return nil, fmt.Errorf("unsupported kind %v", c.Kind)
	}
	if len(c.Levels)+len(c.Pooled) > 0 || c.MissingAs != "" {
		return nil, fmt.Errorf("%s column with categorical fields", c.Kind)
	}
	if len(c.Features) != len(want) {
		return nil, fmt.Errorf("%d features, want %d", len(c.Features), len(want))
	}
	for k, f := range c.Features {
		if f.Part != partNames[want[k]] {
			return nil, fmt.Errorf("feature %d is %q, want %q", k, f.Part, partNames[want[k]])
		}
		if !finite(f.Fill) || !finite(f.Mean) || !finite(f.Scale) || !(f.Scale > 0) {
			return nil, fmt.Errorf("feature %q: invalid statistics (fill %g, mean %g, scale %g)", f.Part, f.Fill, f.Mean, f.Scale)
		}
		in.parts = append(in.parts, numericFeature{part: want[k], fill: f.Fill, mean: f.Mean, scale: f.Scale})
	}
	return in, nil
}
