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
