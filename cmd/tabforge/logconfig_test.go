package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogKeysFromConfig checks that log_level and log_format, config keys
// that config show lists, choose the logger when set the ways the README
// says any key can be (--set, TABFORGE_<KEY>, YAML), and that the global
// flags still win. They used to be validated and then ignored.
func TestLogKeysFromConfig(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.csv")
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%d\n", i, 3*i+i%5)
	}
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(yaml, []byte("log_format: json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		env      map[string]string
		args     []string
		wantInfo bool // the "loaded dataset" INFO line is on stderr
		wantJSON bool // log lines are JSON objects
	}{
		{"default", nil, nil, true, false},
		{"set level", nil, []string{"--set", "log_level=error"}, false, false},
		{"env level", map[string]string{"TABFORGE_LOG_LEVEL": "error"}, nil, false, false},
		{"set format", nil, []string{"--set", "log_format=json"}, true, true},
		{"yaml format", nil, []string{"--config", yaml}, true, true},
		{"flag beats set", nil, []string{"--set", "log_level=error", "--log-level", "info"}, true, false},
		{"flag beats env", map[string]string{"TABFORGE_LOG_FORMAT": "json"}, []string{"--log-format", "text"}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			args := append([]string{"train", "--data", data, "--target", "y", "--models", "ols", "--cv-folds", "0",
				"--out", filepath.Join(dir, "models"), "--set", "force_production_quality=false"}, c.args...)
			code, _, stderr := tabforge(t, dir, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var info string
			for _, line := range strings.Split(stderr, "\n") {
				if strings.Contains(line, "loaded dataset") {
					info = line
				}
			}
			if got := info != ""; got != c.wantInfo {
				t.Fatalf("INFO line present %v, want %v; stderr:\n%s", got, c.wantInfo, stderr)
			}
			if c.wantInfo && strings.HasPrefix(info, "{") != c.wantJSON {
				t.Errorf("log line %q: want JSON %v", info, c.wantJSON)
			}
		})
	}
}
