package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestDroppedTimeRowsWarn checks that rows left out for a missing time
// are counted in the result's warnings, which --json and the report show:
// only the log said so, and a --json reader saw a clean run on fewer rows.
func TestDroppedTimeRowsWarn(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("t,x,y\n")
	for i := range 100 {
		date := fmt.Sprintf("2020-%02d-%02d", 1+i/28, 1+i%28)
		if i%10 == 3 {
			date = "" // 10 rows without a time
		}
		fmt.Fprintf(&b, "%s,%d,%d\n", date, i%7, 3*(i%7)+i%2)
	}
	data := filepath.Join(dir, "gaps.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Out = data, "y", "t", dir
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{"ridge"}, 2, false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows+res.TestRows != 90 {
		t.Fatalf("train %d + test %d rows; want the 90 with a time", res.TrainRows, res.TestRows)
	}
	want := "10 of 100 rows have no target or no time (t) and were left out of training and test"
	if !slices.Contains(res.Warnings, want) {
		t.Errorf("warnings %q; want %q", res.Warnings, want)
	}
}
