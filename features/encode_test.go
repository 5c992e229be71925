package features

import (
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// TestMatrixToReusesBuffer checks that MatrixTo into a used buffer of
// garbage gives Matrix's values bit for bit, for one-hot and ordinal
// designs with and without imputation, on ames (numeric, categorical and
// missing values), and that it writes into the buffer when it is large
// enough.
func TestMatrixToReusesBuffer(t *testing.T) {
	f, err := frame.ReadFile("../testdata/ames.csv", frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	specs := []DesignSpec{
		{},
		{OneHot: true, Scale: true},
		{Missing: true, CategoricalMissing: MissingAsNaN},
		{OneHot: true, Missing: true},
	}
	for _, spec := range specs {
		d := mustFit(t, f, spec)
		want := mustMatrix(t, d, f)
		buf := make([]float64, len(want.Data)+7)
		for i := range buf {
			buf[i] = 12345.5
		}
		got, err := d.MatrixTo(buf, f)
		if err != nil {
			t.Fatalf("MatrixTo(%+v): %v", spec, err)
		}
		if &got.Data[0] != &buf[0] {
			t.Errorf("MatrixTo(%+v) did not use a buffer of capacity %d for %d values", spec, cap(buf), len(want.Data))
		}
		if !identical(got, want) {
			t.Errorf("MatrixTo(%+v) into a used buffer differs from Matrix", spec)
		}
		small, err := d.MatrixTo(make([]float64, 3), f)
		if err != nil || !identical(small, want) {
			t.Errorf("MatrixTo(%+v) with a small buffer: err %v, equal %v", spec, err, err == nil && identical(small, want))
		}
	}
}

// TestRowsTo: a block of rows encoded by RowsTo, into a used buffer or a
// new one, equals those rows of the whole matrix bit for bit, for blocks
// that straddle the encoder's internal blocks; errors name the frame's
// row, not the block's; a range outside the frame is an error.
func TestRowsTo(t *testing.T) {
	f, err := frame.ReadFile("../testdata/ames.csv", frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []DesignSpec{{}, {OneHot: true, Scale: true}, {Missing: true, CategoricalMissing: MissingAsNaN}} {
		d := mustFit(t, f, spec)
		want := mustMatrix(t, d, f)
		c := want.Cols
		for _, r := range [][2]int{{0, 0}, {0, 1}, {5, 1029}, {1000, 2100}, {f.NumRows() - 3, f.NumRows()}, {0, f.NumRows()}} {
			buf := make([]float64, (r[1]-r[0])*c+3)
			for i := range buf {
				buf[i] = 12345.5
			}
			for _, b := range [][]float64{nil, buf} {
				got, err := d.RowsTo(b, f, r[0], r[1])
				if err != nil {
					t.Fatalf("RowsTo(%+v, %v): %v", spec, r, err)
				}
				block := &model.Matrix{Rows: r[1] - r[0], Cols: c, Data: want.Data[r[0]*c : r[1]*c]}
				if !identical(got, block) {
					t.Errorf("RowsTo(%+v, %v) differs from those rows of Matrix", spec, r)
				}
			}
		}
		for _, r := range [][2]int{{-1, 3}, {3, 2}, {0, f.NumRows() + 1}} {
			if _, err := d.RowsTo(nil, f, r[0], r[1]); err == nil {
				t.Errorf("RowsTo(%v) of %d rows: no error", r, f.NumRows())
			}
		}
	}
	d := mustFit(t, frame.MustNew(frame.NewNumeric("a", []float64{1, 2})), DesignSpec{})
	x := frame.MustNew(frame.NewNumeric("a", []float64{1, 2, 3, 4, math.Inf(1), 6}))
	if _, err := d.RowsTo(nil, x, 3, 6); err == nil || !strings.Contains(err.Error(), "row 4:") {
		t.Errorf("RowsTo over an infinite value in row 4: %v; want the frame's row named", err)
	}
}
