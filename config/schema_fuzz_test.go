package config

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// schemaKinds are the kinds FuzzSchemaSpec writes: the three there are,
// another case of one, and one that is not a kind.
var schemaKinds = []string{"numeric", "categorical", "datetime", "Datetime", "date"}

// FuzzSchemaSpec writes one schema as `--set schema=a:numeric,b:datetime`
// and as the YAML flow mapping `--set 'schema={"a": numeric, ...}'`: the
// two forms agree, loading to the same schema or both refusing (a column
// named twice, a kind that is not one), and no column is lost.
func FuzzSchemaSpec(f *testing.F) {
	f.Add("d,zip", uint32(0b01_10))
	f.Add("a,a", uint32(0b00_01))
	f.Add("a,b", uint32(0b100_000))
	f.Add("é x,b.c", uint32(0b011_010))
	f.Add("date", uint32(2))
	f.Fuzz(func(t *testing.T, names string, kinds uint32) {
		var text, flow []string
		for _, name := range strings.Split(names, ",") {
			// The text form trims names and splits at ',' and the last ':'.
			// YAML's implicit keys stop at 1024 characters (quoted,
			// with json.Marshal's \u escapes of up to 6 each).
			if name == "" || len(name) > 150 || name != strings.TrimSpace(name) || strings.ContainsAny(name, ":") || !utf8.ValidString(name) || !json.Valid([]byte(`"`+name+`"`)) ||
				strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) { // YAML refuses control characters
				return
			}
			if len(text) == 0 && strings.ContainsAny(name[:1], "[{") {
				return // a text value starting so is read as YAML flow
			}
			kind := schemaKinds[kinds%uint32(len(schemaKinds))]
			kinds /= uint32(len(schemaKinds))
			text = append(text, name+":"+kind)
			q, _ := json.Marshal(name)
			flow = append(flow, string(q)+": "+kind)
		}
		ct, _, errT := Load(Sources{Set: []string{"schema=" + strings.Join(text, ",")}})
		cf, _, errF := Load(Sources{Set: []string{"schema={" + strings.Join(flow, ", ") + "}"}})
		if (errT == nil) != (errF == nil) {
			t.Fatalf("schema %q: text form error %v; flow form error %v", text, errT, errF)
		}
		if errT != nil {
			return
		}
		if !maps.Equal(ct.Schema, cf.Schema) || len(ct.Schema) != len(text) {
			t.Fatalf("schema %q: text form %v; flow form %v", text, ct.Schema, cf.Schema)
		}
	})
}
