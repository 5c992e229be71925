package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
)

// explainRowsFiles writes the rows of explainRowsData to a CSV file and
// a Parquet copy.
func explainRowsFiles(t *testing.T) (*Predictor, []string) {
	t.Helper()
	p, big := explainRowsData(t)
	dir := t.TempDir()
	csvPath, pqPath := filepath.Join(dir, "big.csv"), filepath.Join(dir, "big.parquet")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := frame.WriteCSV(f, big); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := frame.WriteParquet(pqPath, big); err != nil {
		t.Fatal(err)
	}
	return p, []string{csvPath, pqPath}
}

// TestExplainScannedMatchesExplain: explaining a file scanned a block at
// a time gives what Explain and LIME give on the file read whole: the
// report, the sampled or chosen rows, their values bit for bit, and the
// error for a row out of range.
func TestExplainScannedMatchesExplain(t *testing.T) {
	p, paths := explainRowsFiles(t)
	ctx := context.Background()
	for _, path := range paths {
		t.Run(filepath.Ext(path), func(t *testing.T) {
			x, r, err := p.ReadInput(path, frame.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := p.ScanInput(ctx, OpenFileBlocks(path), StreamOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Rows != x.NumRows() || !reflect.DeepEqual(s.Report, r) {
				t.Fatalf("scan: %d rows, report %+v; ReadInput: %d rows, report %+v", s.Rows, s.Report, x.NumRows(), r)
			}
			n := x.NumRows()
			for _, o := range []ExplainOptions{
				{Options: explain.Options{Seed: 3, Workers: 1}, MaxRows: 300},
				{Options: explain.Options{Seed: 1, Workers: 1}, Rows: []int{n - 1, 0, 5*predictBlockRows + 1, 0}},
			} {
				if !ExplainStreams(p, o) {
					t.Fatal("a single model keeping training rows is not explained from a scan")
				}
				want, err := Explain(ctx, p, x, o)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ExplainScanned(ctx, p, s, o)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.RowIndex, want.RowIndex) || !sameBits(got.Values, want.Values) || !sameBits(got.X, want.X) ||
					!sameBits(got.BaseValue, want.BaseValue) || !slices.Equal(got.Notes, want.Notes) {
					t.Errorf("ExplainScanned(rows %v, max %d) differs from Explain: rows %v..., want %v...", o.Rows, o.MaxRows, got.RowIndex[:3], want.RowIndex[:3])
				}
			}
			o := ExplainOptions{Options: explain.Options{Seed: 2, Workers: 1}, Rows: []int{4*predictBlockRows + 9}}
			wantLIME, wantRows, err := LIME(ctx, p, x, o)
			if err != nil {
				t.Fatal(err)
			}
			gotLIME, gotRows, err := LIMEScanned(ctx, p, s, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gotRows, wantRows) || !reflect.DeepEqual(gotLIME, wantLIME) {
				t.Errorf("LIMEScanned differs from LIME on row %d", o.Rows[0])
			}
			o.Rows = []int{n}
			_, want := Explain(ctx, p, x, o)
			_, got := ExplainScanned(ctx, p, s, o)
			var re *explain.RowsError
			if !errors.As(got, &re) || got.Error() != want.Error() {
				t.Errorf("ExplainScanned of row %d of %d: %v; Explain: %v", n, n, got, want)
			}
		})
	}
}

// TestExplainScannedHoldsABlock: while ExplainScanned reads its input
// again, the rows it has read are not kept: the live heap at the last
// block is under half of what the data's values take in a frame.
func TestExplainScannedHoldsABlock(t *testing.T) {
	p, paths := explainRowsFiles(t)
	ctx := context.Background()
	x, _, err := p.ReadInput(paths[0], frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole := frameBytes(x)
	x = nil
	s, err := p.ScanInput(ctx, OpenFileBlocks(paths[0]), StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var live int64
	blocks := 0
	open := s.open
	s.open = func(o frame.ReadOptions) (Blocks, error) {
		b, err := open(o)
		if err != nil {
			return nil, err
		}
		return &heapProbe{Blocks: b, at: s.Rows / predictBlockRows, blocks: &blocks, live: &live, base: before.HeapAlloc}, nil
	}
	o := ExplainOptions{Options: explain.Options{Seed: 3, Workers: 1}, MaxRows: 300}
	if _, err := ExplainScanned(ctx, p, s, o); err != nil {
		t.Fatal(err)
	}
	if blocks <= s.Rows/predictBlockRows {
		t.Fatalf("read %d blocks of %d rows; want more than %d", blocks, s.Rows, s.Rows/predictBlockRows)
	}
	if live > int64(whole/2) {
		t.Errorf("at the last block %d bytes more were live; the data's values take %d", live, whole)
	}
}

// heapProbe measures the live heap (above base) when block at is read.
type heapProbe struct {
	Blocks
	at     int
	blocks *int
	live   *int64
	base   uint64
}

func (h *heapProbe) Next(maxRows int) (*frame.Frame, error) {
	x, err := h.Blocks.Next(maxRows)
	if err == nil {
		if *h.blocks == h.at {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			*h.live = int64(m.HeapAlloc) - int64(h.base)
		}
		*h.blocks++
	}
	return x, err
}

// frameBytes is what x's values take: 8 bytes a number, 4 a code.
func frameBytes(x *frame.Frame) uint64 {
	var n uint64
	for _, c := range x.Columns() {
		n += uint64(len(c.Num))*8 + uint64(len(c.Codes))*4
	}
	return n
}
