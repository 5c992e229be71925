package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Family describes one model family: how to build a learner from
// parameters and how to decode a saved model.
type Family struct {
	Name string
	// Tasks lists the tasks the family supports.
	Tasks []Task
	// Input says what preprocessing the family's learners expect.
	Input Input
	// Bounded says the family's regression predictions stay within the
	// range of the targets it was fitted on (trees average them), so it
	// cannot follow a trend beyond the training period by itself; the
	// trend target transform (TargetTrend) is for such families.
	Bounded bool
	// New returns a learner for task with the given parameters (JSON
	// object; nil means defaults) and random seed. Unknown parameters are
	// an error.
	New func(task Task, seed uint64, params json.RawMessage) (Learner, error)
	// Decode restores a model encoded by Model.MarshalBinary.
	Decode func(data []byte) (Model, error)
}

// Input describes the design matrix a family wants from package features.
type Input struct {
	// OneHot asks for categorical columns one-hot encoded; otherwise they
	// arrive as ordinal codes flagged in Dataset.Categorical.
	OneHot bool
	// Scale asks for numeric columns standardised (zero mean, unit
	// variance on the training rows).
	Scale bool
	// Missing says the learner handles NaN itself, so numeric columns are
	// not imputed.
	Missing bool
}

// Supports reports whether the family handles task t.
func (f Family) Supports(t Task) bool { return slices.Contains(f.Tasks, t) }

// Registry maps family names to families. The zero value is empty and
// ready to use; a Registry is not safe for concurrent modification.
type Registry struct {
	families map[string]Family
}

// Register adds f; registering a name twice is a programmer error.
func (r *Registry) Register(f Family) {
	if r.families == nil {
		r.families = map[string]Family{}
	}
	if _, dup := r.families[f.Name]; dup {
		panic("model: family registered twice: " + f.Name)
	}
	r.families[f.Name] = f
}

// Lookup returns the named family.
func (r *Registry) Lookup(name string) (Family, error) {
	f, ok := r.families[name]
	if !ok {
		return Family{}, fmt.Errorf("model: unknown model family %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	return f, nil
}

// Names returns the registered family names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DecodeStrict unmarshals a JSON object into v, rejecting unknown fields;
// nil or empty data leaves v unchanged. Families use it in New.
func DecodeStrict(data []byte, v any) error {
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// encoding/json names an unknown field only in its message; a
		// misspelt parameter deserves the list to pick the right one from.
		if name, ok := strings.CutPrefix(err.Error(), `json: unknown field `); ok {
			return fmt.Errorf("model: parameters: unknown field %s (parameters: %s)", name, strings.Join(paramNames(reflect.TypeOf(v)), ", "))
		}
		return fmt.Errorf("model: parameters: %w", err)
	}
	return nil
}

// paramNames lists the JSON names of the fields of the struct t points
// to, embedded structs' included, in declaration order.
func paramNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "":
			out = append(out, paramNames(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}
