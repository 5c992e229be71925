package config

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "TABFORGE_"

// Environment variables that are not keys (see the package documentation).
const (
	EnvProfile    = EnvPrefix + "PROFILE"
	EnvConfig     = EnvPrefix + "CONFIG"
	EnvDebug      = EnvPrefix + "DEBUG"
	EnvAdminToken = EnvPrefix + "ADMIN_TOKEN"
	// EnvMetaCorpus names the meta corpus for the corpus tests and
	// benchmarks the README shows.
	EnvMetaCorpus = EnvPrefix + "META_CORPUS"
	envTestPrefix = EnvPrefix + "TEST_"
)

// Sources are the layers Load reads, lowest precedence first. Every field
// is optional.
type Sources struct {
	// Profile names a built-in profile; "" means TABFORGE_PROFILE from Env,
	// or else "default".
	Profile string
	// File is the path of a YAML file of key: value pairs; "" means
	// TABFORGE_CONFIG from Env, or else no file.
	File string
	// Env is the environment in os.Environ form (NAME=VALUE). Only
	// TABFORGE_ variables are read.
	Env []string
	// Flags maps keys to values of dedicated CLI flags (e.g. --seed 7 gives
	// "seed": "7"), in the text form of --set.
	Flags map[string]string
	// Set holds KEY=VALUE pairs from repeated --set flags; a later pair
	// overrides an earlier one. A key given both here and in Flags with
	// different values is an error.
	Set []string
}

// OriginKind is the layer a key's value came from.
type OriginKind int

// Layers, lowest precedence first.
const (
	FromDefault OriginKind = iota
	FromProfile
	FromFile
	FromEnv
	FromFlag
)

// Origin says where a key's value came from.
type Origin struct {
	Kind OriginKind
	// Name is the profile name, file path, environment variable or flag
	// ("--set"; "" for a dedicated flag).
	Name string
	// Line is the line in the file, for FromFile; 0 if unknown.
	Line int
}

// String returns "default", "profile:NAME", "file:PATH[:LINE]",
// "env:VAR", "flag:--set" or "flag".
func (o Origin) String() string {
	switch o.Kind {
	case FromProfile:
		return "profile:" + o.Name
	case FromFile:
		if o.Line > 0 {
			return "file:" + o.Name + ":" + strconv.Itoa(o.Line)
		}
		return "file:" + o.Name
	case FromEnv:
		return "env:" + o.Name
	case FromFlag:
		if o.Name != "" {
			return "flag:" + o.Name
		}
		return "flag"
	}
	return "default"
}

// Explicit reports whether the user set the value for this run: in a
// file, the environment or a flag, rather than through a profile or a
// default.
func (o Origin) Explicit() bool { return o.Kind >= FromFile }

// Provenance records which layer set each key of a loaded Config.
type Provenance struct {
	// Profile is the profile applied ("default" if none was named).
	Profile string
	// File is the YAML file read, "" if none.
	File    string
	origins map[string]Origin
	// base is the Config after the default and profile layers, before any
	// explicit one; Unavailable compares against it.
	base *Config
}

// Base returns the Config that the default and profile layers alone give,
// before the file, environment and flags; Default() for a nil Provenance.
func (p *Provenance) Base() *Config {
	if p == nil || p.base == nil {
		return Default()
	}
	return p.base.Clone()
}

// Origin returns where key's value came from; keys no layer set, and all
// keys of a nil Provenance, come from FromDefault.
func (p *Provenance) Origin(key string) Origin {
	if p == nil {
		return Origin{}
	}
	return p.origins[key]
}

func (p *Provenance) set(key string, o Origin) {
	if p.origins == nil {
		p.origins = make(map[string]Origin)
	}
	p.origins[key] = o
}

// Load builds a Config from src: Default, then the profile, the YAML file,
// the environment and the flags, each layer replacing the keys it sets.
// It then validates the result. It reports every problem it finds at once,
// in one error whose elements are *UnknownKeyError and *KeyError values
// (use errors.As) naming the key and where it was set. On error the Config
// and Provenance are nil.
func Load(src Sources) (*Config, *Provenance, error) {
	env := envMap(src.Env)
	prov := &Provenance{Profile: src.Profile, File: src.File}
	if prov.Profile == "" {
		prov.Profile = env[EnvProfile]
	}
	if prov.Profile == "" {
		prov.Profile = ProfileDefault
	}
	if prov.File == "" {
		prov.File = env[EnvConfig]
	}

	c := Default()
	var errs []error
	settings, err := ProfileSettings(prov.Profile)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		o := Origin{Kind: FromProfile, Name: prov.Profile}
		f, ok := lookupField(key)
		if !ok {
			errs = append(errs, &UnknownKeyError{Key: key, Origin: o})
			continue
		}
		v, err := parseGo(f.typ, settings[key])
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Origin: o, Err: err})
			continue
		}
		c.setField(f, v)
		prov.set(key, o)
	}

	prov.base = c.Clone()
	if prov.File != "" {
		errs = append(errs, c.loadFile(prov.File, prov)...)
	}
	errs = append(errs, c.loadEnv(src.Env, prov)...)
	errs = append(errs, c.loadFlags(src.Flags, src.Set, prov)...)
	// Validate even after errors: keys that failed to parse kept valid
	// lower-layer values, so every remaining complaint is real.
	if err := c.Validate(); err != nil {
		for _, ke := range keyErrors(err) {
			if ke.Origin.Kind == FromDefault {
				ke.Origin = prov.Origin(ke.Key)
			}
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("config: %w", join(flatten(errs)))
	}
	return c, prov, nil
}

// setField stores v, a value parsed for key f, in c. (Parsing reads an
// empty list as nil; missing_values, where nil means the default, keeps
// a list given empty as an empty list itself: see parseMissingText.)
func (c *Config) setField(f field, v reflect.Value) {
	reflect.ValueOf(c).Elem().Field(f.index).Set(v)
}

// envMap returns the TABFORGE_ variables of env; later entries win.
func envMap(env []string) map[string]string {
	m := make(map[string]string)
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) {
			m[name] = value
		}
	}
	return m
}

// loadFile applies the keys of a YAML file.
func (c *Config) loadFile(path string, prov *Provenance) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("reading config file: %w", err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{fmt.Errorf("config file %s: %s", path, yamlMessage(err))}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("config file %s: line %d: want a mapping of key: value pairs", path, root.Line)}
	}
	var errs []error
	seen := make(map[string]int)
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		key := kn.Value
		o := Origin{Kind: FromFile, Name: path, Line: kn.Line}
		if line, dup := seen[key]; dup {
			errs = append(errs, &KeyError{Key: key, Origin: o, Err: fmt.Errorf("appears twice, also at line %d", line)})
			continue
		}
		seen[key] = kn.Line
		f, ok := lookupField(key)
		if !ok {
			if key == "profile" {
				errs = append(errs, &KeyError{Key: key, Origin: o, Err: fmt.Errorf("not a key: choose the profile with --profile or %s", EnvProfile)})
				continue
			}
			errs = append(errs, &UnknownKeyError{Key: key, Origin: o, Suggestion: suggest(key, Keys())})
			continue
		}
		v, err := parseNode(f.typ, vn)
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Origin: o, Err: err})
			continue
		}
		c.setField(f, v)
		prov.set(key, o)
	}
	return errs
}

// loadEnv applies TABFORGE_<KEY> variables.
func (c *Config) loadEnv(env []string, prov *Provenance) []error {
	var errs []error
	m := envMap(env)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if slices.Contains([]string{EnvProfile, EnvConfig, EnvDebug, EnvAdminToken, EnvMetaCorpus}, name) || strings.HasPrefix(name, envTestPrefix) {
			continue
		}
		o := Origin{Kind: FromEnv, Name: name}
		key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		f, ok := lookupField(key)
		if !ok {
			ue := &UnknownKeyError{Key: name, Origin: o}
			if s := suggest(key, Keys()); s != "" {
				ue.Suggestion = EnvPrefix + strings.ToUpper(s)
			}
			errs = append(errs, ue)
			continue
		}
		v, err := parseText(f.typ, m[name])
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Origin: o, Err: err})
			continue
		}
		c.setField(f, v)
		prov.set(key, o)
	}
	return errs
}

// loadFlags applies dedicated CLI flags and --set pairs.
func (c *Config) loadFlags(flags map[string]string, set []string, prov *Provenance) []error {
	type entry struct {
		value  string
		origin Origin
	}
	var errs []error
	final := make(map[string]entry)
	for _, key := range slices.Sorted(maps.Keys(flags)) {
		final[key] = entry{flags[key], Origin{Kind: FromFlag}}
	}
	setValues := make(map[string]string)
	for _, kv := range set {
		key, value, ok := strings.Cut(kv, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("--set %q: want KEY=VALUE", kv))
			continue
		}
		setValues[key] = value
	}
	for _, key := range slices.Sorted(maps.Keys(setValues)) {
		value := setValues[key]
		if prev, ok := final[key]; ok && prev.value != value {
			errs = append(errs, &KeyError{Key: key, Origin: Origin{Kind: FromFlag, Name: "--set"},
				Err: fmt.Errorf("--set gives %q but its flag gives %q; pass one", value, prev.value)})
			continue
		}
		final[key] = entry{value, Origin{Kind: FromFlag, Name: "--set"}}
	}
	for _, key := range slices.Sorted(maps.Keys(final)) {
		e := final[key]
		f, ok := lookupField(key)
		if !ok {
			errs = append(errs, &UnknownKeyError{Key: key, Origin: e.origin, Suggestion: suggest(key, Keys())})
			continue
		}
		v, err := parseText(f.typ, e.value)
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Origin: e.origin, Err: err})
			continue
		}
		c.setField(f, v)
		prov.set(key, e.origin)
	}
	return errs
}
