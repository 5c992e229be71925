package config

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../docs/config.md from config.go")

// referencePath is the config reference the README links. It is generated
// from Config's doc comments, so that a key added, renamed or given a new
// default cannot leave the documentation behind.
var referencePath = filepath.Join("..", "docs", "config.md")

// TestReferenceDoc checks that docs/config.md is what config.go says:
// every key in declaration order, its default as `tabforge config show`
// prints it, the profiles that change it, and its doc comment. Run with
// -update to rewrite it after changing Config.
func TestReferenceDoc(t *testing.T) {
	want := renderReference(t)
	if *update {
		if err := os.WriteFile(referencePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v; run go test ./config -run TestReferenceDoc -update", err)
	}
	if string(got) != want {
		t.Errorf("%s is stale: run go test ./config -run TestReferenceDoc -update\n%s",
			referencePath, firstDiff(string(got), want))
	}
	for _, k := range Keys() {
		if !strings.Contains(string(got), "- **`"+k+"`**") {
			t.Errorf("%s does not document key %q", referencePath, k)
		}
	}
}

// docField is one key of Config as config.go documents it.
type docField struct {
	key, goName, doc string
	section          string // the free-standing comment above it, e.g. "Split."
}

var phaseNote = regexp.MustCompile(`( \(.*phase \d\))?\.$`)

// configDocs parses config.go and returns Config's keyed fields with their
// doc comments and the section comment each follows.
func configDocs(t *testing.T) []docField {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var st *ast.StructType
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "Config" {
			st, _ = ts.Type.(*ast.StructType)
		}
		return st == nil
	})
	if st == nil {
		t.Fatal("config.go: no struct Config")
	}
	docs := make(map[*ast.CommentGroup]bool)
	for _, fl := range st.Fields.List {
		docs[fl.Doc] = true
	}
	var out []docField
	section, prev := "", st.Fields.Opening
	for _, fl := range st.Fields.List {
		for _, cg := range f.Comments {
			if cg.Pos() > prev && cg.End() < fl.Pos() && !docs[cg] {
				// "Ensembles (phase 3)." names the seed's phases, not
				// anything a user sets.
				section = phaseNote.ReplaceAllString(strings.TrimSpace(cg.Text()), "")
			}
		}
		prev = fl.End()
		tag := reflect.StructTag(strings.Trim(fl.Tag.Value, "`")).Get("koanf")
		if tag == "" || tag == "-" || len(fl.Names) != 1 {
			continue
		}
		out = append(out, docField{key: tag, goName: fl.Names[0].Name,
			doc: strings.Join(strings.Fields(fl.Doc.Text()), " "), section: section})
	}
	return out
}

// defaultValues returns each key's default as `tabforge config show`
// prints it (one flow-style YAML line per key).
func defaultValues(t *testing.T) map[string]string {
	t.Helper()
	y, err := Default().YAML()
	if err != nil {
		t.Fatal(err)
	}
	vals := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(string(y)), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || strings.HasPrefix(line, " ") {
			t.Fatalf("config show line %q is not one key: value", line)
		}
		vals[k] = v
	}
	return vals
}

// renderReference writes the reference: an introduction, then one list
// item per key under its section, Go field names in the comments replaced
// by their keys.
func renderReference(t *testing.T) string {
	fields := configDocs(t)
	if len(fields) != len(Keys()) {
		t.Fatalf("config.go documents %d keyed fields, Keys has %d", len(fields), len(Keys()))
	}
	defaults := defaultValues(t)
	keyOf := make(map[string]string)
	for _, f := range fields {
		keyOf[f.goName] = "`" + f.key + "`"
	}
	// Whole words only: CVGap is cv_gap, not `cv`Gap.
	goName := func(w string) string {
		if k, ok := keyOf[w]; ok {
			return k
		}
		return w
	}
	word := regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)
	var b strings.Builder
	b.WriteString(referenceIntro)
	section := ""
	for _, f := range fields {
		if f.section != section {
			section = f.section
			fmt.Fprintf(&b, "\n## %s\n\n", section)
		}
		doc := word.ReplaceAllStringFunc(f.doc, goName)
		fmt.Fprintf(&b, "- **`%s`** (default `%s`%s): %s\n", f.key, defaults[f.key], profileValues(t, f.key), doc)
	}
	return b.String()
}

// profileValues lists the built-in profiles that set key, with the value
// each gives it, as "; production `true`, research `true`".
func profileValues(t *testing.T, key string) string {
	var parts []string
	for _, p := range Profiles() {
		s, err := ProfileSettings(p)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := s[key]; ok {
			parts = append(parts, fmt.Sprintf("%s `%v`", p, v))
		}
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

// firstDiff names the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return ""
}

const referenceIntro = `# Configuration keys

Every key of tabforge's configuration (` + "`config.Config`" + `), in the order ` + "`tabforge config show`" + `
prints them. This page is generated from the doc comments in ` + "`config/config.go`" + ` by
` + "`go test ./config -run TestReferenceDoc -update`" + `, and that test fails when the two disagree.

Set a key with ` + "`--set KEY=VALUE`" + `, the environment variable ` + "`TABFORGE_<KEY>`" + ` (upper case:
` + "`TABFORGE_MIN_R2_THRESHOLD=0.8`" + `), a YAML file (` + "`--config FILE`" + `) or a profile (` + "`--profile`" + `
development, production or research); precedence is profile < YAML file < environment < flags.
` + "`tabforge config show [--profile P] [--config FILE]`" + ` prints the effective values. Lists are written
` + "`a,b,c`" + ` or ` + "`[a, b]`" + `, maps as YAML flow mappings (` + "`{gbdt: {max_depth: 6}}`" + `), durations as Go
durations (` + "`90s`" + `, ` + "`2h`" + `). Each entry gives the default and the value each profile that sets it gives.
`
