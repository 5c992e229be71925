package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store/redis/redistest"
)

// trainPromoted trains a ridge model of name on the store at url with
// seed, promotes it to production and returns its version.
func trainPromoted(t *testing.T, dir, url, name string, seed int) string {
	t.Helper()
	code, out, errs := tabforge(t, dir, "train", "--store", url, "--data", testdata("midwest.csv"), "--target", "percbelowpoverty",
		"--models", "ridge", "--cv-folds", "0", "--seed", strconv.Itoa(seed), "--name", name, "--out", filepath.Join(dir, "models"),
		"--set", "artifacts="+filepath.Join(dir, "artifacts"), "--set", "force_production_quality=false", "--json")
	var res struct {
		ModelVersion string `json:"model_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("train: %d %s %s", code, out, errs)
	}
	if code, out, errs := tabforge(t, dir, "models", "promote", res.ModelVersion, "--stage", "production", "--store", url,
		"--set", "artifacts="+filepath.Join(dir, "artifacts")); code != 0 {
		t.Fatalf("promote: %d %s %s", code, out, errs)
	}
	return res.ModelVersion
}

// servedProduction returns the production version /version says the
// server at base serves for name ("" when it cannot say).
func servedProduction(base, name string) string {
	resp, err := http.Get(base + "/version")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		Models map[string]struct {
			Production string `json:"production"`
		} `json:"models"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) != nil {
		return ""
	}
	return v.Models[name].Production
}

// TestServeAfterRedisOutage: serve, having met Redis down, serves a
// version promoted once Redis is back. It used to stay on its SQLite
// fallback for the rest of the process, where the name is unknown
// ("serve: read plan ... unknown model name" every second), and kept
// the old version until restarted: a rollback after an incident never
// took effect.
func TestServeAfterRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	url := srv.URL() + "?fallback=" + filepath.Join(dir, "fallback.db")
	v1 := trainPromoted(t, dir, url, "mw", 1)
	cmd := tabforgeProc(t, "serve", "--addr", "127.0.0.1:0", "--store", url, "--set", "artifacts="+filepath.Join(dir, "artifacts"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("serve printed %q, %v", line, err)
	}
	base := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening on http://"))
	if got := servedProduction(base, "mw"); got != v1 {
		t.Fatalf("serve serves %q; want %s", got, v1)
	}
	srv.Kill()
	time.Sleep(3 * time.Second) // serve re-reads the registry every second: it meets the outage
	srv.Restart(t)
	v2 := trainPromoted(t, dir, url, "mw", 2)
	deadline := time.Now().Add(20 * time.Second)
	for servedProduction(base, "mw") != v2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := servedProduction(base, "mw"); got != v2 {
		t.Errorf("serve serves %q 20s after %s was promoted with Redis back; want %s", got, v2, v2)
	}
}

// TestServeRedisDownAtStart: serve started while Redis is down fails at
// once saying so (its process manager starts it again), rather than
// serving an SQLite fallback that holds no model.
func TestServeRedisDownAtStart(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := tabforge(t, dir, "serve", "--addr", "127.0.0.1:0", "--store", "redis://127.0.0.1:1/0?fallback="+filepath.Join(dir, "fb.db"))
	if code != 1 || !strings.Contains(errs, "the store redis://127.0.0.1:1/0 is unreachable, and serve has no SQLite fallback") {
		t.Errorf("serve with Redis down: exit %d\n%s; want 1, saying the store is unreachable", code, errs)
	}
}
