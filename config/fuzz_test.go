package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadFile feeds arbitrary YAML to the config loader: it must return a
// config or an error, never panic, and any config it returns must validate,
// encode, and load back from its YAML to the same YAML and hash (what
// `config show`, run records and cache keys rely on).
func FuzzLoadFile(f *testing.F) {
	f.Add([]byte("target: y\ncv_folds: 3\nmodels: [ridge, gbdt]\n"))
	f.Add([]byte("enable_advanced_features: true\ntime_budget: 2m\nbusiness_rules:\n  - name: floor\n    kind: bounds\n    min: 0\n    gate: true\n"))
	f.Add([]byte("schema:\n  a: categorical\nmodel_params:\n  gbdt: {max_depth: 4, learning_rate: 0.1}\nsep: \";\"\n"))
	f.Add([]byte("{}"))
	f.Add([]byte("- not a mapping\n"))
	for _, p := range []string{ProfileDevelopment, ProfileProduction, ProfileResearch} {
		if c, _, err := Load(Sources{Profile: p}); err == nil {
			if b, err := c.YAML(); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, _, err := Load(Sources{File: path})
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned a config that does not validate: %v", err)
		}
		y, err := c.YAML()
		if err != nil {
			t.Fatalf("Load returned a config that does not encode: %v", err)
		}
		back, _, err := Load(Sources{File: writeFile(t, string(y))})
		if err != nil {
			t.Fatalf("%q: its YAML does not load back: %v\n%s", data, err, y)
		}
		if y2, err := back.YAML(); err != nil || !bytes.Equal(y, y2) {
			t.Fatalf("%q: YAML changed on reload (%v):\n%s\nthen\n%s", data, err, y, y2)
		}
		if c.Hash() != back.Hash() {
			t.Fatalf("%q: hash changed on reload", data)
		}
	})
}
