package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestNumberTextWarns trains on a CSV whose amount column writes
// thousands with commas: the column is read as categorical (no locale is
// guessed), and the run's warnings, which --json and the report show,
// name the column and an example value. Only Train said nothing: the
// model silently learnt amounts as unordered categories.
func TestNumberTextWarns(t *testing.T) {
	data := filepath.Join("..", "testdata", "amounts_grouped.csv") // "1,000": thousands grouped with commas
	for _, tt := range []struct {
		name   string
		schema map[string]config.ColumnKind
		warn   bool
	}{
		{"inferred", nil, true},
		{"forced categorical", map[string]config.ColumnKind{"amount": "categorical"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Out = data, "y", t.TempDir()
			cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"ridge"}, 2, false
			cfg.Schema = tt.schema
			res, err := Train(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := frame.NumberText{Column: "amount", Example: "1,000"}.String()
			if got := slices.Contains(res.Warnings, want); got != tt.warn {
				t.Errorf("warnings %q; contain %q: %v, want %v", res.Warnings, want, got, tt.warn)
			}
		})
	}
}
