package drift

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestNumberClassBins: a numeric class target's bins are labelled as the
// model's classes and predictions are (frame.NumberLabel): penguins whose
// species are coded 1000000, 2000001 and 3500000 read "1000000", where %g
// printed "1e+06" and "3.5e+06".
func TestNumberClassBins(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(`"Adelie"`, "1000000", `"Chinstrap"`, "2000001", `"Gentoo"`, "3500000").Replace(string(raw))
	lines := strings.SplitAfter(strings.TrimRight(text, "\n"), "\n")
	half := 1 + (len(lines)-1)/2
	read := func(rows []string) *frame.Frame {
		f, err := frame.ReadCSV(strings.NewReader(lines[0]+strings.Join(rows, "")), frame.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ref, cur := read(lines[1:half]), read(lines[half:])
	r, err := Compare(context.Background(), ref, cur, Options{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target == nil {
		t.Fatal("no target column in the report")
	}
	var got []string
	for _, b := range r.Target.Bins {
		got = append(got, b.Label)
	}
	for _, want := range []string{"1000000", "2000001", "3500000"} {
		if !slices.Contains(got, want) {
			t.Errorf("target bins %q; want %q among them", got, want)
		}
	}
}
