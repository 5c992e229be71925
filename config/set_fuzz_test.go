package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSet feeds arbitrary text to one key through --set, the text form the
// environment and the CLI flags share. Load must return a config or an
// error, never panic; a config it returns must validate, and its YAML must
// load back as a file to the same YAML and hash (what `config show`, run
// records and cache keys rely on).
func FuzzSet(f *testing.F) {
	keys := Keys()
	seeds := map[string][]string{
		"test_fraction":  {"0.2", ".nan", "+.inf", "1e-300", " 0.5 "},
		"time_budget":    {"90s", "0", "", "-1h", "9223372036854775807ns"},
		"models":         {"ridge,gbdt", `[ridge, "gb,dt"]`, "[]", ",,"},
		"schema":         {"a:categorical,b:numeric", "{date: datetime}", "{a: [x]}", "a:b:c"},
		"model_params":   {"{gbdt: {max_depth: 6, learning_rate: 0.1}}", "{gbdt: {x: .nan}}", "{gbdt: null}", "{gbdt: {a: &x 1, b: *x}}"},
		"business_rules": {"[{name: p, kind: bounds, min: 0}]", "[{name: p, kind: bounds, min: .nan}]", "[{name: p, kind: bounds, max: -.inf}]"},
		"temporal_lags":  {"1,2,3", "[1, 2]", "0"},
		"seed":           {"18446744073709551615", "-1", "0x10"},
		"sep":            {`\t`, ";", "tab"},
		"cv_folds":       {"5", "1", "99999999999999999999"},
	}
	for i, k := range keys {
		for _, v := range seeds[k] {
			f.Add(uint16(i), v)
		}
	}
	f.Fuzz(func(t *testing.T, ki uint16, value string) {
		key := keys[int(ki)%len(keys)]
		c, _, err := Load(Sources{Set: []string{key + "=" + value}})
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("--set %s=%q: Load returned a config that does not validate: %v", key, value, err)
		}
		y, err := c.YAML()
		if err != nil {
			t.Fatalf("--set %s=%q: YAML: %v", key, value, err)
		}
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, y, 0o644); err != nil {
			t.Fatal(err)
		}
		back, _, err := Load(Sources{File: path})
		if err != nil {
			t.Fatalf("--set %s=%q: its YAML does not load back: %v\n%s", key, value, err, y)
		}
		y2, err := back.YAML()
		if err != nil {
			t.Fatalf("--set %s=%q: YAML of the reloaded config: %v", key, value, err)
		}
		if !bytes.Equal(y, y2) {
			t.Fatalf("--set %s=%q: YAML changed on reload:\n%s\nthen\n%s", key, value, y, y2)
		}
		if c.Hash() != back.Hash() {
			t.Fatalf("--set %s=%q: hash changed on reload", key, value)
		}
	})
}
