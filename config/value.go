package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// describe names what a value of t looks like, for error messages.
func describe(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[MemorySize]():
		return describeSize
	case missingType:
		return describeMissing
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return "a duration (e.g. 90s, 30m, 2h)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int:
		return "an integer"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "an "), "a ") + "s"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// parseText converts the text form of a value (see the package
// documentation) to a value of type t.
func parseText(t reflect.Type, s string) (reflect.Value, error) {
	if t == missingType {
		m, err := parseMissingText(s)
		return reflect.ValueOf(m), err
	}
	v := reflect.New(t).Elem()
	// A YAML file cannot hold invalid UTF-8, and the YAML encoder writes such
	// a string as !!binary, which loads back as its base64 text: refuse it
	// here so --set and the environment take what a file can say.
	if !utf8.ValidString(s) {
		return v, fmt.Errorf("%q is not valid UTF-8", s)
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
			return v, err
		}
		return v, nil
	}
	if t.Kind() != reflect.String && t.Kind() != reflect.Slice && t.Kind() != reflect.Map && strings.TrimSpace(s) == "" {
		return v, fmt.Errorf("empty value; want %s", describe(t))
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("%q is not %s", s, describe(t))
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 0)
		if err != nil {
			return v, fmt.Errorf("%q is not %s", s, describe(t))
		}
		v.SetInt(n)
	case reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return v, fmt.Errorf("%q is not %s", s, describe(t))
		}
		v.SetUint(n)
	case reflect.Float64:
		f, err := parseFloat(s)
		if err != nil {
			return v, fmt.Errorf("%q is not %s", s, describe(t))
		}
		v.SetFloat(f)
	case reflect.Slice, reflect.Map:
		return parseCollectionText(t, s)
	default:
		// Config has no field of another kind; a test walks every field.
		return v, fmt.Errorf("unsupported type %s", t)
	}
	return v, nil
}

// parseFloat accepts strconv's syntax and YAML's .inf, -.inf and .nan.
func parseFloat(s string) (float64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), nil
	case "-.inf":
		return math.Inf(-1), nil
	case ".nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

// parseCollectionText parses a list or map given as text: YAML flow syntax
// when it starts with [ or {, else the comma-separated short form.
func parseCollectionText(t reflect.Type, s string) (reflect.Value, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return reflect.Zero(t), nil
	}
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") || isNested(t) {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
			return reflect.Zero(t), fmt.Errorf("%q is not %s in YAML flow syntax: %v", s, describe(t), yamlMessage(err))
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
			return reflect.Zero(t), fmt.Errorf("%q is not %s", s, describe(t))
		}
		return parseNode(t, doc.Content[0])
	}
	parts := strings.Split(s, ",")
	switch t.Kind() {
	case reflect.Slice:
		out := reflect.MakeSlice(t, 0, len(parts))
		for i, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			e, err := parseText(t.Elem(), p)
			if err != nil {
				return reflect.Zero(t), fmt.Errorf("element %d: %w", i, err)
			}
			out = reflect.Append(out, e)
		}
		return normalize(out), nil
	case reflect.Map:
		out := reflect.MakeMap(t)
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			i := strings.LastIndex(p, ":")
			if i <= 0 {
				return reflect.Zero(t), fmt.Errorf("%q is not KEY:VALUE", p)
			}
			k, val := strings.TrimSpace(p[:i]), strings.TrimSpace(p[i+1:])
			e, err := parseText(t.Elem(), val)
			if err != nil {
				return reflect.Zero(t), fmt.Errorf("%s: %w", k, err)
			}
			kv := reflect.ValueOf(k).Convert(t.Key())
			// As in the YAML form: a repeated key silently kept the last.
			if out.MapIndex(kv).IsValid() {
				return reflect.Zero(t), fmt.Errorf("%q appears twice", k)
			}
			out.SetMapIndex(kv, e)
		}
		return normalize(out), nil
	}
	return reflect.Zero(t), fmt.Errorf("unsupported type %s", t)
}

// isNested reports whether t's elements are collections, which have no
// short text form.
func isNested(t reflect.Type) bool {
	if t.Kind() != reflect.Map && t.Kind() != reflect.Slice {
		return false
	}
	k := t.Elem().Kind()
	return k == reflect.Map || k == reflect.Slice || k == reflect.Struct
}

// parseNode converts a YAML node to a value of type t. Scalars go through
// parseText, so YAML files and --set accept the same spellings.
func parseNode(t reflect.Type, n *yaml.Node) (reflect.Value, error) {
	if t == missingType {
		m, err := parseMissingNode(n)
		return reflect.ValueOf(m), err
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return parseText(t, "")
		}
		if isNested(t) {
			return reflect.Zero(t), fmt.Errorf("%q is not %s", n.Value, describe(t))
		}
		return parseText(t, n.Value)
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice {
			return reflect.Zero(t), fmt.Errorf("got a list; want %s", describe(t))
		}
		out := reflect.MakeSlice(t, 0, len(n.Content))
		for i, c := range n.Content {
			if t.Elem().Kind() == reflect.Struct {
				e, err := parseStruct(t.Elem(), c)
				if err != nil {
					return reflect.Zero(t), fmt.Errorf("element %d: %w", i, err)
				}
				out = reflect.Append(out, e)
				continue
			}
			if c.Kind != yaml.ScalarNode {
				return reflect.Zero(t), fmt.Errorf("element %d is not a scalar", i)
			}
			e, err := parseText(t.Elem(), c.Value)
			if err != nil {
				return reflect.Zero(t), fmt.Errorf("element %d: %w", i, err)
			}
			out = reflect.Append(out, e)
		}
		return normalize(out), nil
	case yaml.MappingNode:
		if t.Kind() != reflect.Map {
			return reflect.Zero(t), fmt.Errorf("got a mapping; want %s", describe(t))
		}
		out := reflect.MakeMap(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind != yaml.ScalarNode || kn.Value == "" {
				return reflect.Zero(t), fmt.Errorf("line %d: map keys must be non-empty strings", kn.Line)
			}
			k := reflect.ValueOf(kn.Value).Convert(t.Key())
			if out.MapIndex(k).IsValid() {
				return reflect.Zero(t), fmt.Errorf("line %d: %q appears twice", kn.Line, kn.Value)
			}
			var e reflect.Value
			var err error
			if t.Elem().Kind() == reflect.Map && t.Elem().Elem().Kind() == reflect.Interface {
				e, err = decodeAnyMap(t.Elem(), vn)
			} else {
				e, err = parseNode(t.Elem(), vn)
			}
			if err != nil {
				return reflect.Zero(t), fmt.Errorf("%s: %w", kn.Value, err)
			}
			out.SetMapIndex(k, e)
		}
		return normalize(out), nil
	}
	return reflect.Zero(t), fmt.Errorf("unsupported YAML node at line %d", n.Line)
}

// decodeAnyMap decodes a mapping of free-form values (model_params' inner
// maps), left for the model family to interpret.
func decodeAnyMap(t reflect.Type, n *yaml.Node) (reflect.Value, error) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return reflect.Zero(t), nil
	}
	if n.Kind != yaml.MappingNode {
		return reflect.Zero(t), fmt.Errorf("want a mapping of parameter names to values")
	}
	m := reflect.New(t)
	if err := n.Decode(m.Interface()); err != nil {
		return reflect.Zero(t), errors.New(yamlMessage(err))
	}
	return normalize(m.Elem()), nil
}

// parseGo converts a Go value (from a profile table) to type t. Strings go
// through parseText; other values must have t's kind.
func parseGo(t reflect.Type, x any) (reflect.Value, error) {
	if s, ok := x.(string); ok && t.Kind() != reflect.String {
		return parseText(t, s)
	}
	v := reflect.ValueOf(x)
	if !v.IsValid() {
		return reflect.Zero(t), nil
	}
	if v.Type() == t || v.Kind() == t.Kind() && v.Type().ConvertibleTo(t) {
		return normalize(v.Convert(t)), nil
	}
	return reflect.Zero(t), fmt.Errorf("%v (%T) is not %s", x, x, describe(t))
}

// normalize turns empty lists and maps into nil ones, so a Config read back
// from its YAML equals the original.
func normalize(v reflect.Value) reflect.Value {
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return reflect.Zero(v.Type())
	}
	return v
}

// yamlMessage strips the "yaml: " prefix yaml.v3 puts on its errors.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	return strings.ReplaceAll(msg, "\n", " ")
}
