package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyCommandsNeedAStore gives each command that only reads the
// store a mistyped SQLite path: it must fail saying there is no store
// there, and leave neither file nor directory behind, rather than create
// an empty store and report that it holds nothing. A command that writes
// still creates its store.
func TestReadOnlyCommandsNeedAStore(t *testing.T) {
	ames := testdata("ames.csv")
	for _, args := range [][]string{
		{"runs", "list"},
		{"runs", "show", "abc"},
		{"runs", "diff", "abc", "def"},
		{"runs", "rm", "abc"},
		{"studies", "list"},
		{"studies", "show", "abc"},
		{"report", "abc"},
		{"gc", "--keep-last", "1", "--dry-run"},
		{"models", "list"},
		{"models", "show", "houses@production"},
		{"models", "history", "houses"},
		{"models", "verify", "houses@production"},
		{"models", "route", "houses"},
		{"meta", "show", "--data", ames, "--target", "Sale_Price"},
		{"meta", "export", "--out", "OUT/kb.json"},
		{"store", "export", "OUT/dump.jsonl"},
		{"predict", "--model", "houses@production", "--data", ames, "--out", "OUT/p.csv"},
		{"evaluate", "--model", "houses@production", "--data", ames},
		{"explain", "--model", "houses@production", "--data", ames, "--rows", "0"},
		{"export", "--model", "houses@production", "--format", "xgboost-json", "--out", "OUT/m.json"},
		{"train", "--data", ames, "--target", "Sale_Price", "--resume", "abc"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "typo", "tf.db")
			for i, a := range args {
				args[i] = strings.Replace(a, "OUT", dir, 1)
			}
			all := append(args[:1:1], append([]string{"--store", "sqlite://" + path, "--set", "artifacts=" + filepath.Join(dir, "artifacts")}, args[1:]...)...)
			var out, errb bytes.Buffer
			code := run(context.Background(), all, &out, &errb)
			if code != 1 || !strings.Contains(errb.String(), "no store at "+path+": nothing has been trained into it") {
				t.Errorf("%s: exit %d, stderr %q; want 1 and no store at %s", strings.Join(args, " "), code, errb.String(), path)
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("%s left %s in %s", strings.Join(args, " "), left[0].Name(), dir)
			}
		})
	}

	// A mistyped model file is said to be one, with the missing store.
	dir := t.TempDir()
	model := filepath.Join(dir, "modle.tfm")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"predict", "--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--model", model,
		"--data", ames, "--out", filepath.Join(dir, "p.csv")}, &out, &errb)
	if want := `model "` + model + `": no such file, and not a registered model: no store at `; code != 1 || !strings.Contains(errb.String(), want) {
		t.Errorf("predict --model of a missing file: exit %d, stderr %q; want 1 and %q", code, errb.String(), want)
	}

	path := filepath.Join(dir, "new", "tf.db")
	out.Reset()
	errb.Reset()
	run(context.Background(), []string{"models", "--store", "sqlite://" + path, "alias", "rm", "houses", "champion"}, &out, &errb)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("models alias rm (a command that writes) did not create its store %s: %v (stderr %q)", path, err, errb.String())
	}
}
