package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// penguinsNA writes the penguins with the Chinstraps' species spelled
// "NA" (North American, say) and the missing measurements and sexes as
// empty fields, as a table exported that way has them, and returns it.
func penguinsNA(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for l := range strings.Lines(string(src)) {
		fields := strings.Split(strings.TrimSuffix(l, "\n"), ",")
		for i, v := range fields {
			if v == "NA" {
				fields[i] = ""
			}
		}
		if fields[0] == `"Chinstrap"` {
			fields[0] = `"NA"`
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "penguins_na.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMissingValuesClass: with missing_values: [] the species "NA" is a
// class that train learns and that the saved model reads and predicts
// back; by default it is missing, and its 68 rows are dropped, leaving a
// binary task. "NA" was always missing: penguins lost the Chinstraps.
func TestMissingValuesClass(t *testing.T) {
	data := penguinsNA(t)
	train := func(missing []string) *Result {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "species", []string{"logistic"}, 0, t.TempDir()
		cfg.ForceProductionQuality = false
		if missing != nil {
			cfg.MissingValues = config.MissingValues{All: missing}
		}
		res, err := Train(context.Background(), cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := train(nil); !slices.Equal(res.Classes, []string{"Adelie", "Gentoo"}) {
		t.Errorf("default missing_values: classes %q; want [Adelie Gentoo], \"NA\" read as missing", res.Classes)
	}
	res := train([]string{})
	if want := []string{"Adelie", "Gentoo", "NA"}; !slices.Equal(res.Classes, want) {
		t.Fatalf("missing_values []: classes %q; want %q", res.Classes, want)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	// The saved model reads "NA" as the class even when its caller reads
	// with frame's defaults.
	x, rep, err := p.ReadInput(data, frame.ReadOptions{})
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("read: %v %v", err, rep.Err(false))
	}
	species, _ := x.Lookup("species")
	pred, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	// Logistic regression on bill and flipper sizes tells most penguins
	// apart; the Chinstraps must come back as "NA".
	var na, right int
	for i, l := range pred.Labels {
		if species.Label(i) == "NA" {
			na++
			if l == "NA" {
				right++
			}
		}
	}
	if na != 68 || right < na/2 {
		t.Errorf("%d rows read as class NA, %d predicted NA; want the 68 Chinstraps, most predicted NA", na, right)
	}
}

// TestMissingValuesDefault: the default missing_values read as frame has
// always read, so models and data read as before.
func TestMissingValuesDefault(t *testing.T) {
	got := MissingTokens(config.Default())
	want := frame.DefaultMissing()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("MissingTokens(Default()) = %q; want frame.DefaultMissing() %q", got, want)
	}
}
