package main

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestDockerfileWritesUnderVolume: in the image every file a command
// writes by default lands on the data volume. The image had no WORKDIR,
// so train's --out (.tabforge/models, relative) went to the container's
// layer and `docker compose run --rm ... train` lost its model files and
// report; only the registered artifacts reached /data.
func TestDockerfileWritesUnderVolume(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The final stage is what runs: from its FROM on.
	text := string(src)
	text = text[strings.LastIndex(text, "\nFROM ")+1:]
	text = strings.ReplaceAll(text, "\\\n", " ")
	workdir, volume, env := "/", "", map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "WORKDIR":
			workdir = path.Join(workdir, f[1])
		case "VOLUME":
			volume = strings.Trim(f[1], `[]"`)
		case "ENV":
			for _, kv := range f[1:] {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
		}
	}
	if volume == "" {
		t.Fatal("the Dockerfile's final stage declares no VOLUME")
	}
	under := func(p string) bool { return p == volume || strings.HasPrefix(p, volume+"/") }
	d := config.Default()
	for name, p := range map[string]string{"OUT": d.Out, "ARTIFACTS": d.Artifacts, "STORE": d.Store} {
		if v, ok := env["TABFORGE_"+name]; ok {
			p = v
		}
		p = strings.TrimPrefix(p, "sqlite://")
		if !path.IsAbs(p) {
			p = path.Join(workdir, p)
		}
		if !under(p) {
			t.Errorf("the image's TABFORGE_%s is %s, outside its volume %s (WORKDIR %s)", name, p, volume, workdir)
		}
	}
}
