package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestDroppedTimeRowsWarn checks that rows left out for a missing time
// or target are counted in the result's warnings, which --json and the
// report show: only the log said so (for a missing target, at info
// level), and a --json reader saw a clean run on fewer rows.
func TestDroppedTimeRowsWarn(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("t,x,y\n")
	for i := range 100 {
		date, y := fmt.Sprintf("2020-%02d-%02d", 1+i/28, 1+i%28), fmt.Sprint(3*(i%7)+i%2)
		if i%10 == 3 {
			date = "" // 10 rows without a time
		}
		if i%10 == 5 {
			y = "" // 10 rows without a target
		}
		fmt.Fprintf(&b, "%s,%d,%s\n", date, i%7, y)
	}
	data := filepath.Join(dir, "gaps.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		timeColumn string
		kept       int
		want       string
	}{
		{"t", 80, "20 of 100 rows have no target or no time (t) and were left out of training and test"},
		{"", 90, "10 of 100 rows have no target (y) and were left out of training and test"},
	} {
		t.Run("time_column="+tt.timeColumn, func(t *testing.T) {
			res := trainSmall(t, "ridge", 2, func(cfg *config.Config) {
				cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Out = data, "y", tt.timeColumn, t.TempDir()
			})
			if res.TrainRows+res.TestRows != tt.kept {
				t.Fatalf("train %d + test %d rows; want the %d with a target and a time", res.TrainRows, res.TestRows, tt.kept)
			}
			if !slices.Contains(res.Warnings, tt.want) {
				t.Errorf("warnings %q; want %q", res.Warnings, tt.want)
			}
		})
	}
}

// TestIDLikeColumnWarns checks that a feature with a different label in
// every row (a row id) is named in the result's warnings with the way to
// leave it out, and that a column with a role (the segment column), a
// repeated category and a dropped id are not.
func TestIDLikeColumnWarns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,shop,kind,x,y\n")
	for i := range 60 {
		fmt.Fprintf(&b, "r%03d,s%03d,%c,%d,%d\n", i, i, 'a'+rune(i%3), i%7, 2*(i%7)+i%3)
	}
	data := filepath.Join(dir, "ids.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := `column "id" has a different value in every row, like an identifier`
	for _, tt := range []struct {
		drop []string
		warn bool
	}{{nil, true}, {[]string{"id"}, false}} {
		res := trainSmall(t, "ridge", 2, func(cfg *config.Config) {
			cfg.Data, cfg.Target, cfg.SegmentColumn, cfg.Drop, cfg.Out = data, "y", "shop", tt.drop, t.TempDir()
		})
		var got []string
		for _, w := range res.Warnings {
			if strings.Contains(w, "like an identifier") {
				got = append(got, w)
			}
		}
		switch {
		case tt.warn && (len(got) != 1 || !strings.HasPrefix(got[0], want) || !strings.Contains(got[0], "--drop id")):
			t.Errorf("drop %v: identifier warnings %q; want one for id naming --drop id", tt.drop, got)
		case !tt.warn && len(got) != 0:
			t.Errorf("drop %v: identifier warnings %q; want none", tt.drop, got)
		}
	}
}
