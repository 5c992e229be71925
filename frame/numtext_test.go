package frame

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestNumberTexts reads CSV columns of numbers written as people and
// spreadsheets write them: the reader keeps them as labels (no locale is
// guessed) and NumberTexts names each such column with an example.
func TestNumberTexts(t *testing.T) {
	tests := []struct {
		name   string
		csv    string
		opts   ReadOptions
		want   []NumberText
		reason string
	}{
		{"thousands", "amount,city\n\"1,000\",a\n999,b\n\"12,345.6\",c\n", ReadOptions{},
			[]NumberText{{"amount", "1,000"}}, "grouped with commas, plain numbers among them"},
		{"decimal comma", "x;y\n1,5;a\n-0,25;b\n3;c\n", ReadOptions{},
			[]NumberText{{"x", "-0,25"}}, "semicolon-separated file with decimal commas (levels sort \"-0,25\" first)"},
		{"european grouping", "x;y\n1.234.567,8;a\n2.500,5;b\n", ReadOptions{},
			[]NumberText{{"x", "1.234.567,8"}}, "points group, comma is the decimal mark"},
		{"spaces and apostrophes", "x,y\n1 000,a\n2'500,b\n", ReadOptions{},
			[]NumberText{{"x", "1 000"}}, "grouped with spaces or apostrophes"},
		{"missing values", "x,y\n\"1,000\",a\nNA,b\n,c\n", ReadOptions{},
			[]NumberText{{"x", "1,000"}}, "missing tokens do not count"},
		{"a real label", "x,y\n\"1,000\",a\nmany,b\n", ReadOptions{},
			nil, "one level is text: a genuine categorical column"},
		{"codes", "x,y\n\"1,2,3\",a\n\"1,000,5\",b\n", ReadOptions{},
			nil, "not a number in any locale"},
		{"forced categorical", "x,y\n\"1,000\",a\n", ReadOptions{Schema: map[string]Kind{"x": Categorical}},
			nil, "the user chose the kind"},
		{"plain numbers", "x,y\n1000,a\n1.5,b\n", ReadOptions{},
			nil, "read as numbers"},
		{"currency", "x,y\n\"$1,200\",a\n-$5,b\n\"3,50 \u20ac\",c\n\u00a3 7,d\n", ReadOptions{},
			[]NumberText{{"x", "$1,200"}}, "currency signs before or after, grouped, signed, spaced"},
		{"percent", "x,y\n12%,a\n-0.5 %,b\n100,c\n", ReadOptions{},
			[]NumberText{{"x", "-0.5 %"}}, "percent signs, plain numbers among them"},
		{"signs on labels", "x,y\n$abc,a\n50%-75%,b\n", ReadOptions{},
			nil, "a sign on text that is no number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadCSV(strings.NewReader(tt.csv), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := NumberTexts(f, tt.opts); !slices.Equal(got, tt.want) {
				t.Errorf("NumberTexts() = %v; want %v (%s)", got, tt.want, tt.reason)
			}
		})
	}
	msg := NumberText{Column: "amount", Example: "1,000"}.String()
	for _, want := range []string{`"amount"`, `"1,000"`, "categorical"} {
		if !strings.Contains(msg, want) {
			t.Errorf("NumberText.String() = %q; want it to contain %s", msg, want)
		}
	}
}

// TestNotNumericHint forces a column numeric (as a saved model's schema
// does at predict time): a grouped number is still an error, and the
// error says why the value is not read.
func TestNotNumericHint(t *testing.T) {
	opts := ReadOptions{Schema: map[string]Kind{"x": Numeric}}
	for _, tt := range []struct {
		cell string
		hint bool
	}{{`"1,000"`, true}, {`"1,5"`, true}, {"$12", true}, {"40%", true}, {"1.5.5", false}, {"abc", false}, {"$", false}} {
		_, err := ReadCSV(strings.NewReader("x\n"+tt.cell+"\n"), opts)
		if !errors.Is(err, ErrNotNumeric) {
			t.Fatalf("ReadCSV(%s) = %v; want ErrNotNumeric", tt.cell, err)
		}
		if got := strings.Contains(err.Error(), "digit grouping"); got != tt.hint {
			t.Errorf("ReadCSV(%s) = %q; hint given %v, want %v", tt.cell, err, got, tt.hint)
		}
	}
}

// TestMixedNumberColumns: a column of numbers with a placeholder or two
// for unknown amounts reads as categorical, and is named with the
// placeholders; genuine labels and mostly-text columns are not.
func TestMixedNumberColumns(t *testing.T) {
	rows := func(head string, n int, cell func(i int) string) string {
		var b strings.Builder
		b.WriteString(head + "\n")
		for i := range n {
			b.WriteString(cell(i) + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name string
		csv  string
		opts ReadOptions
		want []MixedNumbers
	}{
		{"one placeholder", rows("x,y", 20, func(i int) string {
			if i%10 == 3 {
				return "x,a"
			}
			return fmt.Sprintf("%d.5,a", i)
		}), ReadOptions{}, []MixedNumbers{{Column: "x", Numbers: 18, Rows: 20, Texts: []string{"x"}}}},
		{"two placeholders and missing", rows("x", 30, func(i int) string {
			switch i {
			case 0:
				return "-"
			case 1:
				return "?"
			case 2:
				return "NA"
			}
			return fmt.Sprint(i)
		}), ReadOptions{}, []MixedNumbers{{Column: "x", Numbers: 27, Rows: 29, Texts: []string{"-", "?"}}}},
		{"texts on too many rows", rows("x", 20, func(i int) string {
			if i < 6 {
				return fmt.Sprintf("t%d", i%3)
			}
			return fmt.Sprint(i)
		}), ReadOptions{}, nil},
		{"four kinds of text", "x\na\nb\nc\nd\n" + strings.Repeat("1\n", 100), ReadOptions{}, nil},
		{"labels", "x\nlow\nhigh\nlow\n", ReadOptions{}, nil},
		{"forced categorical", "x\nx\n" + strings.Repeat("1\n", 20), ReadOptions{Schema: map[string]Kind{"x": Categorical}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadCSV(strings.NewReader(tt.csv), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := MixedNumberColumns(f, tt.opts)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("MixedNumberColumns() = %+v; want %+v", got, tt.want)
			}
		})
	}
	msg := MixedNumbers{Column: "a", Numbers: 51, Rows: 60, Texts: []string{"x"}}.String()
	if want := `column "a" was read as categorical: 51 of its 60 values are numbers but "x" is not; if that means missing, add it to missing_values for the column (missing_values: {"a": ["x"]})`; !strings.HasPrefix(msg, want) {
		t.Errorf("String() = %q; want it to start %q", msg, want)
	}
}
