package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestSingleRowClassWarning: penguins with one Chinstrap left, which the
// test rows leave in the training rows, train with a warning naming the
// class, in the result (train's list and --json) and in the log; the
// full penguins do not.
func TestSingleRowClassWarning(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var full, one strings.Builder
	chinstraps, lone := 0, -1
	for i, l := range slices.Collect(strings.Lines(string(src))) {
		full.WriteString(l)
		if strings.HasPrefix(l, `"Chinstrap"`) {
			if chinstraps++; chinstraps > 1 {
				continue
			}
			lone = i - 1 // data row, header excluded
		}
		one.WriteString(l)
	}
	// Every fifth data row is a test row, but the lone Chinstrap.
	var test strings.Builder
	for i := 0; i < strings.Count(one.String(), "\n")-1; i += 5 {
		if i != lone {
			fmt.Fprintln(&test, i)
		}
	}
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	testRows := write("test_rows.txt", test.String())
	train := func(data string) (*Result, string) {
		var logs bytes.Buffer
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.TestRows, cfg.Models, cfg.Out = data, "species", testRows, []string{"logistic"}, t.TempDir()
		cfg.ForceProductionQuality = false
		res, err := Train(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return res, logs.String()
	}
	res, logs := train(write("one_chinstrap.csv", one.String()))
	i := slices.IndexFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "single row") })
	if i < 0 || !strings.Contains(res.Warnings[i], `"Chinstrap"`) {
		t.Errorf("warnings %q; want one naming the class \"Chinstrap\", which has a single training row", res.Warnings)
	}
	if !strings.Contains(logs, "classes with a single training row") || !strings.Contains(logs, "Chinstrap") {
		t.Errorf("log:\n%s\nwant a warning naming Chinstrap", logs)
	}
	res, _ = train(write("penguins.csv", full.String()))
	if slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "single row") }) {
		t.Errorf("full penguins warn %q; no class has a single training row", res.Warnings)
	}
}
