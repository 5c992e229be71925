package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MissingAll is the key of missing_values' mapping form that gives the
// texts read as missing in every column ("*": [NA, "?"]). A column named
// "*" cannot be given texts of its own.
const MissingAll = "*"

// MissingValues is the missing_values key: the texts read as missing in
// every column, and more for single columns, as pandas' na_values, which
// is a list or a dict. It is written as a list (All) or as a mapping of
// column names to lists, where the key "*" (MissingAll) gives All:
//
//	missing_values: [NA, "?"]
//	missing_values: {"*": [NA, "?"], BloodPressure: ["0"]}
//
// A column's texts are read as missing in that column besides All (as
// pandas adds a dict's values to its defaults); a mapping without "*"
// keeps the default All. The zero value means the default.
type MissingValues struct {
	// All are the texts read as missing in every column besides an
	// empty field; nil means none given (Default's), empty none but the
	// empty field.
	All []string
	// Columns holds, by column name, the texts read as missing in that
	// column only, besides All; nil for none.
	Columns map[string][]string
}

// missingType is the reflect type of the missing_values key.
var missingType = reflect.TypeFor[MissingValues]()

const describeMissing = `a list of texts, or a mapping of column names (or "*" for every column) to lists of texts`

// clone returns a deep copy of m, keeping an empty All apart from nil.
func (m MissingValues) clone() MissingValues {
	out := MissingValues{All: cloneSlice(m.All)}
	if m.Columns != nil {
		out.Columns = make(map[string][]string, len(m.Columns))
		for col, texts := range m.Columns {
			out.Columns[col] = cloneSlice(texts)
		}
	}
	return out
}

// unset reports whether m gives nothing, which means the default.
func (m MissingValues) unset() bool { return m.All == nil && len(m.Columns) == 0 }

// MarshalJSON writes m as a list when it has no column texts, as the
// key was written before it took column texts (so run records and
// config hashes of such configs are unchanged), and as an object with
// "*" for All otherwise.
func (m MissingValues) MarshalJSON() ([]byte, error) {
	if len(m.Columns) == 0 {
		return json.Marshal(m.All)
	}
	return json.Marshal(m.mapping())
}

// mapping returns m as one map, All under "*" unless nil.
func (m MissingValues) mapping() map[string][]string {
	out := maps.Clone(m.Columns)
	if m.All != nil {
		out[MissingAll] = m.All
	}
	return out
}

// UnmarshalJSON reads what MarshalJSON writes: null, a list or an object.
func (m *MissingValues) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*m = MissingValues{}
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case bytes.HasPrefix(b, []byte("[")):
		return json.Unmarshal(b, &m.All)
	}
	var byCol map[string][]string
	if err := json.Unmarshal(b, &byCol); err != nil {
		return fmt.Errorf("missing_values: want %s: %w", describeMissing, err)
	}
	if all, ok := byCol[MissingAll]; ok {
		m.All = cloneSlice(all)
		if m.All == nil {
			m.All = []string{}
		}
		delete(byCol, MissingAll)
	}
	if len(byCol) > 0 {
		m.Columns = byCol
	}
	return nil
}

// MarshalYAML writes m as MarshalJSON does, the mapping in flow style
// ("*" first, then the columns in order) so that it stays on one line;
// the zero value is {} (no texts given), since a list written for it
// would load back as [], only empty fields missing.
func (m MissingValues) MarshalYAML() (any, error) {
	if len(m.Columns) == 0 && m.All != nil {
		return m.All, nil
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add := func(key string, texts []string) {
		list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, t := range texts {
			list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t})
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, list)
	}
	if m.All != nil {
		add(MissingAll, m.All)
	}
	for _, col := range slices.Sorted(maps.Keys(m.Columns)) {
		add(col, m.Columns[col])
	}
	return n, nil
}

// parseMissingText parses missing_values in the text form of --set and
// the environment: a YAML flow list or mapping, or the comma-separated
// short form of a list. An empty text is an empty list, as it always
// was: only empty fields are missing.
func parseMissingText(s string) (MissingValues, error) {
	if !utf8.ValidString(s) {
		return MissingValues{}, fmt.Errorf("%q is not valid UTF-8", s)
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		all, err := parseCollectionText(reflect.TypeFor[[]string](), s)
		if err != nil {
			return MissingValues{}, err
		}
		return MissingValues{All: nonNil(all.Interface().([]string))}, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return MissingValues{}, fmt.Errorf("%q is not %s in YAML flow syntax: %v", s, describeMissing, yamlMessage(err))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return MissingValues{}, fmt.Errorf("%q is not %s", s, describeMissing)
	}
	return parseMissingNode(doc.Content[0])
}

// parseMissingNode parses missing_values as a YAML file gives it: a list,
// a mapping, or a scalar read as text (null as an empty list).
func parseMissingNode(n *yaml.Node) (MissingValues, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return MissingValues{All: []string{}}, nil
		}
		return parseMissingText(n.Value)
	case yaml.SequenceNode:
		all, err := missingTexts(n)
		return MissingValues{All: all}, err
	case yaml.MappingNode:
		return parseMissingMapping(n)
	}
	return MissingValues{}, fmt.Errorf("line %d: want %s", n.Line, describeMissing)
}

// parseMissingMapping parses the mapping form: column names, or "*", to
// lists of texts (a single text is a list of one).
func parseMissingMapping(n *yaml.Node) (MissingValues, error) {
	var m MissingValues
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode || kn.Value == "" {
			return MissingValues{}, fmt.Errorf("line %d: keys must be column names or %q", kn.Line, MissingAll)
		}
		if seen[kn.Value] {
			return MissingValues{}, fmt.Errorf("line %d: %q appears twice", kn.Line, kn.Value)
		}
		seen[kn.Value] = true
		texts, err := missingTexts(vn)
		if err != nil {
			return MissingValues{}, fmt.Errorf("%s: %w", kn.Value, err)
		}
		if kn.Value == MissingAll {
			m.All = texts
			continue
		}
		if m.Columns == nil {
			m.Columns = map[string][]string{}
		}
		m.Columns[kn.Value] = texts
	}
	return m, nil
}

// missingTexts parses a list of texts, or one text, never nil.
func missingTexts(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null":
		return []string{n.Value}, nil
	case n.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("line %d: want a list of texts", n.Line)
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("element %d is not a text", i)
		}
		out = append(out, c.Value)
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// hashValue is m as Hash encodes it, and false while it means the
// default def: All nil is def's All, so a mapping without "*" hashes as
// one that spells the default out.
func (m MissingValues) hashValue(def MissingValues) (MissingValues, bool) {
	if m.All == nil {
		m.All = def.All
	}
	if reflect.DeepEqual(m, def) {
		return m, false
	}
	return m, true
}

// checkMissing checks missing_values' column names; whether the data has
// them is for the pipeline to say.
func (c *Config) checkMissing(p *problems) {
	for _, col := range slices.Sorted(maps.Keys(c.MissingValues.Columns)) {
		if col == "" || col == MissingAll {
			p.bad("missing_values", "column name %q: want a column of the data", col)
		}
	}
}
