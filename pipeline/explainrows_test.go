package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
)

// explainRowsData is a single tree model of the credit data and its rows
// repeated to six prediction blocks: enough rows that the design matrix
// of all of them dwarfs the one block explaining a sample encodes at a
// time.
func explainRowsData(t *testing.T) (*Predictor, *frame.Frame) {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"tree"}, 0, t.TempDir(), false
	_, p := trainSaved(t, cfg)
	if p.Background == "" {
		t.Fatal("the saved model keeps no training rows")
	}
	x, _, err := p.ReadInputFrom(func(o frame.ReadOptions) (*frame.Frame, error) { return frame.ReadFile(cfg.Data, o) }, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, 6*predictBlockRows+123)
	for i := range rows {
		rows[i] = i % x.NumRows()
	}
	return p, x.Take(rows)
}

// TestExplainSampleDesignsPickedRows: explaining a sample of a large
// frame against the model's training rows gives, for a seed, the rows
// explain.SampleRows draws and the values of explaining those rows of the
// whole design matrix, every time, without building that matrix: it
// allocated all of it (6 blocks of rows) before sampling 300 rows.
func TestExplainSampleDesignsPickedRows(t *testing.T) {
	p, big := explainRowsData(t)
	ctx := context.Background()
	o := ExplainOptions{Options: explain.Options{Seed: 3, Workers: 1}, MaxRows: 300}

	var got *explain.Values
	var err error
	// The explainer's own tables cost the same for any number of data
	// rows: what five more blocks of rows add is the design's share.
	small := big.Take(seq(predictBlockRows))
	base := allocated(func() { _, err = Explain(ctx, p, small, o) })
	if err != nil {
		t.Fatal(err)
	}
	grown := allocated(func() { got, err = Explain(ctx, p, big, o) })
	if err != nil {
		t.Fatal(err)
	}
	design := uint64((big.NumRows() - small.NumRows()) * len(p.Design.FeatureNames()) * 8)
	if grown > base && grown-base > design/2 {
		t.Errorf("Explain of 300 of %d rows allocated %d bytes more than of 300 of %d; their design matrices differ by %d",
			big.NumRows(), grown-base, small.NumRows(), design)
	}

	again, err := Explain(ctx, p, big, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.RowIndex, got.RowIndex) || !sameBits(again.Values, got.Values) {
		t.Errorf("a second Explain with seed %d explained rows %v...; the first %v...", o.Seed, again.RowIndex[:5], got.RowIndex[:5])
	}

	rows := explain.SampleRows(big.NumRows(), o.MaxRows, o.Seed)
	if !slices.Equal(got.RowIndex, rows) {
		t.Fatalf("explained rows %v...; SampleRows draws %v...", got.RowIndex[:5], rows[:5])
	}
	in, err := NewExplainInput(p, big)
	if err != nil {
		t.Fatal(err)
	}
	bg, err := designBackground(p, in.X.Cols)
	if err != nil {
		t.Fatal(err)
	}
	wo := o.Options
	wo.Background, wo.FeatureNames = bg, in.FeatureNames
	sub := in.X.TakeRows(rows)
	want, err := explain.Explain(ctx, in.Model, sub, wo)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(got.Values, want.Values) || !sameBits(got.X, sub.Data) || !sameBits(got.BaseValue, want.BaseValue) {
		t.Errorf("Explain of a sample differs from explaining those rows of the whole design matrix")
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestExplainSampleRefusesAnyRow: a value the design refuses fails the
// explanation of a sample even when its row is not explained, naming
// that row, as when the whole design matrix was built.
func TestExplainSampleRefusesAnyRow(t *testing.T) {
	p, big := explainRowsData(t)
	var col *frame.Column
	for _, c := range big.Columns() {
		if c.Kind == frame.Numeric && slices.Contains(p.Design.FeatureNames(), c.Name) {
			col = c
			break
		}
	}
	if col == nil {
		t.Fatal("no numeric design column")
	}
	const bad = 4*predictBlockRows + 7
	o := ExplainOptions{Options: explain.Options{Seed: 3, Workers: 1}, MaxRows: 10}
	if slices.Contains(explain.SampleRows(big.NumRows(), o.MaxRows, o.Seed), bad) {
		t.Fatalf("row %d is sampled; pick another", bad)
	}
	col.Num[bad] = math.Inf(1)
	_, err := Explain(context.Background(), p, big, o)
	if want := fmt.Sprintf("row %d:", bad); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Explain with +Inf in unexplained row %d: %v; want an error naming it", bad, err)
	}
}

// TestExplainNoRows: an explanation of no rows, from data without rows
// or an empty row list, is explain.ErrNoRows in every space and for
// LIME. An empty list used to pass on raw inputs and with LIME (values
// of no row) while the design space refused it.
func TestExplainNoRows(t *testing.T) {
	p, x := explainRowsData(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		x    *frame.Frame
		o    ExplainOptions
	}{
		{"no data rows", x.Take([]int{}), ExplainOptions{}},
		{"no data rows, raw", x.Take([]int{}), ExplainOptions{Raw: true}},
		{"empty row list", x, ExplainOptions{Rows: []int{}}},
		{"empty row list, raw", x, ExplainOptions{Rows: []int{}, Raw: true}},
	} {
		if _, err := Explain(ctx, p, tc.x, tc.o); !errors.Is(err, explain.ErrNoRows) {
			t.Errorf("%s: Explain: %v; want explain.ErrNoRows", tc.name, err)
		}
		if _, _, err := LIME(ctx, p, tc.x, tc.o); !errors.Is(err, explain.ErrNoRows) {
			t.Errorf("%s: LIME: %v; want explain.ErrNoRows", tc.name, err)
		}
	}
}
