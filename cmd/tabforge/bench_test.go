package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchProfiles builds the real binary (bench profiles runs it in
// fresh processes) and compares two profiles on a small job.
func TestBenchProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tabforge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "bench", "profiles", "--profiles", "development,production", "--",
		"--data", testdata("credit_data.csv"), "--target", "Status", "--models", "logistic", "--cv-folds", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("bench profiles: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"development", "production", "auc 0.", "logistic"} {
		if !strings.Contains(text, want) {
			t.Errorf("profile table lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "failed") {
		t.Errorf("a profile run failed:\n%s", text)
	}
}
