package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestTinyTables: tables too small to train on say why, before any model
// is fitted, rather than failing inside one (or not at all).
func TestTinyTables(t *testing.T) {
	tests := []struct {
		name, csv string
		folds     int
		want      string
	}{
		{"one training row to cross-validate", "a,y\n1,3.5\n2,4.25\n", 5, "cross-validation needs at least 2 training rows; random 20% test leaves 1"},
		{"training rows of one class", "a,y\n1,no\n2,yes\n", 5, "leaves training rows of a single class"},
		{"one class without cross-validation", "a,y\n1,no\n2,yes\n", 0, "leaves training rows of a single class"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tiny.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.CVFolds, cfg.Out = path, "y", tt.folds, filepath.Join(dir, "models")
			_, err := Train(context.Background(), cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Train: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSingleRowWarningNamesAFew(t *testing.T) {
	few := singleRowWarning([]string{"a", "b"})
	if !strings.Contains(few, `class(es) "a", "b" have`) {
		t.Errorf("two classes: %q", few)
	}
	var many []string
	for i := range 60 {
		many = append(many, fmt.Sprintf("c%02d", i))
	}
	got := singleRowWarning(many)
	if !strings.Contains(got, `"c09" and 50 more have`) || strings.Contains(got, `"c10"`) {
		t.Errorf("60 classes: %q; want the first 10 named and 50 counted", got)
	}
}

// TestSoleTestClassWarns: test rows of one class left the test AUC n/a
// and the F1 0 on the leaderboard, and nothing said why.
func TestSoleTestClassWarns(t *testing.T) {
	dir := t.TempDir()
	var csv, rows strings.Builder
	csv.WriteString("a,y\n")
	for i := range 40 {
		label := "no"
		if i%2 == 0 {
			label = "yes"
		}
		fmt.Fprintf(&csv, "%d,%s\n", i%7, label)
		if i%2 == 0 && i < 16 {
			fmt.Fprintf(&rows, "%d\n", i)
		}
	}
	data, testRows := filepath.Join(dir, "t.csv"), filepath.Join(dir, "test_rows.txt")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testRows, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out, cfg.TestRows = data, "y", filepath.Join(dir, "models"), testRows
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"logistic"}, 2, false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "the test rows (test rows from " + testRows + ") hold a single class (yes) of the target's 2: test AUC is undefined on them"
	found := false
	for _, w := range res.Warnings {
		found = found || strings.HasPrefix(w, want)
	}
	if !found {
		t.Errorf("warnings %q; want one starting %q", res.Warnings, want)
	}
}

// TestUntrainedClassWarns: a class that only test rows hold was never
// learnt, its test rows all mispredicted, and the run said nothing.
func TestUntrainedClassWarns(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,y\n")
	for i := range 60 {
		label := []string{"A", "B"}[i%2]
		if i == 3 || i == 5 {
			label = "C"
		}
		fmt.Fprintf(&csv, "%d,%s\n", i%7, label)
	}
	data, testRows := filepath.Join(dir, "t.csv"), filepath.Join(dir, "test_rows.txt")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testRows, []byte("3\n5\n10\n11\n12\n13\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out, cfg.TestRows = data, "y", filepath.Join(dir, "models"), testRows
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"logistic"}, 2, false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `class(es) "C" have no training rows (only test rows hold them)`
	found := false
	for _, w := range res.Warnings {
		found = found || strings.HasPrefix(w, want)
	}
	if !found {
		t.Errorf("warnings %q; want one starting %q", res.Warnings, want)
	}
}

// TestSpellingTwinsWarns: a binary target whose "good" is sometimes
// written "Good" or "good " trained as three classes, and nothing said
// why the task was multiclass.
func TestSpellingTwinsWarns(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,y\n")
	for i := range 60 {
		label := []string{"good", "bad", "Good", "good ", "bad", "good"}[i%6]
		fmt.Fprintf(&csv, "%d,%s\n", i%7, label)
	}
	data := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = data, "y", filepath.Join(dir, "models")
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"logistic"}, 2, false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `target "y" has classes that differ only in case or surrounding spaces ("Good", "good", "good ")`
	found := false
	for _, w := range res.Warnings {
		found = found || strings.HasPrefix(w, want)
	}
	if !found {
		t.Errorf("warnings %q; want one starting %q", res.Warnings, want)
	}
	if got := spellingTwins([]string{"a", "b", "c"}); got != nil {
		t.Errorf("spellingTwins of distinct classes = %q; want none", got)
	}
}

// TestConstantRegressionTarget: a regression target of one value trained
// every model to a perfect R² of 1 on every fold and the test rows, and
// the run succeeded; it is refused as a target of one class is.
func TestConstantRegressionTarget(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,y\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "%d,5\n", i%7)
	}
	data := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = data, "y", filepath.Join(dir, "models")
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"ridge"}, 2, false
	_, err := Train(context.Background(), cfg, Options{})
	want := `target column "y" holds a single value (5) on every row with a target: nothing to learn`
	if err == nil || err.Error() != want {
		t.Errorf("Train on a constant target: %v; want %q", err, want)
	}
}

// TestTestRowsErrors: a test-rows file's duplicate was named by its
// position among the rows with a target ("test row 2 listed twice"),
// not the row the file lists, and an out-of-range row repeated the
// file's name after the split's.
func TestTestRowsErrors(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(data, []byte("a,y\n1,\n2,3.5\n3,4\n4,5.5\n5,6\n6,7.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ rows, want string }{
		{"3\n3\n", "test rows from " + filepath.Join(dir, "rows.txt") + ": row 3 is listed twice"},
		{"1\n9\n", "test rows from " + filepath.Join(dir, "rows.txt") + ": row 9 is out of range: the data has 6 rows (0-5)"},
	} {
		rows := filepath.Join(dir, "rows.txt")
		if err := os.WriteFile(rows, []byte(tt.rows), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Out, cfg.TestRows, cfg.CVFolds = data, "y", filepath.Join(dir, "models"), rows, 0
		_, err := Train(context.Background(), cfg, Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("rows %q: %v; want %q", tt.rows, err, tt.want)
		}
	}
}
