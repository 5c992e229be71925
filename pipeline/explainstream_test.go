package pipeline

import (
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
)

// explainRowsFiles writes the rows of explainRowsData to a CSV file and
// a Parquet copy. Row 0, which the explanations pick, has a Home label
// training never saw, and a row they do not pick (in the fifth block)
// another, which sorts first: on raw inputs, the code of row 0's label
// follows the training rows' and that one.
func explainRowsFiles(t *testing.T) (*Predictor, []string) {
	t.Helper()
	p, big := explainRowsData(t)
	home, _ := big.Lookup("Home")
	home.Codes[0], home.Codes[4*predictBlockRows+77] = int32(len(home.Levels)), int32(len(home.Levels)+1)
	home.Levels = append(slices.Clone(home.Levels), "Zzz", "Aaa")
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

// explainPredictors are the kinds of predictor ExplainScanned explains,
// each keeping training rows: the single tree model of explainRowsFiles
// (also explained on its raw inputs), an ensemble explained exactly from
// its members (tree and forest), one explained with interventional SHAP
// (tree and logistic, whose log-odds the combination is not linear in)
// and a routed predictor (a tree per Home segment).
func explainPredictors(t *testing.T, single *Predictor) map[string]*Predictor {
	t.Helper()
	ps := map[string]*Predictor{"single": single}
	data := filepath.Join("..", "testdata", "credit_data.csv")
	for name, models := range map[string][]string{"ensemble exact": {"tree", "forest"}, "ensemble interventional": {"tree", "logistic"}} {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", models, 2, t.TempDir()
		cfg.ModelParams = map[string]map[string]any{"forest": {"n_estimators": 5}, "tree": {"max_depth": 4}}
		cfg.EnableAdvancedEnsemble, cfg.EnsembleTopK = true, 2
		pr, lb, fitted := ensembleRun(t, cfg)
		_, preds, _ := buildEnsembles(context.Background(), cfg, pr, lb, fitted)
		e := preds["ensemble:voting"]
		if e == nil {
			t.Fatalf("%s: no voting ensemble among %v", name, slices.Collect(maps.Keys(preds)))
		}
		bg, err := trainingBackground(pr.x, pr.train, e.Schema, cfg.Seed)
		if err != nil {
			t.Fatal(err)
		}
		e.Background = bg
		ps[name] = e
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{"tree"}, 0, t.TempDir()
	cfg.SegmentBy, cfg.MinSegmentRows, cfg.ForceProductionQuality = "Home", 300, false
	_, routed := trainSaved(t, cfg)
	if routed.Routes == nil || routed.Background == "" {
		t.Fatal("the segmented model has no routes or keeps no training rows")
	}
	ps["routed"] = routed
	return ps
}

// TestExplainScannedMatchesExplain: explaining a file scanned a block at
// a time gives what Explain and LIME give on the file read whole: the
// report, the sampled or chosen rows, their values bit for bit (on raw
// inputs too, whose category codes are the whole file's), and the error
// for a row out of range; for a single model, ensembles explained exactly
// and with interventional SHAP, a routed predictor and --raw (those two
// with KernelSHAP).
func TestExplainScannedMatchesExplain(t *testing.T) {
	single, paths := explainRowsFiles(t)
	ctx := context.Background()
	ps := explainPredictors(t, single)
	for _, name := range []string{"single", "single raw", "ensemble exact", "ensemble interventional", "routed"} {
		p, raw := ps[name], name == "single raw"
		if raw {
			p = single
		}
		for _, path := range paths {
			t.Run(name+filepath.Ext(path), func(t *testing.T) {
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
				checkScannedMatches(t, p, x, s, raw, raw || name == "routed")
			})
		}
	}
}

// checkScannedMatches checks that ExplainScanned and LIMEScanned of s
// give what Explain and LIME give of x, the same data read whole, with
// KernelSHAP when kernel. KernelSHAP (raw inputs, or an ensemble without
// exact values) explains a few rows with few samples: it costs seconds a
// row.
func checkScannedMatches(t *testing.T, p *Predictor, x *frame.Frame, s *ScannedInput, raw, kernel bool) {
	t.Helper()
	ctx := context.Background()
	n := x.NumRows()
	opts := func(seed uint64) explain.Options {
		return explain.Options{Seed: seed, Workers: 1, KernelSamples: 64, BackgroundSize: 8}
	}
	maxRows := 300
	if raw || len(p.Members) > 0 || p.Routes != nil {
		maxRows = 5
	}
	for _, o := range []ExplainOptions{
		{Options: opts(3), MaxRows: maxRows, Raw: raw},
		{Options: opts(1), Rows: []int{n - 1, 0, 5*predictBlockRows + 1, 0}, Raw: raw},
	} {
		if !ExplainStreams(p, o) {
			t.Fatal("a model keeping training rows is not explained from a scan")
		}
		want, err := Explain(ctx, p, x, o)
		if err != nil {
			t.Fatal(err)
		}
		if (want.Method == explain.MethodKernel) != kernel {
			t.Fatalf("explained with %s; want KernelSHAP %v", want.Method, kernel)
		}
		got, err := ExplainScanned(ctx, p, s, o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.RowIndex, want.RowIndex) || !sameBits(got.Values, want.Values) || !sameBits(got.X, want.X) ||
			!sameBits(got.BaseValue, want.BaseValue) || !slices.Equal(got.Notes, want.Notes) || got.Method != want.Method {
			i := firstDiff(got.X, want.X) / max(1, want.Features)
			t.Errorf("ExplainScanned(rows %v, max %d) differs from Explain (%s): rows %v..., want %v...; X of the %d-th %v, want %v",
				o.Rows, o.MaxRows, want.Method, got.RowIndex[:3], want.RowIndex[:3], i, got.X[i*got.Features:(i+1)*got.Features], want.X[i*want.Features:(i+1)*want.Features])
		}
	}
	o := ExplainOptions{Options: opts(2), Rows: []int{4*predictBlockRows + 9}, Raw: raw}
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
}

// TestExplainScannedHoldsABlock: while ExplainScanned reads its input
// again, the rows it has read are not kept: the live heap at the last
// block is under half of what the data's values take in a frame, for a
// single model on its design and every predictor on raw inputs, whose
// pass keeps the rows explained, the labels and the datetime values.
func TestExplainScannedHoldsABlock(t *testing.T) {
	single, paths := explainRowsFiles(t)
	ps := explainPredictors(t, single)
	for _, name := range []string{"single", "single raw", "ensemble exact", "ensemble interventional", "routed"} {
		p, raw := ps[name], name == "single raw"
		if raw {
			p = single
		}
		t.Run(name, func(t *testing.T) {
			o := ExplainOptions{Options: explain.Options{Seed: 3, Workers: 1, KernelSamples: 64, BackgroundSize: 8}, MaxRows: 300, Raw: raw}
			if explainsRaw(p, o) {
				o.MaxRows = 3 // KernelSHAP costs seconds a row
			}
			checkHoldsABlock(t, p, paths[0], o)
		})
	}
}

// checkHoldsABlock measures the live heap at the last block ExplainScanned
// of the file path reads with o.
func checkHoldsABlock(t *testing.T, p *Predictor, path string, o ExplainOptions) {
	t.Helper()
	ctx := context.Background()
	x, _, err := p.ReadInput(path, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole := frameBytes(x)
	x = nil
	s, err := p.ScanInput(ctx, OpenFileBlocks(path), StreamOptions{})
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

// firstDiff is the first index where a and b differ in bits, or 0.
func firstDiff(a, b []float64) int {
	for i := range min(len(a), len(b)) {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return 0
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
