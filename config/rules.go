package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RuleKind is the kind of a business rule: bounds, monotonic,
// segment_floor or max_off_share.
type RuleKind string

// Rule kinds (see BusinessRule).
const (
	RuleBounds       RuleKind = "bounds"
	RuleMonotonic    RuleKind = "monotonic"
	RuleSegmentFloor RuleKind = "segment_floor"
	RuleMaxOffShare  RuleKind = "max_off_share"
)

// BusinessRule is a rule the best model's test predictions must satisfy,
// checked on every run and listed in the report. In YAML:
//
//	business_rules:
//	  - {name: positive price, kind: bounds, min: 0, gate: true}
//	  - {name: area raises price, kind: monotonic, feature: Gr_Liv_Area, direction: increasing}
//	  - {name: every city within20 >= 60, kind: segment_floor, threshold: 60, min_rows: 20}
//	  - {name: few wild misses, kind: max_off_share, tolerance: 0.5, threshold: 5}
//
// bounds holds every prediction in [min, max] (either may be left out);
// monotonic requires the partial dependence on feature to be increasing or
// decreasing, allowing drops of threshold times its range (default 0);
// segment_floor requires every segment of segment_column with at least
// min_rows test rows to reach threshold percent within 20% (accuracy for
// classifiers); max_off_share allows at most threshold percent of
// predictions off by more than tolerance (relative, 0.5 = 50%). A failed
// rule with gate true fails the run like a quality gate.
type BusinessRule struct {
	Name      string   `yaml:"name" json:"name"`
	Kind      RuleKind `yaml:"kind" json:"kind"`
	Feature   string   `yaml:"feature,omitempty" json:"feature,omitempty"`
	Min       *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max       *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	Direction string   `yaml:"direction,omitempty" json:"direction,omitempty"`
	Threshold float64  `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	Tolerance float64  `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`
	MinRows   int      `yaml:"min_rows,omitempty" json:"min_rows,omitempty"`
	Gate      bool     `yaml:"gate,omitempty" json:"gate,omitempty"`
}

// validate checks that r has what its kind needs.
func (r BusinessRule) validate() error {
	if r.Name == "" {
		return fmt.Errorf("rule of kind %q has no name", r.Kind)
	}
	pct := func(v float64) bool { return v >= 0 && v <= 100 }
	switch r.Kind {
	case RuleBounds:
		if r.Min == nil && r.Max == nil {
			return fmt.Errorf("rule %q: bounds needs min or max", r.Name)
		}
		// A NaN bound holds nothing (every comparison with it is false), and
		// neither it nor an infinite one encodes as JSON, so the run record
		// and the config hash could not carry the rule; leave a side out to
		// leave it unbounded.
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", r.Min}, {"max", r.Max}} {
			if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
				return fmt.Errorf("rule %q: %s %s is not a finite number; leave it out for no bound", r.Name, b.name, fmtFloat(*b.v))
			}
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			return fmt.Errorf("rule %q: min %s is above max %s", r.Name, fmtFloat(*r.Min), fmtFloat(*r.Max))
		}
	case RuleMonotonic:
		if r.Feature == "" {
			return fmt.Errorf("rule %q: monotonic needs a feature", r.Name)
		}
		if r.Direction != "increasing" && r.Direction != "decreasing" {
			return fmt.Errorf("rule %q: direction %q is not one of increasing, decreasing", r.Name, r.Direction)
		}
		if !(r.Threshold >= 0 && r.Threshold < 1) {
			return fmt.Errorf("rule %q: threshold %s (allowed relative drop) out of range [0, 1)", r.Name, fmtFloat(r.Threshold))
		}
	case RuleSegmentFloor:
		if !pct(r.Threshold) {
			return fmt.Errorf("rule %q: threshold %s out of range [0, 100]", r.Name, fmtFloat(r.Threshold))
		}
		if r.MinRows < 0 {
			return fmt.Errorf("rule %q: min_rows %d is negative", r.Name, r.MinRows)
		}
	case RuleMaxOffShare:
		if !(r.Tolerance > 0) || math.IsInf(r.Tolerance, 0) {
			return fmt.Errorf("rule %q: tolerance %s is not a positive relative error (0.5 = 50%%)", r.Name, fmtFloat(r.Tolerance))
		}
		if !pct(r.Threshold) {
			return fmt.Errorf("rule %q: threshold %s out of range [0, 100]", r.Name, fmtFloat(r.Threshold))
		}
	default:
		return fmt.Errorf("rule %q: kind %q is not one of bounds, monotonic, segment_floor, max_off_share", r.Name, r.Kind)
	}
	return nil
}

// validateRules checks every rule and that names are unique.
func validateRules(rules []BusinessRule) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rules {
		if err := r.validate(); err != nil {
			out = append(out, err.Error())
			continue
		}
		if seen[r.Name] {
			out = append(out, fmt.Sprintf("rule %q appears twice", r.Name))
		}
		seen[r.Name] = true
	}
	return out
}

func cloneRules(rules []BusinessRule) []BusinessRule {
	if rules == nil {
		return nil
	}
	out := make([]BusinessRule, len(rules))
	for i, r := range rules {
		if r.Min != nil {
			v := *r.Min
			r.Min = &v
		}
		if r.Max != nil {
			v := *r.Max
			r.Max = &v
		}
		out[i] = r
	}
	return out
}

// parseStruct decodes a YAML mapping into a struct of type t by the
// fields' yaml tags, rejecting unknown keys; scalar fields go through
// parseText, so files and --set accept the same spellings.
func parseStruct(t reflect.Type, n *yaml.Node) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	if n.Kind != yaml.MappingNode {
		return v, fmt.Errorf("got %s; want a mapping", nodeKind(n))
	}
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		fields[name] = i
		names = append(names, name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		fi, ok := fields[kn.Value]
		if !ok {
			return v, fmt.Errorf("unknown field %q (allowed: %s)", kn.Value, strings.Join(names, ", "))
		}
		ft := t.Field(fi).Type
		if vn.Kind != yaml.ScalarNode {
			return v, fmt.Errorf("%s: want a single value", kn.Value)
		}
		if ft.Kind() == reflect.Pointer {
			e, err := parseText(ft.Elem(), vn.Value)
			if err != nil {
				return v, fmt.Errorf("%s: %w", kn.Value, err)
			}
			p := reflect.New(ft.Elem())
			p.Elem().Set(e)
			v.Field(fi).Set(p)
			continue
		}
		e, err := parseText(ft, vn.Value)
		if err != nil {
			return v, fmt.Errorf("%s: %w", kn.Value, err)
		}
		v.Field(fi).Set(e)
	}
	return v, nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "a value"
}
