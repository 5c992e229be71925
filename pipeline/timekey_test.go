package pipeline

import (
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// TestTimeKeyTextColumn checks the error for a time column the reader
// kept as text: it said only "is categorical; want a date or a number",
// so a column of dates with one bad cell left the user searching for it.
func TestTimeKeyTextColumn(t *testing.T) {
	cases := []struct {
		labels []string
		want   string
	}{
		{[]string{"2020-01-01", "2020-01-02", "soon", "2020-01-04"}, `row 3 "soon" is not a date (3 of 4 values are)`},
		{[]string{"", "01/02/2020", "01/03/2020"}, `is read as text (row 2 is "01/02/2020")`},
		// ISO and US dates alternating: it quoted row 1, a good date.
		{[]string{"2020-01-01", "01/02/2020", "2020-01-03", "01/04/2020"}, `row 2 "01/02/2020" is not a date (2 of 4 values are)`},
		// Every value a date (a Parquet string column): this indexed row -1.
		{[]string{"2020-01-01", "", "2020-02-01"}, `holds dates as text (a string column of a Parquet file, or a schema entry making it categorical); read it as dates with --set 'schema={t: datetime}'`},
	}
	for _, tc := range cases {
		f, err := frame.New(frame.NewCategoricalFromStrings("t", tc.labels))
		if err != nil {
			t.Fatal(err)
		}
		_, err = timeKey(f, "t")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("timeKey(%q) = %v; want an error containing %q", tc.labels, err, tc.want)
		}
	}
}
