package report

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
)

// TestWriteDrift writes the drift page of Texas housing 2000–04 against
// 2011–15 and checks what a reader sees: the verdict, every column in the
// table, one chart per compared column with both distributions, and no
// external reference.
func TestWriteDrift(t *testing.T) {
	f, err := frame.ReadFile(filepath.Join("..", "testdata", "txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	year, _ := f.Lookup("year")
	var early, late []int
	for i, y := range year.Num {
		if y <= 2004 {
			early = append(early, i)
		} else if y >= 2011 {
			late = append(late, i)
		}
	}
	r, err := drift.Compare(context.Background(), f.Take(early), f.Take(late), drift.Options{Target: "median"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "drift.html")
	if err := WriteDrift(path, r, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`).FindString(page); m != "" {
		t.Errorf("page references an external resource: %s", m)
	}
	if !strings.Contains(page, "DATASET DRIFT") || !strings.Contains(page, "<title>Data drift</title>") {
		t.Error("page lacks the verdict or the title")
	}
	for _, name := range f.Names() {
		if !strings.Contains(page, "<td>"+name+"</td>") {
			t.Errorf("table lacks column %s", name)
		}
	}
	// Every column but the skipped date, target included, has a chart
	// with a reference and a current series.
	want := len(r.Columns) - 1 + 1
	if n := strings.Count(page, "<svg"); n != want {
		t.Errorf("%d charts; want %d", n, want)
	}
	if n := strings.Count(page, ">current<"); n != want {
		t.Errorf("%d legends name the current data; want %d", n, want)
	}
	if err := WriteDrift(path, nil, ""); err == nil {
		t.Error("nil report: no error")
	}
}
