package pipeline

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestTargetCopyWarns checks that a feature reproducing the target (a
// copy of a regression target, a class recoded one for one) is named in
// the result's warnings with the way to leave it out: the meta corpus's
// cpus table with a copy of perf added trained ols to test R² 1 without
// a word. Columns that only come close (one row off, a missing value, two
// levels for one class) are not named.
func TestTargetCopyWarns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,copy,near,gappy,yes_no,code,kind,y,cls\n")
	for i := range 60 {
		y := 3*(i%7) + i%3 + 1
		near, gappy := y, fmt.Sprint(y)
		if i == 17 {
			near++
		}
		if i == 23 {
			gappy = ""
		}
		cls := []string{"no", "yes"}[i%5/3]
		code := map[string]int{"no": 0, "yes": 1}[cls]
		kind := []string{"a", "b", "c"}[i%3] // one level for "yes", two for "no" half the time
		fmt.Fprintf(&b, "%d,%d,%d,%s,%s,%d,%s,%d,%s\n", i%11, y, near, gappy, cls, code, kind, y, cls)
	}
	data := filepath.Join(dir, "copies.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		drop   []string
		want   []string
	}{
		{"y", []string{"cls", "yes_no", "code", "kind"}, []string{"copy"}},
		{"cls", []string{"y", "copy", "near", "gappy"}, []string{"code", "yes_no"}},
	} {
		t.Run(tt.target, func(t *testing.T) {
			res := trainSmall(t, "tree", 2, func(cfg *config.Config) {
				cfg.Data, cfg.Target, cfg.Drop, cfg.Out = data, tt.target, tt.drop, t.TempDir()
			})
			var got []string
			for _, w := range res.Warnings {
				if strings.Contains(w, "reproduces the target") {
					got = append(got, w)
				}
			}
			var named []string
			for _, col := range []string{"x", "copy", "near", "gappy", "yes_no", "code", "kind", "y", "cls"} {
				for _, w := range got {
					if strings.HasPrefix(w, fmt.Sprintf("column %q reproduces the target (%s)", col, tt.target)) &&
						strings.HasSuffix(w, "--drop "+col) {
						named = append(named, col)
					}
				}
			}
			slices.Sort(named)
			if len(got) != len(tt.want) || !slices.Equal(named, tt.want) {
				t.Errorf("target-copy warnings %q; want one each for %q", got, tt.want)
			}
		})
	}
}

// TestRowIDColumnWarns checks that a numeric column numbered like the
// rows (an id column, R's row numbers), in file order or shuffled and
// with gaps where rows lacked a target, is named in the result's
// warnings with the way to leave it out; an integer feature with a
// repeat, one spread over a wide range, a time column and a dropped id
// are not. Before, only categorical ids were named, and a table with
// "id" 1..n trained on it silently.
func TestRowIDColumnWarns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,shuffled,repeat,wide,year,x,y\n")
	for i := range 60 {
		y := fmt.Sprint(2*(i%7) + i%3)
		if i%10 == 4 {
			y = "" // left out: gaps in id
		}
		rep := i
		if i == 30 {
			rep = 31
		}
		fmt.Fprintf(&b, "%d,%d,%d,%d,%d,%d,%s\n", i+1, (i*37)%60, rep, i*i, 1950+i, i%5, y)
	}
	data := filepath.Join(dir, "rowids.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		drop []string
		want []string
	}{
		{nil, []string{"id", "shuffled"}},
		{[]string{"id", "shuffled"}, nil},
	} {
		res := trainSmall(t, "ridge", 2, func(cfg *config.Config) {
			cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Drop, cfg.Out = data, "y", "year", tt.drop, t.TempDir()
		})
		var named []string
		for _, w := range res.Warnings {
			for _, col := range []string{"id", "shuffled", "repeat", "wide", "year", "x"} {
				if strings.HasPrefix(w, fmt.Sprintf("column %q holds a different whole number in every row", col)) &&
					strings.Contains(w, "--drop "+col) {
					named = append(named, col)
				}
			}
		}
		slices.Sort(named)
		if !slices.Equal(named, tt.want) {
			t.Errorf("drop %v: row-id warnings for %q; want %q (warnings %q)", tt.drop, named, tt.want, res.Warnings)
		}
	}
}

// TestCodedClassTargetWarns checks that a numeric target of a few whole
// values, which auto reads as regression, gets a warning naming them and
// --task multiclass: the meta corpus's Glass (types 1, 2, 3, 5, 6, 7)
// trained as a regression with R² scores and no word. A target of more
// values, of fractions, or with the task given is not warned about.
func TestCodedClassTargetWarns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,glass,many,frac\n")
	for i := range 60 {
		fmt.Fprintf(&b, "%d,%d,%d,%g\n", i%9, []int{1, 2, 3, 5, 6, 7}[i%6], i%12, float64(i%4)+0.5)
	}
	data := filepath.Join(dir, "coded.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := `target "glass" holds only 6 distinct whole numbers (1, 2, 3, 5, 6, 7) and is learned as a quantity (regression); ` +
		"if they are class labels, pass --task multiclass"
	for _, tt := range []struct {
		target, task string
		warn         bool
	}{{"glass", "auto", true}, {"glass", "regression", false}, {"many", "auto", false}, {"frac", "auto", false}} {
		res := trainSmall(t, "ridge", 2, func(cfg *config.Config) {
			cfg.Data, cfg.Target, cfg.Task, cfg.Out = data, tt.target, config.Task(tt.task), t.TempDir()
			cfg.Drop = slices.DeleteFunc([]string{"glass", "many", "frac"}, func(c string) bool { return c == tt.target })
		})
		var got []string
		for _, w := range res.Warnings {
			if strings.Contains(w, "distinct whole numbers") {
				got = append(got, w)
			}
		}
		if tt.warn && !slices.Equal(got, []string{want}) || !tt.warn && len(got) != 0 {
			t.Errorf("target %s task %s: warnings %q; want %v", tt.target, tt.task, got, tt.warn)
		}
	}
}

// TestConstantColumnWarns: on the credit data with columns added, one
// holding the same value in every row (a number, a category) or missing
// in every row is named in a warning saying no model learns from it; a
// column with one other value, or one value and some missing, is not.
// Such columns trained without a word.
func TestConstantColumnWarns(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, line := range slices.Collect(strings.Lines(string(raw))) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case i == 0:
			fmt.Fprintf(&b, "%s,rate,country,empty,one_off,gappy\n", line)
		default:
			oneOff, gappy := "A", "7"
			if i == 40 {
				oneOff = "B"
			}
			if i%9 == 0 {
				gappy = ""
			}
			fmt.Fprintf(&b, "%s,0.5,DE,,%s,%s\n", line, oneOff, gappy)
		}
	}
	data := filepath.Join(t.TempDir(), "credit_constant.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res := trainSmall(t, "logistic", 0, func(cfg *config.Config) {
		cfg.Data, cfg.Target, cfg.Out = data, "Status", t.TempDir()
	})
	want := map[string]string{
		"rate":    `column "rate" holds the same value (0.5) in every row`,
		"country": `column "country" holds the same value (DE) in every row`,
		"empty":   `column "empty" is missing in every row`,
	}
	var got []string
	for _, w := range res.Warnings {
		if strings.Contains(w, "no model can learn anything from it") {
			got = append(got, w)
		}
	}
	for col, prefix := range want {
		if !slices.ContainsFunc(got, func(w string) bool { return strings.HasPrefix(w, prefix) && strings.HasSuffix(w, "--drop "+col) }) {
			t.Errorf("no warning %q...--drop %s among %q", prefix, col, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("constant-column warnings %q; want one each for %v only", got, slices.Sorted(maps.Keys(want)))
	}
}

// trainSmall trains one model family (gates off, folds-fold CV) on the
// config set fills in, as the suspect-column and dropped-row tests do,
// and returns the result whose warnings they read.
func trainSmall(t *testing.T, family string, folds int, set func(cfg *config.Config)) *Result {
	t.Helper()
	cfg := config.Default()
	set(cfg)
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{family}, folds, false
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
