package serve

import (
	"encoding/csv"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestColumnMissingServe: a model trained with missing_values
// {Income: ["0"]} on credit data whose unknown incomes are written as 0
// is served reading a request's income of 0 as missing, in CSV and in
// every JSON form, and so answers what it predicts on the same rows with
// those incomes empty, while the zeros of Assets and Debt stay values.
func TestColumnMissingServe(t *testing.T) {
	reg, arts := newRegistry(t)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name = testdata("credit_income0.csv"), "Status", "credit"
	cfg.MissingValues = config.MissingValues{Columns: map[string][]string{"Income": {"0"}}}
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"logistic"}, 0, t.TempDir(), false
	m := trainConfig(t, reg, arts, cfg)
	promote(t, reg, m.Version)
	p, _ := wantPredictions(t, reg, m.Version, testdata("credit_income0.csv"))

	text, err := os.ReadFile(testdata("credit_income0.csv"))
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(string(text))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, rows := records[0][1:], records[1:201] // the request: no Status
	blank := make([][]string, len(rows))
	zeros := 0
	for i, r := range rows {
		rows[i] = r[1:]
		blank[i] = slices.Clone(rows[i])
		if j := slices.Index(header, "Income"); blank[i][j] == "0" {
			blank[i][j], zeros = "", zeros+1
		}
	}
	if zeros == 0 {
		t.Fatal("the request rows have no income of 0")
	}
	x, err := frame.ReadRows(header, blank, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	f := start(t, reg, Options{})
	for format, body := range mlflowBodies(header, rows) {
		ct := "application/json"
		if format == "csv" {
			ct = "text/csv"
		}
		code, out, _ := f.post("/invocations?model=credit", ct, body)
		if code != http.StatusOK {
			t.Fatalf("%s: invocations: %d %s", format, code, out)
		}
		checkMLflow(t, format, p, want, out)
	}
}
