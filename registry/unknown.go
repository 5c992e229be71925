package registry

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// keepUnknown returns updated, the JSON encoding of a record of type t
// that this build read from old and changed, with the members of old
// that t has no field for put back, in nested objects too, and in the
// elements of lists this build left unchanged (keepUnknownElems). A newer build
// may add a member to a record without raising the store's layout;
// without this, an older build promoting a name or registering a run
// again would drop it on write-back. A known member omitted from
// updated stays omitted (this build cleared it, unknown parts and all),
// unless this build reads it as zero: one holding only members a newer
// build added (a route of a kind this build lacks) is not this build's
// to clear, and its encoding omitted it for being zero. Either input that is not a JSON object leaves updated
// as it is.
func keepUnknown(old, updated []byte, t reflect.Type) []byte {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		return keepUnknownElems(old, updated, t.Elem())
	}
	var o, u map[string]json.RawMessage
	if json.Unmarshal(old, &o) != nil || json.Unmarshal(updated, &u) != nil || o == nil || u == nil {
		return updated
	}
	var fields map[string]reflect.Type // nil for a map: every key is known
	switch t.Kind() {
	case reflect.Struct:
		fields = map[string]reflect.Type{}
		jsonFields(t, fields)
	case reflect.Map:
	default:
		return updated
	}
	changed := false
	for k, ov := range o {
		ft, known := fields[k]
		if t.Kind() == reflect.Map {
			ft, known = t.Elem(), true
		}
		uv, kept := u[k]
		switch {
		case !known || !kept && readsZero(ov, ft):
			u[k], changed = ov, true
		case kept:
			if m := keepUnknown(ov, uv, ft); !bytes.Equal(m, uv) {
				u[k], changed = m, true
			}
		}
	}
	return remarshal(changed, updated, u)
}

// keepUnknownElems is keepUnknown for a list of elements of type t: each
// element of updated that this build left as it read it (its element of
// old, at the same place, encodes to it by t) gets old's unknown members
// back (a share of a route that a newer build extended). An element this
// build changed, or a list whose length it changed, is left as updated:
// the old members would not be its own.
func keepUnknownElems(old, updated []byte, t reflect.Type) []byte {
	var o, u []json.RawMessage
	if json.Unmarshal(old, &o) != nil || json.Unmarshal(updated, &u) != nil || len(o) != len(u) {
		return updated
	}
	changed := false
	for i := range u {
		v := reflect.New(t)
		if json.Unmarshal(o[i], v.Interface()) != nil {
			continue
		}
		if b, err := json.Marshal(v.Elem().Interface()); err != nil || !bytes.Equal(b, u[i]) {
			continue
		}
		if m := keepUnknown(o[i], u[i], t); !bytes.Equal(m, u[i]) {
			u[i], changed = m, true
		}
	}
	return remarshal(changed, updated, u)
}

// readsZero reports whether data decodes, by this build's type t, to a
// value encoding/json's omitzero omits: one whose IsZero method says so
// where t has one (Route's ignores its Since, which every route has, so
// a newer build's route of a kind this build lacks reads as zero), else
// t's zero value.
func readsZero(data []byte, t reflect.Type) bool {
	v := reflect.New(t)
	if json.Unmarshal(data, v.Interface()) != nil {
		return false
	}
	if z, ok := v.Elem().Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	return v.Elem().IsZero()
}

// jsonFields adds the JSON member names of struct type t's fields, and
// their types, to dst; untagged embedded structs' fields are t's own, as
// encoding/json encodes them.
func jsonFields(t reflect.Type, dst map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			jsonFields(f.Type, dst)
		case name == "":
			dst[f.Name] = f.Type
		default:
			dst[name] = f.Type
		}
	}
}

// remarshal is updated when nothing changed, else merged (raw members
// or elements) encoded; raw JSON always encodes, so updated is returned
// on an error that is not reached.
func remarshal(changed bool, updated []byte, merged any) []byte {
	if !changed {
		return updated
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return updated
	}
	return b
}
