package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestUnreadDatesWarn: a column of dates written day first (as a
// spreadsheet in most of Europe writes them) trained as a category with a
// level per date and only an identifier warning. It is now named, with
// the way to have it read; ISO dates (read as dates) and a version-like
// text column are not.
func TestUnreadDatesWarn(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("day,iso,version,x,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%02d.%02d.%d,%d-%02d-%02d,%d.%d.%d,%d,%d\n", i%28+1, i%12+1, 2000+i/12, 2000+i/12, i%12+1, i%28+1, i%3, i%4, i%5, i%7, 2*(i%7)+i%3)
	}
	data := filepath.Join(dir, "dates.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res := trainSmall(t, "tree", 2, func(cfg *config.Config) {
		cfg.Data, cfg.Target, cfg.Out = data, "y", t.TempDir()
	})
	var named []string
	for _, w := range res.Warnings {
		if strings.Contains(w, "not read as dates") {
			named = append(named, w)
		}
	}
	if len(named) != 1 || !strings.Contains(named[0], `column "day"`) || !strings.Contains(named[0], "ISO 8601") {
		t.Fatalf("warnings about dates %q; want one naming column day and ISO 8601 (all: %q)", named, res.Warnings)
	}
}
