package pipeline

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestCheckColumnsRules checks that a monotonic rule naming a column the
// data lacks, or a categorical one, fails before training: it used to
// train every model and then fail the run's gate with "could not be
// checked: feature not found among the model's inputs" (exit 1, as if the
// model were bad).
func TestCheckColumnsRules(t *testing.T) {
	f, err := frame.New(frame.NewNumeric("x", []float64{1, 2}), frame.NewNumeric("y", []float64{3, 4}),
		frame.NewCategoricalFromStrings("city", []string{"a", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		feature string
		want    string // "" means no error
	}{
		{"x", ""},
		{"nosuch", `business_rules "up" feature "nosuch"`},
		{"city", `rule "up": feature "city" is categorical`},
	}
	for _, tc := range cases {
		cfg := config.Default()
		cfg.Target = "y"
		cfg.BusinessRules = []config.BusinessRule{{Name: "up", Kind: config.RuleMonotonic, Feature: tc.feature, Direction: "increasing"}}
		err := checkColumns(f, cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("feature %q: checkColumns = %v; want nil", tc.feature, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("feature %q: checkColumns = %v; want an error containing %q", tc.feature, err, tc.want)
		}
	}
}

// TestMissingColumnsError checks that the columns a config names and the
// data lacks come back as a typed error a library caller can inspect by
// key, not only as text.
func TestMissingColumnsError(t *testing.T) {
	f, err := frame.New(frame.NewNumeric("x", []float64{1, 2}), frame.NewNumeric("y", []float64{3, 4}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Target, cfg.Drop, cfg.TimeColumn = "price", []string{"x", "id"}, "year, month"
	var mc *MissingColumnsError
	if err := checkColumns(f, cfg); !errors.As(err, &mc) {
		t.Fatalf("checkColumns = %v; want a *MissingColumnsError", err)
	}
	want := []MissingColumn{{"target", "price"}, {"drop", "id"}, {"time_column", "year"}, {"time_column", "month"}}
	if !slices.Equal(mc.Missing, want) || !slices.Equal(mc.Columns, []string{"x", "y"}) {
		t.Errorf("missing %v, columns %v; want %v, [x y]", mc.Missing, mc.Columns, want)
	}
	if msg := mc.Error(); !strings.HasPrefix(msg, `4 column(s) not found in the data: target "price", drop "id"`) {
		t.Errorf("message %q", msg)
	}
}

// TestMissingColumnsWrongSeparator: a comma file read with --sep ';'
// has its whole header as one column name, which the error offered as
// the target the user must have meant ("did you mean
// "Status,Seniority,..."?"); it now says the separator is wrong.
func TestMissingColumnsWrongSeparator(t *testing.T) {
	e := &MissingColumnsError{Missing: []MissingColumn{{Key: "target", Column: "Status"}}, Columns: []string{"Status,Seniority,Home"}}
	msg := e.Error()
	want := `the header was read as a single column, though it holds ",": the file's separator is not the one read with`
	if !strings.Contains(msg, want) || strings.Contains(msg, "did you mean") {
		t.Errorf("Error() = %q; want it to contain %q and no \"did you mean\"", msg, want)
	}
	e = &MissingColumnsError{Missing: []MissingColumn{{Key: "target", Column: "Statu"}}, Columns: []string{"Status"}}
	if msg := e.Error(); strings.Contains(msg, "separator") || !strings.Contains(msg, `did you mean "Status"?`) {
		t.Errorf("Error() = %q for a single column without a separator; want only the suggestion", msg)
	}
}
