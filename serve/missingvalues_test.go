package serve

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestMissingValuesServe: a model trained with missing_values: [] on
// penguins whose Chinstraps are the species "NA" and whose island Dream
// is spelled "NA" is served reading "NA" as the island it was trained on,
// not as missing, and answers the class "NA". The server read request
// bodies with the default texts, so "NA" was always missing.
func TestMissingValuesServe(t *testing.T) {
	src, err := os.ReadFile(testdata("corpus/palmerpenguins_penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var train, rows strings.Builder
	for i, l := range slices.Collect(strings.Lines(string(src))) {
		fields := strings.Split(strings.TrimSuffix(l, "\n"), ",")
		for j, v := range fields {
			switch v {
			case "NA":
				fields[j] = "" // missing measurements as empty fields
			case `"Chinstrap"`, `"Dream"`:
				fields[j] = `"NA"`
			}
		}
		train.WriteString(strings.Join(fields, ",") + "\n")
		if i == 0 || fields[1] == `"NA"` { // the request: the island "NA"'s penguins, without species
			rows.WriteString(strings.Join(fields[1:], ",") + "\n")
		}
	}
	dir := t.TempDir()
	data, body := filepath.Join(dir, "penguins_na.csv"), filepath.Join(dir, "rows.csv")
	for path, text := range map[string]string{data: train.String(), body: rows.String()} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, arts := newRegistry(t)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name, cfg.MissingValues = data, "species", "penguins", config.MissingValues{All: []string{}}
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
	m := trainConfig(t, reg, arts, cfg)
	promote(t, reg, m.Version)
	p, _ := wantPredictions(t, reg, m.Version, body)
	// What the model computes on the rows read with "NA" as a label.
	x, err := frame.ReadFile(body, frame.ReadOptions{Missing: []string{""}, Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	if island, _ := x.Lookup("island"); island.Label(0) != "NA" {
		t.Fatalf("island of the first row %q; want NA", island.Label(0))
	}
	want, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(want.Labels, "NA") {
		t.Fatalf("predictions %q; want the class NA among them", want.Labels)
	}
	f := start(t, reg, Options{})
	text, err := os.ReadFile(body)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := f.post("/invocations?model=penguins", "text/csv", text)
	if code != http.StatusOK {
		t.Fatalf("invocations: %d %s", code, out)
	}
	checkMLflow(t, "csv", p, want, out)
}
