package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Hashes of configs whose missing_values is a list, computed by the
// code before missing_values took column texts (main at 01defec, with
// `go run` of a program printing Default().Hash() for each): the list
// form must hash as it did, so that cache keys, dataset versions and
// registered models from before stay valid.
const (
	hashDefault = "1187d7c39c61335da3c45efed8358c8bbce413ba6fdb3053b72ed5eab74c6d98" // Default()
	hashNAQ     = "882f594eac15eb44240b39db5de743543622c65f08891a60e2a316dcacff0db7" // missing_values: [NA, "?"]
	hashEmpty   = "44c7261c092d3277beab7bf1b9c096ebe1e08b7234357294a15c31c0cc3f8c37" // missing_values: []
)

// TestMissingValues: an empty missing_values list (only empty fields are
// missing) loads as a list, not as nil (the default), and hashes apart
// from the default, while the default hashes as a config without the key
// did, and every list hashes as before column texts existed.
func TestMissingValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("missing_values: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty, _, err := Load(Sources{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if empty.MissingValues.All == nil || len(empty.MissingValues.All) != 0 {
		t.Fatalf("missing_values: [] loads as %#v; want an empty list", empty.MissingValues)
	}
	set := Default()
	if err := set.Set("missing_values", "NA,?"); err != nil {
		t.Fatal(err)
	}
	if want := (MissingValues{All: []string{"NA", "?"}}); !reflect.DeepEqual(set.MissingValues, want) {
		t.Errorf("--set missing_values=NA,? gives %#v; want %#v", set.MissingValues, want)
	}
	unset := Default()
	unset.MissingValues = MissingValues{}
	def := Default()
	for _, h := range []struct {
		name string
		c    *Config
		want string
	}{{"default", def, hashDefault}, {"unset", unset, hashDefault}, {"[NA, ?]", set, hashNAQ}, {"[]", empty, hashEmpty}} {
		if got := h.c.Hash(); got != h.want {
			t.Errorf("missing_values %s hashes to %.12s; want %.12s, as before column texts", h.name, got, h.want)
		}
	}
	c := def.Clone()
	c.MissingValues.All[0] = "changed"
	if def.MissingValues.All[0] != "NA" {
		t.Error("Clone shares missing_values with the original")
	}
}

// TestParseMissingValues: missing_values is a list or a mapping of
// columns (or "*") to lists, in a YAML file, --set and the environment
// alike; bad shapes are errors naming the key and what it wants.
func TestParseMissingValues(t *testing.T) {
	tests := []struct {
		name, yaml, text string // text: --set and environment form ("" for none)
		want             MissingValues
		err              string // a part of the error; "" for none
	}{
		{name: "list", yaml: `[NA, "?"]`, text: `NA,?`, want: MissingValues{All: []string{"NA", "?"}}},
		{name: "flow list", yaml: `["a,b"]`, text: `["a,b"]`, want: MissingValues{All: []string{"a,b"}}},
		{name: "empty list", yaml: `[]`, text: ``, want: MissingValues{All: []string{}}},
		{name: "null", yaml: `null`, want: MissingValues{All: []string{}}},
		{name: "column", yaml: `{BloodPressure: ["0"]}`, text: `{BloodPressure: ["0"]}`,
			want: MissingValues{Columns: map[string][]string{"BloodPressure": {"0"}}}},
		{name: "star and columns", yaml: "\n  '*': [NA]\n  bp: [0, '-1']\n  city: unknown",
			text: `{"*": [NA], bp: [0, "-1"], city: unknown}`,
			want: MissingValues{All: []string{"NA"}, Columns: map[string][]string{"bp": {"0", "-1"}, "city": {"unknown"}}}},
		{name: "star only", yaml: `{"*": []}`, text: `{"*": []}`, want: MissingValues{All: []string{}}},
		{name: "numbers as texts", yaml: `{bp: [0, 0.0, 1e3]}`, want: MissingValues{Columns: map[string][]string{"bp": {"0", "0.0", "1e3"}}}},
		{name: "mapping in a column", yaml: `{bp: {a: b}}`, text: `{bp: {a: b}}`, err: "bp: line 1: want a list of texts"},
		{name: "list in a list", yaml: `{bp: [[0]]}`, err: "bp: element 0 is not a text"},
		{name: "star null", yaml: `{"*": null}`, text: `{"*": ~}`, err: "*: line 1: want a list of texts"},
		{name: "list of mappings", yaml: `[{a: b}]`, err: "element 0 is not a text"},
		{name: "column twice", yaml: "\n  bp: [0]\n  bp: [1]", err: `"bp" appears twice`},
		{name: "empty column name", yaml: `{"": [0]}`, text: `{"": [0]}`, err: `keys must be column names or "*"`},
		{name: "bad flow", text: `{bp: [0}`, err: "is not a list of texts, or a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type source struct {
				how string
				src Sources
			}
			var srcs []source
			if tt.yaml != "" {
				srcs = append(srcs, source{"file", Sources{File: writeFile(t, "missing_values: "+tt.yaml+"\n")}})
			}
			if tt.text != "" || tt.yaml == "[]" {
				srcs = append(srcs, source{"--set", Sources{Set: []string{"missing_values=" + tt.text}}},
					source{"env", Sources{Env: []string{"TABFORGE_MISSING_VALUES=" + tt.text}}})
			}
			for _, s := range srcs {
				c, _, err := Load(s.src)
				if tt.err != "" {
					if err == nil || !strings.Contains(err.Error(), "missing_values") || !strings.Contains(err.Error(), tt.err) {
						t.Errorf("%s: Load error = %v; want one naming missing_values with %q", s.how, err, tt.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", s.how, err)
				}
				if !reflect.DeepEqual(c.MissingValues, tt.want) {
					t.Errorf("%s: missing_values = %#v; want %#v", s.how, c.MissingValues, tt.want)
				}
			}
		})
	}
}

// TestMissingValuesEncodings: the mapping form survives YAML (config
// show), JSON (run records) and Clone; a record written before column
// texts existed reads back; and the hash tells the forms apart while
// reading a mapping without "*" as the default spelled out.
func TestMissingValuesEncodings(t *testing.T) {
	c := Default()
	c.MissingValues = MissingValues{All: []string{"NA", "0"}, Columns: map[string][]string{"bp": {"0"}, "*x": {"null", ""}}}
	y, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(y, []byte(`missing_values: {'*': [NA, "0"], '*x': ["null", ""], bp: ["0"]}`)) {
		t.Errorf("YAML writes missing_values as\n%s\nwant one flow mapping line", y)
	}
	back, _, err := Load(Sources{File: writeFile(t, string(y))})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.MissingValues, c.MissingValues) || back.Hash() != c.Hash() {
		t.Errorf("YAML round trip: %#v; want %#v", back.MissingValues, c.MissingValues)
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON := Default()
	if err := json.Unmarshal(j, fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON.MissingValues, c.MissingValues) {
		t.Errorf("JSON round trip: %#v; want %#v", fromJSON.MissingValues, c.MissingValues)
	}
	cl := c.Clone()
	cl.MissingValues.Columns["bp"][0] = "changed"
	if c.MissingValues.Columns["bp"][0] != "0" {
		t.Error("Clone shares missing_values' column texts with the original")
	}

	for _, rec := range []struct {
		json string
		want MissingValues
	}{
		{`{"missing_values": ["NA", "?"]}`, MissingValues{All: []string{"NA", "?"}}},
		{`{"missing_values": []}`, MissingValues{All: []string{}}},
		{`{"missing_values": null}`, MissingValues{}},
	} {
		old := Default()
		if err := json.Unmarshal([]byte(rec.json), old); err != nil {
			t.Fatalf("a run record's %s: %v", rec.json, err)
		}
		if !reflect.DeepEqual(old.MissingValues, rec.want) {
			t.Errorf("a run record's %s reads as %#v; want %#v", rec.json, old.MissingValues, rec.want)
		}
	}

	with := func(m MissingValues) string {
		c := Default()
		c.MissingValues = m
		return c.Hash()
	}
	bp := map[string][]string{"BloodPressure": {"0"}}
	implicit := with(MissingValues{Columns: bp})
	if spelled := with(MissingValues{All: Default().MissingValues.All, Columns: bp}); implicit != spelled {
		t.Error(`a mapping without "*" hashes apart from one giving the default texts under "*"`)
	}
	distinct := map[string]string{
		"default":        with(MissingValues{}),
		"bp 0":           implicit,
		"bp 0 and -1":    with(MissingValues{Columns: map[string][]string{"BloodPressure": {"0", "-1"}}}),
		"glucose 0":      with(MissingValues{Columns: map[string][]string{"Glucose": {"0"}}}),
		"[0] everywhere": with(MissingValues{All: []string{"0"}}),
		"[] and bp 0":    with(MissingValues{All: []string{}, Columns: bp}),
		"[NA, ?]":        hashNAQ,
		"only empty [] ": hashEmpty,
	}
	seen := map[string]string{}
	for name, h := range distinct {
		if other, dup := seen[h]; dup {
			t.Errorf("missing_values %s and %s hash equal", name, other)
		}
		seen[h] = name
	}
}

// TestMissingValuesColumnNames: Validate refuses column names that no
// data can have (a Config built by hand; the parsers refuse them too).
func TestMissingValuesColumnNames(t *testing.T) {
	c := Default()
	c.MissingValues.Columns = map[string][]string{"": {"0"}, "*": {"x"}, "bp": {"0"}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `missing_values: column name ""`) || !strings.Contains(err.Error(), `missing_values: column name "*"`) {
		t.Fatalf("Validate() = %v; want both bad names refused", err)
	}
	if strings.Contains(err.Error(), `"bp"`) {
		t.Errorf("Validate() = %v; bp is a fine name", err)
	}
}

// FuzzMissingValues feeds arbitrary text to missing_values' parser: it
// returns a value or an error, never panics, and a value it returns
// survives YAML and JSON with its hash.
func FuzzMissingValues(f *testing.F) {
	for _, s := range []string{"NA,?", "", `{"*": [NA], bp: [0]}`, `{bp: 0}`, `[a, "b,c"]`, `{"*": ~}`, `{a: &x [1], b: *x}`, `{"": [0]}`, `{bp: []}`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMissingText(s)
		if err != nil {
			return
		}
		c := Default()
		c.MissingValues = m
		if c.Validate() != nil {
			return
		}
		y, err := c.YAML()
		if err != nil {
			t.Fatalf("%q: YAML: %v", s, err)
		}
		back, _, err := Load(Sources{File: writeFile(t, string(y))})
		if err != nil {
			t.Fatalf("%q: its YAML does not load back: %v\n%s", s, err, y)
		}
		if back.Hash() != c.Hash() {
			t.Fatalf("%q: hash changed through YAML: %#v became %#v", s, c.MissingValues, back.MissingValues)
		}
		j, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("%q: JSON: %v", s, err)
		}
		fromJSON := Default()
		if err := json.Unmarshal(j, fromJSON); err != nil {
			t.Fatalf("%q: its JSON does not read back: %v", s, err)
		}
		if fromJSON.Hash() != c.Hash() {
			t.Fatalf("%q: hash changed through JSON: %#v became %#v", s, c.MissingValues, fromJSON.MissingValues)
		}
	})
}
