package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
)

// TestZoneValuesInParts: the zones of a datetime column gathered in parts
// (a part without offsets, then parts of uneven sizes, past the point
// where zoneValues compacts) are those of the whole column: each distinct
// value once, ascending, with the offset of its first row, civil times
// or instants.
func TestZoneValuesInParts(t *testing.T) {
	const n = 3*predictBlockRows + 101
	num, offs := make([]float64, n), make([]int32, n)
	for i := range n {
		// 5,000 distinct hours, each written at +01:00 and +02:00 in
		// turn, the first of each at either.
		num[i] = float64(i%5000) * 3600
		offs[i] = int32(3600 * (1 + (i/5000+i%3)%2))
	}
	first := 1000 // a part read without offsets: they are all zero
	for i := range first {
		offs[i] = 0
	}
	whole := frame.NewDatetimeOffsets("d", num, offs)
	for _, civil := range []bool{true, false} {
		want := newDatetimeZones(whole, civil)
		zv := &zoneValues{civil: civil}
		zv.add(frame.NewDatetime("d", num[:first]))
		for lo := first; lo < n; {
			hi := min(n, lo+7919+lo%13)
			zv.add(frame.NewDatetimeOffsets("d", num[lo:hi], offs[lo:hi]))
			lo = hi
		}
		got := zv.zones()
		if got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("civil %v: zones gathered in parts differ from the whole column's", civil)
		}
	}
	zv := &zoneValues{civil: true}
	zv.add(frame.NewDatetime("d", num))
	if zv.zones() != nil {
		t.Error("zones of a column without offsets; want nil")
	}
}

// TestExplainScannedZonedRaw: a model of monthly dates written at their
// Europe/Berlin offsets, explained on its raw inputs from a file scanned
// a block at a time, gets the values Explain gives on the file read
// whole: the datetime zones come from every row, read in blocks.
func TestExplainScannedZonedRaw(t *testing.T) {
	data := filepath.Join("testdata", "monthly_berlin.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.SegmentColumn = data, "y", "date", "seg"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.ForceProductionQuality = []string{"linear"}, 2, t.TempDir(), false
	_, p := trainSaved(t, cfg)
	if p.Background == "" {
		t.Fatal("the saved model keeps no training rows")
	}
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	header, rows, _ := strings.Cut(string(b), "\n")
	big := filepath.Join(t.TempDir(), "big.csv")
	copies := predictBlockRows/strings.Count(rows, "\n") + 2
	if err := os.WriteFile(big, []byte(header+"\n"+strings.Repeat(rows, copies)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	x, _, err := p.ReadInput(big, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.ScanInput(ctx, OpenFileBlocks(big), StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := x.NumRows()
	o := ExplainOptions{Raw: true, Rows: []int{n - 1, 3, predictBlockRows + 50, 143},
		Options: explain.Options{Seed: 7, Workers: 1, BackgroundSize: 5, KernelSamples: 100}}
	want, err := Explain(ctx, p, x, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ExplainScanned(ctx, p, s, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.RowIndex, want.RowIndex) || !sameBits(got.Values, want.Values) || !sameBits(got.X, want.X) || !sameBits(got.BaseValue, want.BaseValue) {
		t.Errorf("ExplainScanned of zoned dates differs from Explain: values %v..., want %v...", got.Values[:4], want.Values[:4])
	}
	// The values above hardly depend on the zones of rows not explained:
	// compare them with the whole column's directly.
	bg, err := backgroundFrame(p)
	if err != nil {
		t.Fatal(err)
	}
	both, err := frame.Concat(bg, x)
	if err != nil {
		t.Fatal(err)
	}
	_, zones, err := pickScanned(ctx, p, s, o.Rows, bg)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(p.Schema, func(f Field) bool { return f.Name == "date" })
	c, _ := both.Lookup("date")
	if wz := newDatetimeZones(c, !p.readsInstants()); j < 0 || zones[j] == nil || !reflect.DeepEqual(zones[j], wz) {
		t.Errorf("the scan's zones of the date column are not those of the training rows and all data rows")
	}
}
