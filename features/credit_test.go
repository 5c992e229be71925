package features

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// readCSV parses a CSV into a frame: a column whose non-empty cells all
// parse as floats is numeric, any other is categorical; "" is missing (as
// pandas reads it).
func readCSV(t *testing.T, path string) *frame.Frame {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	records, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	header, rows := records[0], records[1:]
	cols := make([]*frame.Column, len(header))
	for j, name := range header {
		cells := make([]string, len(rows))
		nums := make([]float64, len(rows))
		numeric := true
		for i, r := range rows {
			cells[i] = r[j]
			if r[j] == "" {
				nums[i] = nan
				continue
			}
			if nums[i], err = strconv.ParseFloat(r[j], 64); err != nil {
				numeric = false
			}
		}
		if numeric {
			cols[j] = frame.NewNumeric(name, nums)
		} else {
			cols[j] = frame.NewCategoricalFromStrings(name, cells)
		}
	}
	return frame.MustNew(cols...)
}

// creditGolden is testdata/credit_golden.json, written by
// testdata/credit_golden.py with scikit-learn 1.2.1 (the peers' versions).
type creditGolden struct {
	TestRows []int `json:"test_rows"`
	Linear   struct {
		Names []string    `json:"names"`
		X     [][]float64 `json:"x"`
	} `json:"linear"`
	Tree struct {
		Names []string    `json:"names"`
		X     [][]float64 `json:"x"`
	} `json:"tree"`
}

// TestCreditDataMatchesPeers fits on the peers' TRAIN split of
// credit_data and compares feature names and transformed TEST rows with
// scikit-learn's ColumnTransformer from shared/anchors/baselines.py.
func TestCreditDataMatchesPeers(t *testing.T) {
	all := readCSV(t, "../testdata/credit_data.csv").Drop("Status")
	raw, err := os.ReadFile("testdata/credit_data.test_rows.txt")
	if err != nil {
		t.Fatal(err)
	}
	isTest := make([]bool, all.NumRows())
	for _, s := range strings.Fields(string(raw)) {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(isTest) {
			t.Fatalf("bad test row %q", s)
		}
		isTest[i] = true
	}
	var trainRows []int
	for i, te := range isTest {
		if !te {
			trainRows = append(trainRows, i)
		}
	}
	train := all.Take(trainRows)
	if got, want := train.NumRows(), 3563; got != want { // baselines.md: train 3563
		t.Fatalf("train rows = %d; want %d", got, want)
	}

	var golden creditGolden
	data, err := os.ReadFile("testdata/credit_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	test := all.Take(golden.TestRows)

	// The peers' one-hot width: 9 numeric + per categorical column its
	// distinct training labels, plus one for __missing__ if a training row
	// is missing. Counted here independently of the design.
	want := 0
	for _, col := range train.Columns() {
		if col.Kind != frame.Categorical {
			want++
			continue
		}
		labels := map[string]bool{}
		for i := range col.Codes {
			labels[col.Label(i)] = true // "" stands for missing
		}
		want += len(labels)
	}
	if want != len(golden.Linear.Names) {
		t.Fatalf("independent count %d disagrees with the golden's %d features", want, len(golden.Linear.Names))
	}

	tests := []struct {
		name  string
		spec  DesignSpec
		names []string
		x     [][]float64
	}{
		{"linear", DesignSpec{OneHot: true, Scale: true}, golden.Linear.Names, golden.Linear.X},
		{"tree", DesignSpec{}, golden.Tree.Names, golden.Tree.X},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustFit(t, train, tt.spec)
			got := d.FeatureNames()
			if len(got) != len(tt.names) {
				t.Fatalf("%d features %q; want %d %q", len(got), got, len(tt.names), tt.names)
			}
			for j := range got {
				if got[j] != tt.names[j] {
					t.Errorf("feature %d = %q; want %q", j, got[j], tt.names[j])
				}
			}
			m := mustMatrix(t, d, test)
			for i, wantRow := range tt.x {
				// sklearn sums in a different order; 1e-9 is far below
				// anything a model could notice.
				if !sameValues(m.Row(i), wantRow, 1e-9) {
					t.Errorf("test row %d (CSV row %d) = %v; want %v", i, golden.TestRows[i], m.Row(i), wantRow)
				}
			}
		})
	}
}
