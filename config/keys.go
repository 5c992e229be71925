package config

import "reflect"

// Keys returns every config key in declaration order, which is also the
// order of YAML output.
func Keys() []string {
	fs := fields()
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.key
	}
	return keys
}

// IsKey reports whether key is a config key.
func IsKey(key string) bool {
	_, ok := lookupField(key)
	return ok
}

// field describes one key of Config.
type field struct {
	key    string
	index  int // field index in Config
	typ    reflect.Type
	hashed bool // false for operational keys (hash:"-")
	// omitEmpty leaves the key out of Hash while empty (hash:"omitempty").
	omitEmpty bool
	// omitDefault leaves the key out of Hash while nil or equal to its
	// Default value (hash:"omitdefault"), so that adding a key with a
	// non-empty default keeps the cache keys of configs that leave it
	// alone; an empty list is hashed apart from nil.
	omitDefault bool
}

// fields lists Config's keys by reflection. It is recomputed on each call
// (about 50 fields) so that the package holds no mutable state.
func fields() []field {
	t := reflect.TypeFor[Config]()
	out := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		key := sf.Tag.Get("koanf")
		if key == "" || key == "-" {
			continue
		}
		out = append(out, field{key: key, index: i, typ: sf.Type, hashed: sf.Tag.Get("hash") != "-", omitEmpty: sf.Tag.Get("hash") == "omitempty",
			omitDefault: sf.Tag.Get("hash") == "omitdefault"})
	}
	return out
}

func lookupField(key string) (field, bool) {
	for _, f := range fields() {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// Get returns the value of key in c, and whether key exists.
func (c *Config) Get(key string) (any, bool) {
	f, ok := lookupField(key)
	if !ok {
		return nil, false
	}
	return reflect.ValueOf(c).Elem().Field(f.index).Interface(), true
}

// Set parses value, in the text form of --set and the environment (see the
// package documentation), and stores it in key. It does not validate the
// result against other keys; call Validate for that. An unknown key gives
// an *UnknownKeyError, a value of the wrong type a *KeyError.
func (c *Config) Set(key, value string) error {
	f, ok := lookupField(key)
	if !ok {
		return &UnknownKeyError{Key: key, Suggestion: suggest(key, Keys())}
	}
	v, err := parseText(f.typ, value)
	if err != nil {
		return &KeyError{Key: key, Err: err}
	}
	c.setField(f, v)
	return nil
}
