package config

import (
	"strings"
	"testing"
)

func TestBusinessRules(t *testing.T) {
	c := Default()
	err := c.Set("business_rules", `[{name: positive, kind: bounds, min: 0, gate: true}, {name: area, kind: monotonic, feature: x, direction: increasing}]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.BusinessRules) != 2 || c.BusinessRules[0].Min == nil || *c.BusinessRules[0].Min != 0 || !c.BusinessRules[0].Gate || c.BusinessRules[0].Max != nil {
		t.Fatalf("parsed %+v", c.BusinessRules)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// Rules change the hash; no rules hash like a config without the key.
	if c.Hash() == Default().Hash() {
		t.Error("rules do not change the hash")
	}
	d := Default()
	d.BusinessRules = []BusinessRule{}
	if d.Hash() != Default().Hash() {
		t.Error("an empty rule list changes the hash")
	}
	// Clone copies the bounds.
	e := c.Clone()
	*e.BusinessRules[0].Min = 5
	if *c.BusinessRules[0].Min != 0 {
		t.Error("Clone shares a rule's bound")
	}

	bad := []struct{ text, want string }{
		{`[{name: a, kind: bounds}]`, "needs min or max"},
		{`[{name: a, kind: nope}]`, "not one of bounds"},
		{`[{name: a, kind: monotonic, feature: x, direction: up}]`, "direction"},
		{`[{name: a, kind: max_off_share, threshold: 5}]`, "tolerance"},
		{`[{name: a, kind: segment_floor, threshold: 150}]`, "out of range"},
		{`[{name: a, kind: bounds, min: .nan}]`, "min nan is not a finite number"},
		{`[{name: a, kind: bounds, min: 0, max: .inf}]`, "max inf is not a finite number"},
		{`[{name: a, kind: bounds, max: -.inf}]`, "max -inf is not a finite number"},
		{`[{name: a, kind: bounds, min: 0}, {name: a, kind: bounds, max: 1}]`, "appears twice"},
	}
	for _, tc := range bad {
		c := Default()
		if err := c.Set("business_rules", tc.text); err != nil {
			t.Errorf("Set(%s): %v", tc.text, err)
			continue
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "business_rules") {
			t.Errorf("Validate(%s) = %v; want an error about %q", tc.text, err, tc.want)
		}
	}
	for _, text := range []string{`[{name: a, colour: red}]`, `[{name: a, min: [1]}]`, `[{name: a, min: abc}]`} {
		if err := Default().Set("business_rules", text); err == nil {
			t.Errorf("Set(%s): no error", text)
		}
	}
}

// TestRuleColumns checks that rules which could never be checked on the
// run's columns fail validation: they used to fail their gate only after
// the whole run had trained ("could not be checked: no segments").
func TestRuleColumns(t *testing.T) {
	cases := []struct {
		set  []string
		want string // "" means valid
	}{
		{[]string{"business_rules=[{name: f, kind: segment_floor, threshold: 50}]"}, `rule "f": segment_floor needs segment_column`},
		{[]string{"segment_column=city", "business_rules=[{name: f, kind: segment_floor, threshold: 50}]"}, ""},
		{[]string{"target=y", "business_rules=[{name: m, kind: monotonic, feature: y, direction: increasing}]"}, `feature "y" is the target`},
		{[]string{"drop=x", "business_rules=[{name: m, kind: monotonic, feature: x, direction: increasing}]"}, `feature "x" is also in drop`},
		{[]string{"drop=z", "business_rules=[{name: m, kind: monotonic, feature: x, direction: increasing}]"}, ""},
	}
	for _, tc := range cases {
		_, _, err := Load(Sources{Set: tc.set})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Load(%q) = %v; want no error", tc.set, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Load(%q) = %v; want an error containing %q", tc.set, err, tc.want)
		}
	}
}
