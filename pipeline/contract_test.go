package pipeline

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestReadInputReportsEveryProblem trains on credit_data and feeds the
// model altered copies of it: each alteration must show in the report,
// all of them at once, and Err must refuse exactly the fatal ones.
func TestReadInputReportsEveryProblem(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"logistic"}, 0, t.TempDir()
	_, p := trainSaved(t, cfg)
	if i := slices.IndexFunc(p.Schema, func(f Field) bool { return f.Name == "Home" }); i < 0 || len(p.Schema[i].Levels) == 0 {
		t.Fatalf("the saved schema has no training levels for Home: %+v", p.Schema)
	}
	rows := readRecords(t, data)
	tests := []struct {
		name        string
		edit        func(header []string, rows [][]string) ([]string, [][]string)
		missing     []string
		wrongType   []string
		extra       []string
		unseen      []string
		fatal       bool // Err(false) refuses
		strictFatal bool // Err(true) refuses
	}{
		{name: "as trained", edit: keep},
		{name: "missing two", edit: dropColumns("Age", "Income"), missing: []string{"Age", "Income"}, fatal: true, strictFatal: true},
		{name: "extra column", edit: addColumn("note", "x"), extra: []string{"note"}, strictFatal: true},
		{name: "unseen category", edit: setCell("Home", 3, "castle"), unseen: []string{"Home"}, strictFatal: true},
		{name: "text in a number", edit: setCell("Age", 5, "old"), wrongType: []string{"Age"}, fatal: true, strictFatal: true},
		{name: "everything", edit: chain(dropColumns("Income"), addColumn("note", "x"), setCell("Home", 1, "castle"), setCell("Age", 2, "old"), setCell("Debt", 2, "lots")),
			missing: []string{"Income"}, wrongType: []string{"Age", "Debt"}, extra: []string{"note"}, unseen: []string{"Home"}, fatal: true, strictFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, body := tt.edit(slices.Clone(rows[0]), cloneRows(rows[1:]))
			path := writeRecords(t, header, body)
			x, r, err := p.ReadInput(path, frame.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var wrong, unseen []string
			for _, w := range r.WrongType {
				wrong = append(wrong, w.Column)
			}
			for _, u := range r.Unseen {
				unseen = append(unseen, u.Column)
			}
			slices.Sort(wrong)
			check := func(what string, got, want []string) {
				if !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("missing", r.Missing, tt.missing)
			check("wrong type", wrong, tt.wrongType)
			check("extra", r.Extra, tt.extra)
			check("unseen", unseen, tt.unseen)
			for strict, want := range map[bool]bool{false: tt.fatal, true: tt.strictFatal} {
				err := r.Err(strict)
				var ie *InputError
				if (err != nil) != want || (err != nil && !errors.As(err, &ie)) {
					t.Errorf("Err(strict=%v) = %v, want an *InputError: %v", strict, err, want)
				}
				if err != nil {
					for _, col := range slices.Concat(tt.missing, tt.wrongType) {
						if !strings.Contains(err.Error(), `"`+col+`"`) {
							t.Errorf("Err(strict=%v) = %q does not name %q", strict, err, col)
						}
					}
				}
			}
			if !tt.fatal {
				if _, err := p.Predict(x); err != nil {
					t.Errorf("Predict on usable input: %v", err)
				}
			}
		})
	}
}

func TestUnseenCountsRowsAndLabels(t *testing.T) {
	c := frame.NewCategorical("city", []int32{0, 1, 2, 2, -1, 3}, []string{"Austin", "Paris", "Rome", "Waco"})
	u, ok := unseen(c, []string{"Austin", "Waco"})
	if !ok || u.Rows != 3 || u.Distinct != 2 || !slices.Equal(u.Labels, []string{"Paris", "Rome"}) {
		t.Errorf("unseen = %+v, %v; want 3 rows of Paris and Rome", u, ok)
	}
	if _, ok := unseen(c, []string{"Austin", "Paris", "Rome", "Waco"}); ok {
		t.Error("all labels known, yet some reported unseen")
	}
}

func keep(h []string, rows [][]string) ([]string, [][]string) { return h, rows }

func chain(edits ...func([]string, [][]string) ([]string, [][]string)) func([]string, [][]string) ([]string, [][]string) {
	return func(h []string, rows [][]string) ([]string, [][]string) {
		for _, e := range edits {
			h, rows = e(h, rows)
		}
		return h, rows
	}
}

func dropColumns(names ...string) func([]string, [][]string) ([]string, [][]string) {
	return func(h []string, rows [][]string) ([]string, [][]string) {
		for _, n := range names {
			j := slices.Index(h, n)
			h = slices.Delete(h, j, j+1)
			for i := range rows {
				rows[i] = slices.Delete(rows[i], j, j+1)
			}
		}
		return h, rows
	}
}

func addColumn(name, value string) func([]string, [][]string) ([]string, [][]string) {
	return func(h []string, rows [][]string) ([]string, [][]string) {
		for i := range rows {
			rows[i] = append(rows[i], value)
		}
		return append(h, name), rows
	}
}

func setCell(col string, row int, value string) func([]string, [][]string) ([]string, [][]string) {
	return func(h []string, rows [][]string) ([]string, [][]string) {
		rows[row][slices.Index(h, col)] = value
		return h, rows
	}
}

func readRecords(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func cloneRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}

func writeRecords(t *testing.T, header []string, rows [][]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestQuoteAllTruncates: a label longer than maxQuoted is cut (on a rune
// boundary) and its length said; a 2 MB cell made a 2 MB warning line.
func TestQuoteAllTruncates(t *testing.T) {
	long := strings.Repeat("é", 1_000_000)
	got := quoteAll([]string{"castle", long})
	if len(got) > 200 || !strings.HasPrefix(got, `"castle", "é`) || !strings.Contains(got, "(2000000 bytes)") || !utf8.ValidString(got) {
		t.Errorf("quoteAll = %.300q", got)
	}
}

// TestInputErrorNamesNearColumns: a missing column that the data has
// but for case or surrounding spaces is pointed out; a header exported
// in lower case read as thirteen missing names with no clue why. So is a
// header read as one column for the wrong separator.
func TestInputErrorNamesNearColumns(t *testing.T) {
	for _, tt := range []struct {
		name             string
		missing, extra   []string
		want, wantAbsent string
	}{
		{"case", []string{"Income"}, []string{"income"}, `(the data has "income" for "Income": column names must match exactly)`, ""},
		{"spaces", []string{"Age", "Income"}, []string{" Age", "note"}, `(the data has " Age" for "Age": column names`, `"note" for`},
		{"unrelated", []string{"Income"}, []string{"note"}, `missing column(s) "Income"`, "the data has"},
		{"many", []string{"A", "B", "C", "D", "E"}, []string{"a", "b", "c", "d", "e"}, `"c" for "C", 2 more:`, `"d" for`},
		// A comma file read with --sep ';': every column was listed as
		// missing and nothing said why.
		{"wrong separator", []string{"Age", "Income"}, []string{"Status,Age,Income"},
			`(the header was read as a single column, though it holds ",": the file's separator is not the one read with`, ""},
		{"one extra column with a comma", []string{"Income"}, []string{"note,2"}, `missing column(s) "Income"`, "separator"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := (&InputError{Report: &InputReport{Missing: tt.missing, Extra: tt.extra}}).Error()
			if !strings.Contains(got, tt.want) || tt.wantAbsent != "" && strings.Contains(got, tt.wantAbsent) {
				t.Errorf("Error() = %q; want it to contain %q and not %q", got, tt.want, tt.wantAbsent)
			}
		})
	}
}

// TestLatin1TrainPredict: a model trained on a Latin-1 file knows its
// labels and names when it predicts on that file. The readers refused
// such a file; before that the model kept its levels as "priv\ufffd",
// so every accented category of the training file was unseen. One label
// spelt in UTF-8 on some rows and Latin-1 on others is one level.
func TestLatin1TrainPredict(t *testing.T) {
	rows := readRecords(t, filepath.Join("..", "testdata", "credit_data.csv"))
	header, body := rows[0], cloneRows(rows[1:])
	home, age := slices.Index(header, "Home"), slices.Index(header, "Age")
	header[age] = "\xc2ge" // "Âge"
	latin := map[string]string{"priv": "priv\xe9", "parents": "parents \x80"}
	for i, r := range body {
		switch {
		case r[home] == "owner" && i%2 == 0:
			r[home] = "propri\xe9taire"
		case r[home] == "owner":
			r[home] = "propriétaire"
		case latin[r[home]] != "":
			r[home] = latin[r[home]]
		}
	}
	data := writeRecords(t, header, body)
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"logistic"}, 0, t.TempDir()
	_, p := trainSaved(t, cfg)
	i := slices.IndexFunc(p.Schema, func(f Field) bool { return f.Name == "Home" })
	if i < 0 || !slices.Contains(p.Schema[i].Levels, "privé") || !slices.Contains(p.Schema[i].Levels, "parents €") ||
		len(p.Schema[i].Levels) != 6 {
		t.Fatalf("saved Home levels: %q; want the 6 labels decoded, owner's two spellings as one", p.Schema[i].Levels)
	}
	x, r, err := p.ReadInput(data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unseen) != 0 || len(r.Missing) != 0 || r.Err(true) != nil {
		t.Fatalf("predicting on the training file: unseen %+v, missing %q, error %v", r.Unseen, r.Missing, r.Err(true))
	}
	if _, err := p.Predict(x); err != nil {
		t.Fatal(err)
	}
}

// TestInputErrorShort: a request naming 3 of a model's 73 columns got a
// message listing the other 70, and text in a numeric column read as
// "is categorical", the reader's kind, not the client's mistake.
func TestInputErrorShort(t *testing.T) {
	var missing []string
	for i := range 70 {
		missing = append(missing, fmt.Sprintf("c%02d", i))
	}
	r := &InputReport{Missing: missing, WrongType: []TypeProblem{
		{Column: "area", Want: frame.Numeric, Got: frame.Categorical, Detail: `row 1 column "area": not a number: "big"`},
		{Column: "when", Want: frame.Datetime, Got: frame.Numeric}}}
	got := (&InputError{Report: r}).Error()
	for _, want := range []string{`"c19" and 50 more;`, `column "area" holds text where the model was trained on numbers (row 1 column "area": not a number: "big")`,
		`column "when" is numeric, the model was trained on datetime`} {
		if !strings.Contains(got, want) {
			t.Errorf("Error() = %q; want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, `"c20"`) {
		t.Errorf("Error() = %q; want 20 names listed", got)
	}
}
