package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// wholeFile is what predict did before streaming: ReadInput, then
// PredictContext. err is the first error of the two (the report's Err
// included).
func wholeFile(p *Predictor, path string, strict bool) (*Prediction, *InputReport, error) {
	x, r, err := p.ReadInput(path, frame.ReadOptions{})
	if err != nil {
		return nil, nil, err
	}
	if err := r.Err(strict); err != nil {
		return nil, r, err
	}
	pred, err := p.PredictContext(context.Background(), x)
	return pred, r, err
}

// streamed runs PredictStream on path in blocks of rows, joining the
// blocks' predictions.
func streamed(p *Predictor, path string, rows int, strict bool) (*Prediction, *StreamResult, error) {
	all := &Prediction{}
	res, err := p.PredictStream(context.Background(), OpenFileBlocks(path), func(b *Prediction) error {
		all.Values = append(all.Values, b.Values...)
		all.Probs = append(all.Probs, b.Probs...)
		all.Labels = append(all.Labels, b.Labels...)
		return nil
	}, StreamOptions{BlockRows: rows, Strict: strict})
	return all, res, err
}

// sameBits reports whether a and b hold the same float64 bits.
func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// withParquet returns the CSV file at path and, when frame.ReadFile reads
// it, a Parquet copy of what it reads.
func withParquet(t *testing.T, path string) []string {
	t.Helper()
	f, err := frame.ReadFile(path, frame.ReadOptions{})
	if err != nil {
		return []string{path}
	}
	pq := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(path), ".csv")+".parquet")
	if err := frame.WriteParquet(pq, f); err != nil {
		t.Fatal(err)
	}
	return []string{path, pq}
}

// streamBlockSizes are the block sizes every stream test reads in: one
// row, a size that leaves a ragged last block, and bigger ones.
var streamBlockSizes = []int{1, 7, 1000, 0}

// TestPredictStreamMatchesWholeFile trains regression (txhousing: dates,
// a categorical, missing values), binary (credit_data: categoricals with
// missing values) and multiclass (penguins) models and checks that
// PredictStream gives, for every block size, the bits and the report of
// reading the file whole and predicting it.
func TestPredictStreamMatchesWholeFile(t *testing.T) {
	tests := []struct{ data, target, model string }{
		{filepath.Join("..", "testdata", "txhousing.csv"), "median", "gbdt"},
		{filepath.Join("..", "testdata", "credit_data.csv"), "Status", "logistic"},
		{filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), "species", "forest"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = tt.data, tt.target, []string{tt.model}, 0, t.TempDir()
			cfg.ModelParams = map[string]map[string]any{"forest": {"n_estimators": 20}}
			_, p := trainSaved(t, cfg)
			for _, path := range withParquet(t, tt.data) {
				want, wantReport, err := wholeFile(p, path, false)
				if err != nil {
					t.Fatal(err)
				}
				for _, size := range streamBlockSizes {
					got, res, err := streamed(p, path, size, false)
					if err != nil {
						t.Fatalf("%s in blocks of %d: %v", path, size, err)
					}
					if !sameBits(got.Values, want.Values) || !sameBits(got.Probs, want.Probs) || !slices.Equal(got.Labels, want.Labels) {
						t.Errorf("%s in blocks of %d: predictions differ from the whole file's", path, size)
					}
					if res.Rows != len(want.Labels)+len(want.Values)*btoi(want.Labels == nil) {
						t.Errorf("%s in blocks of %d: Rows = %d", path, size, res.Rows)
					}
					sameReport(t, size, res.Report, wantReport)
				}
			}
		})
	}
}

func sameReport(t *testing.T, size int, got, want *InputReport) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("blocks of %d: report %s; whole file %s", size, g, w)
	}
}

// TestPredictStreamReportsAsWholeFile feeds a credit_data model altered
// copies of its data, with the problems in rows far apart (so in
// different blocks), and checks that PredictStream ends with
// ReadInput's report and the same error, naming the same file rows, for
// every block size: the whole file's unseen-category counts, every
// mistyped column with its first bad value and the kind the whole column
// reads as, and the reader's error for a malformed file.
func TestPredictStreamReportsAsWholeFile(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"gbdt"}, 0, t.TempDir()
	_, p := trainSaved(t, cfg)
	rows := readRecords(t, data)
	unseenFar := chain(setCell("Home", 3, "castle"), setCell("Home", 2000, "castle"), setCell("Home", 4000, "boat"), setCell("Job", 4400, "pirate"))
	tests := []struct {
		name   string
		edit   func(header []string, rows [][]string) ([]string, [][]string)
		strict bool
	}{
		{"unseen in many blocks", unseenFar, false},
		{"unseen, strict", unseenFar, true},
		{"extra column, strict", addColumn("note", "x"), true},
		{"missing column", chain(dropColumns("Income"), unseenFar), false},
		{"text in two numbers, far apart", chain(setCell("Age", 3000, "old"), setCell("Debt", 10, "lots"), unseenFar), false},
		{"text in a number in the last row", setCell("Amount", 4453, "much"), false},
		{"datetime-looking text in a number", setCell("Price", 2500, "2020-01-01"), false},
		{"infinite number in a model column", setCell("Price", 1500, "1e999"), false},
		{"infinite number in an extra column", chain(addColumn("note", "1"), setCell("note", 4000, "1e999")), false},
		{"malformed row late", func(h []string, r [][]string) ([]string, [][]string) {
			r[3500] = r[3500][:3]
			return h, r
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, body := tt.edit(slices.Clone(rows[0]), cloneRows(rows[1:]))
			for _, path := range withParquet(t, writeRecords(t, header, body)) {
				want, wantReport, wantErr := wholeFile(p, path, tt.strict)
				for _, size := range streamBlockSizes {
					got, res, err := streamed(p, path, size, tt.strict)
					if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
						t.Fatalf("%s in blocks of %d: error %v; whole file %v", path, size, err, wantErr)
					}
					if (res == nil) != (wantReport == nil) {
						t.Fatalf("%s in blocks of %d: result %+v; whole file's report %+v", path, size, res, wantReport)
					}
					if res != nil {
						sameReport(t, size, res.Report, wantReport)
					}
					if wantErr == nil && (!sameBits(got.Values, want.Values) || !slices.Equal(got.Labels, want.Labels)) {
						t.Errorf("%s in blocks of %d: predictions differ from the whole file's", path, size)
					}
				}
			}
		})
	}
}

// TestPredictStreamStopsOnCancel: an ended context stops the stream
// before the next block, and its error is returned as it is.
func TestPredictStreamStopsOnCancel(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"logistic"}, 0, t.TempDir()
	_, p := trainSaved(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	open := OpenFileBlocks(data)
	blocks := 0
	_, err := p.PredictStream(ctx, open, func(*Prediction) error {
		if blocks++; blocks == 2 {
			cancel()
		}
		return nil
	}, StreamOptions{BlockRows: 100})
	if !errors.Is(err, context.Canceled) || blocks != 2 {
		t.Errorf("PredictStream cancelled after block 2: %d blocks emitted, error %v; want 2 and context.Canceled", blocks, err)
	}
}

// TestPredictStreamOverflowNamesFileRow: an input so large that its
// standardised feature overflows (as in TestPredictOverflowingInput) is a
// NonFiniteError naming the row of the file, not of its block.
func TestPredictStreamOverflowNamesFileRow(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,z,y\n")
	for i := range 120 {
		x := float64(i%40) / 40
		fmt.Fprintf(&b, "%g,%d,%g\n", x, i%7, 3*x+float64(i%7))
	}
	data := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "y", []string{"ols"}, 0, t.TempDir()
	cfg.ForceProductionQuality = false
	_, p := trainSaved(t, cfg)
	b.Reset()
	b.WriteString("x,z\n")
	for i := range 500 {
		x := fmt.Sprint(float64(i%40) / 40)
		if i == 300 || i == 420 {
			x = "1e308"
		}
		fmt.Fprintf(&b, "%s,%d\n", x, i%7)
	}
	in := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range withParquet(t, in) {
		_, _, want := wholeFile(p, path, false)
		var nf *NonFiniteError
		if !errors.As(want, &nf) || nf.Row != 300 {
			t.Fatalf("whole %s: %v; want a NonFiniteError at row 300 (0-based)", path, want)
		}
		for _, size := range streamBlockSizes {
			if _, _, err := streamed(p, path, size, false); err == nil || err.Error() != want.Error() {
				t.Errorf("%s in blocks of %d: error %v; want %v", path, size, err, want)
			}
		}
	}
}
