package serve

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// splitBodies are dataframe_split bodies and near misses: odd spacing,
// escapes, non-ASCII and invalid UTF-8, extra and repeated keys, nested
// values, bad numbers and trailing data.
var splitBodies = []string{
	`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2.5e-3, null]]}}`,
	` { "dataframe_split" :{"data":[[-0,true],[1E+2,false]] ,"columns":["a","b"],"index":[0,{"k":[1]}]} } `,
	`{"dataframe_split": {"columns": ["a\"q", "é"], "data": [["\u00e9\n", "tab\t"], ["\ud83d\ude00", "x\\y"]]}}`,
	"{\"dataframe_split\": {\"columns\": [\"a\"], \"data\": [[\"\xff\xfe\"]]}}",
	`{"dataframe_split": {"columns": ["a"], "data": [[1]]}, "params": {}}`,
	`{"dataframe_split": {"columns": ["a"], "columns": ["b"], "data": [[1]]}}`,
	`{"dataframe_split": {"Columns": ["a"], "data": [[1]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[[1]]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[01]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1.]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[-]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1,]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1]],}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1]]}} x`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1]]}}{}`,
	`{"dataframe_split": {"columns": ["a", "b"], "data": [[1], [1, 2]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[NaN]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [["a` + "\x01" + `"]]}}`,
	`{"dataframe_split": {"columns": [], "data": []}}`,
	`{"dataframe_split": {"columns": ["a"], "data": []}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[], []]}}`,
	`{"dataframe_split": {"columns": ["a", "b"], "data": [[1], [2]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1, 2], [3, 4]]}}`,
	`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}`,
	`{"dataframe_split": {"data": [[1, "x"], [2, "y"], [3, "z"]], "columns": ["a", "b"]}}`,
	`{"dataframe_split": null}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[nul]]}}`,
	// Row-boundary look-alikes in strings and after the data, for the
	// split scan's candidates.
	`{"dataframe_split": {"columns": ["a", "b"], "data": [["],[", "x"], ["], [", "],\n["], ["\"],[\"", ","], ["[", "]"]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [["\\"], ["\\\"],[\\"], [2]], "index": [[1],[2],[3]]}}`,
	`{"dataframe_split": {"data": [[1], [2]], "index": [[1], [2], [3], [4], [5], [6]], "columns": ["a"]}}`,
	"{\"dataframe_split\": {\"columns\": [\"a\", \"b\"], \"data\": [\n [1, 2] ,\r\n\t[3, 4]\n,[5,6],[7 ,8 ]\n]}}",
	`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4], [5], [6, 7], [8, 9]]}}`,
	`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10, 11]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1], [2], [3], [4], [5], [6], [7], [8], [9], [x]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1], [2], [3], [4], [5], [6], [7], [8], [9] [10]]}}`,
	`{"dataframe_split": {"columns": ["a"], "data": [[1], [2], [3], [4], [5], [6], [7], [8], [9], [10]}}`,
}

// TestFastSplitMatchesJSON checks the fast decoder against the general
// one: whatever the fast one takes, the general one reads to the same
// cells or refuses with the same error.
func TestFastSplitMatchesJSON(t *testing.T) {
	for _, body := range splitBodies {
		checkFastSplit(t, []byte(body))
	}
	if _, _, ok := fastSplit([]byte(splitBodies[0])); !ok {
		t.Errorf("fastSplit does not take the plain body %s", splitBodies[0])
	}
}

func FuzzFastSplit(f *testing.F) {
	for _, b := range splitBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastSplit(t, body) })
}

func checkFastSplit(t *testing.T, body []byte) {
	t.Helper()
	columns, byCol, split, ok := fastSplitPieces(body, 1, 0)
	if split > 1 {
		t.Fatalf("%q: the serial scan used %d parts", body, split)
	}
	for pieces := 2; pieces <= 5; pieces++ {
		pc, pb, _, pok := fastSplitPieces(body, pieces, 0)
		if pok != ok || !slices.Equal(pc, columns) || !slices.EqualFunc(pb, byCol, slices.Equal) {
			t.Fatalf("%q in %d parts: %v %q %q, serially %v %q %q", body, pieces, pok, pc, pb, ok, columns, byCol)
		}
	}
	if !ok {
		return
	}
	got, err := splitTable(columns, byCol, "")
	want, werr := decodeJSON(body, "")
	switch {
	case err != nil || werr != nil:
		if err == nil || werr == nil || err.Error() != werr.Error() {
			t.Fatalf("%q: fast error %v, general error %v", body, err, werr)
		}
	case !slices.Equal(got.columns, want.columns) || !slices.EqualFunc(got.rowCells(), want.rowCells(), slices.Equal):
		t.Fatalf("%q:\nfast    %q %q\ngeneral %q %q", body, got.columns, got.rowCells(), want.columns, want.rowCells())
	}
}

// TestFastSplitParts checks that the split scan is taken where it
// should be (a plain body, large enough, or any size when told) and
// refused where a candidate row start lies in a string, reading the
// serial scan's cells either way (checkFastSplit compares them).
func TestFastSplitParts(t *testing.T) {
	rows := func(n int, cell string) string {
		var b strings.Builder
		b.WriteString(`{"dataframe_split": {"columns": ["a", "b"], "data": [`)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `[%d, %q]`, i, cell)
		}
		b.WriteString(`]}}`)
		return b.String()
	}
	large := rows(20_000, "a, [b]")
	for _, c := range []struct {
		name, body       string
		pieces, splitMin int
		split            bool
	}{
		{"large", large, 2, splitMin, true},
		{"large/4", large, 4, splitMin, true},
		{"small", rows(100, "x"), 2, splitMin, false},
		{"small/forced", rows(100, "x"), 3, 0, true},
		{"one row", rows(1, "x"), 2, 0, false},
		// Every cell looks like a row boundary: the first candidate
		// is in a string, never reached at a row start.
		{"bait", rows(100, "],["), 2, 0, false},
		{"bait spaced", rows(100, "] , ["), 2, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkFastSplit(t, []byte(c.body))
			_, byCol, split, ok := fastSplitPieces([]byte(c.body), c.pieces, c.splitMin)
			if !ok || len(byCol) != 2 {
				t.Fatalf("not read: ok %v, %d columns", ok, len(byCol))
			}
			if (split > 1) != c.split || split > c.pieces {
				t.Errorf("read in %d parts of %d, want split %v", split, c.pieces, c.split)
			}
		})
	}
}
