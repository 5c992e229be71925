package serve

import (
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
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
	`{"dataframe_split": {"columns": ["a", "b", "c"], "data": [["x\r\ny", "NA", 1], ["x\r\r\ny", "", null], [null, "No_Garage", 2.5]]}}`,
	`{"dataframe_split": {"columns": ["a", "b"], "data": [["u", 1], ["u", 1e999], ["v", "2"]]}}`,
}

// TestFastSplitMatchesJSON checks the fast decoder against the general
// one: whatever the fast one takes, the general one reads to the same
// cells or refuses with the same error.
func TestFastSplitMatchesJSON(t *testing.T) {
	for _, body := range splitBodies {
		checkFastSplit(t, []byte(body))
	}
	if _, _, ok := fastSplit([]byte(splitBodies[0]), nil); !ok {
		t.Errorf("fastSplit does not take the plain body %s", splitBodies[0])
	}
}

func FuzzFastSplit(f *testing.F) {
	for _, b := range splitBodies {
		f.Add([]byte(b))
	}
	var pool columnPool
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastSplit(t, body)
		checkPooledSplit(t, body, &pool)
	})
}

// checkPooledSplit decodes body into columns from pool, which earlier
// bodies left, as the server does, and wants what a fresh decode gives:
// the same cells or the same error.
func checkPooledSplit(t *testing.T, body []byte, pool *columnPool) {
	t.Helper()
	got, err := decodeMLflow(body, "application/json", "", pool.get())
	want, werr := decodeMLflow(body, "application/json", "", nil)
	switch {
	case err != nil || werr != nil:
		if err == nil || werr == nil || err.Error() != werr.Error() {
			t.Fatalf("%q: pooled decode error %v, fresh %v", body, err, werr)
		}
		return
	case !slices.Equal(got.columns, want.columns) || !slices.EqualFunc(got.rowCells(), want.rowCells(), slices.Equal):
		t.Fatalf("%q:\npooled %q %q\nfresh  %q %q", body, got.columns, got.rowCells(), want.columns, want.rowCells())
	}
	pool.put(got)
}

func checkFastSplit(t *testing.T, body []byte) {
	t.Helper()
	columns, byCol, ok := fastSplit(body, nil)
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
	default:
		checkSameFrame(t, body, got, want)
	}
}

// checkSameFrame checks that the fast decoder's table (read in place,
// frame.ReadTextColumns) and the general one's (frame.ReadRows) read to
// the same frame or the same error, with kinds inferred and pinned.
func checkSameFrame(t *testing.T, body []byte, fast, general *table) {
	t.Helper()
	opts := []frame.ReadOptions{{}, {Missing: []string{"x", "NA"}}}
	if inferred, err := general.read(frame.ReadOptions{}); err == nil {
		opts = append(opts, frame.ReadOptions{Schema: inferred.KindMap()}) // as a predictor reads
	}
	for _, o := range opts {
		w, werr := general.read(o)
		g, err := fast.read(o)
		switch {
		case (err == nil) != (werr == nil):
			t.Fatalf("%q: fast table read error %v, general %v", body, err, werr)
		case err != nil:
			if strings.TrimPrefix(err.Error(), "frame: read columns: ") != strings.TrimPrefix(werr.Error(), "frame: read rows: ") {
				t.Fatalf("%q: fast table read error %v, general %v", body, err, werr)
			}
		case g.Hash() != w.Hash():
			t.Fatalf("%q: the fast and general tables read different frames", body)
		}
	}
}

// TestFastSplitReuse decodes bodies one after the other into columns
// recycled through a columnPool, as the server does: each must decode to
// exactly the cells a fresh decode gives, whatever the earlier body held
// (more or fewer columns, rows and bytes per cell).
func TestFastSplitReuse(t *testing.T) {
	bodies := []string{
		`{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, "long text here", null], [2, "x", true], [3, "y", 4.5]]}}`,
		`{"dataframe_split": {"columns": ["a"], "data": [[7]]}}`,
		`{"dataframe_split": {"columns": ["a", "b"], "data": [["p", "q"], ["r", "s"], ["t", "u"], ["v", "w"]]}}`,
		`{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [["", "", "", ""]]}}`,
		splitBodies[0],
	}
	var pool columnPool
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 3, 1, 0}} {
		for _, i := range order {
			body := []byte(bodies[i])
			got, err := decodeMLflow(body, "application/json", "", pool.get())
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			want, err := decodeMLflow(body, "application/json", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.columns, want.columns) || !slices.EqualFunc(got.rowCells(), want.rowCells(), slices.Equal) {
				t.Fatalf("%s after reuse:\n got  %q %q\n want %q %q", body, got.columns, got.rowCells(), want.columns, want.rowCells())
			}
			pool.put(got)
			if got.byCol != nil {
				t.Fatal("put left the table its columns")
			}
		}
	}
}

// TestFastSplitDeepNesting: a skipped value nested past maxSkipDepth is
// left to the general decoder; skip used to recurse once per level, and
// a 10 MB body of brackets overflowed the stack and killed the server.
func TestFastSplitDeepNesting(t *testing.T) {
	for _, depth := range []int{maxSkipDepth, maxSkipDepth + 2, 20000} {
		body := `{"dataframe_split": {"columns": ["a"], "data": [[1]], "x": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`
		_, _, ok := fastSplit([]byte(body), nil)
		if want := depth <= maxSkipDepth; ok != want {
			t.Errorf("depth %d: fast path took it = %v; want %v", depth, ok, want)
		}
	}
}
