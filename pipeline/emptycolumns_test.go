package pipeline

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestEmptyColumnsReported feeds a credit_data model a copy whose Home and
// Income are blank on every row (a failed join, say): predict, evaluate
// and explain used it without a word, every prediction resting on the
// other columns. Whole-file reading and the predict stream, whose blocks
// see the one Income kept on the last row late, report the same columns.
func TestEmptyColumnsReported(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"logistic"}, 0, t.TempDir()
	_, p := trainSaved(t, cfg)
	rows := readRecords(t, data)
	header := rows[0]
	home, income := slices.Index(header, "Home"), slices.Index(header, "Income")
	blank := func(keepLastIncome bool) [][]string {
		body := cloneRows(rows[1:])
		for i, r := range body {
			r[home] = ""
			if !keepLastIncome || i < len(body)-1 {
				r[income] = ""
			}
		}
		return body
	}
	for _, tt := range []struct {
		name string
		body [][]string
		want []string
	}{
		{"as trained", cloneRows(rows[1:]), nil},
		{"two blank", blank(false), []string{"Home", "Income"}},
		{"Income on the last row", blank(true), []string{"Home"}},
		{"one row", blank(false)[:1], nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRecords(t, header, tt.body)
			_, r, err := p.ReadInput(path, frame.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Empty, tt.want) {
				t.Errorf("ReadInput: empty = %q; want %q", r.Empty, tt.want)
			}
			_, res, err := streamed(p, path, 1000, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Report.Empty, tt.want) {
				t.Errorf("PredictStream: empty = %q; want %q", res.Report.Empty, tt.want)
			}
			warned := slices.ContainsFunc(r.Warnings(), func(w string) bool { return strings.HasSuffix(w, "(a failed export or join?)") })
			if warned != (len(tt.want) > 0) {
				t.Errorf("warnings %q; want one about the empty columns: %v", r.Warnings(), len(tt.want) > 0)
			}
		})
	}
}
