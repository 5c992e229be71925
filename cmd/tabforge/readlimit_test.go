package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainRefusesClaimedRows: train on a Parquet file of 16 kB whose
// metadata claims about 2^40 rows of a constant column (8 TiB of values)
// exits 1 under the default read memory limit, saying the estimate, the
// limit and how to raise it, where it was killed for memory.
func TestTrainRefusesClaimedRows(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join("..", "..", "frame", "testdata", "claimed_rows.parquet")
	code, _, stderr := tabforge(t, dir, "train", "--data", bomb, "--target", "x", "--models", "ols", "--cv-folds", "0",
		"--out", dir, "--profile", "development")
	if code != 1 {
		t.Fatalf("train exit %d; want 1: %s", code, stderr)
	}
	// 512 pages of 2^31-1 rows; 8 bytes a value.
	for _, want := range []string{"claimed_rows.parquet", "too large to read into memory", "the table of 1099511627264 rows and 1 column would take about 8.0 TiB,",
		"(the default: half of the memory this process may use)", "--set read_memory_limit=SIZE"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("train stderr = %q; want it to say %q", stderr, want)
		}
	}
}

// TestReadMemoryLimitSetting: read_memory_limit reaches the commands that
// read a data file whole (train, evaluate), and predict, which streams
// its input a block at a time, is not refused for the file's size.
func TestReadMemoryLimitSetting(t *testing.T) {
	dir := t.TempDir()
	data := testdata("credit_data.csv") // 4,454 rows of 14 columns: about 750 kB of estimate
	limit := []string{"--set", "read_memory_limit=64KiB"}
	train := []string{"train", "--data", data, "--target", "Status", "--models", "logistic", "--cv-folds", "0",
		"--out", dir, "--json", "--profile", "development"}
	const refused = "the table passes the read memory limit of 64.0 KiB at row "
	if code, _, stderr := tabforge(t, dir, append(train, limit...)...); code != 1 || !strings.Contains(stderr, refused) {
		t.Errorf("train under 64KiB: exit %d %q; want 1 saying %q", code, stderr, refused)
	}
	code, stdout, stderr := tabforge(t, dir, append(train, "--set", "read_memory_limit=0")...)
	if code != 0 {
		t.Fatalf("train without a limit: exit %d: %s", code, stderr)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	evaluate := []string{"evaluate", "--model", res.ModelPath, "--data", data}
	if code, _, stderr := tabforge(t, dir, append(evaluate, limit...)...); code != 1 || !strings.Contains(stderr, refused) {
		t.Errorf("evaluate under 64KiB: exit %d %q; want 1 saying %q", code, stderr, refused)
	}
	predict := []string{"predict", "--model", res.ModelPath, "--data", data, "--out", filepath.Join(dir, "p.csv")}
	if code, _, stderr := tabforge(t, dir, append(predict, limit...)...); code != 0 {
		t.Errorf("predict under 64KiB: exit %d: %s; want its stream read", code, stderr)
	}
}
