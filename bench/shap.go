package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/stats"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

//go:embed shap_peer.py
var shapPeerScript []byte

// SHAPOptions configure RunSHAP.
type SHAPOptions struct {
	// Data is a CSV file and Target its regression target column.
	Data, Target string
	// Rows is the number of rows explained (the data's rows tiled); 0
	// means 10,000.
	Rows int
	// Trees and Depth shape the gbdt; 0 means 100 and 6.
	Trees, Depth int
	// Runs is the number of timed runs per side (median); 0 means 3.
	Runs int
	// Threads for both sides; 0 means 2.
	Threads int
	// Python is the peer interpreter; "" means /usr/bin/python3.
	Python string
}

// SHAPResult is one TreeSHAP-versus-XGBoost measurement.
type SHAPResult struct {
	Rows, Features, Trees, Depth, Threads int
	// TabforgeRowsPerSec and XGBoostRowsPerSec are median throughputs;
	// Ratio is tabforge/XGBoost (above 1: tabforge is faster).
	TabforgeRowsPerSec float64 `json:"tabforge_rows_per_sec"`
	XGBoostRowsPerSec  float64 `json:"xgboost_rows_per_sec"`
	Ratio              float64 `json:"ratio"`
	// MaxAbsDiff is the largest |tabforge − XGBoost| over every value
	// (bias included), relative to max(1, |XGBoost value|).
	MaxAbsDiff float64 `json:"max_rel_diff"`
}

// RunSHAP trains a gbdt on the data (target excluded, gbdt's design
// matrix), tiles the rows to o.Rows, and times exact TreeSHAP in this
// process against XGBoost's Booster.predict(pred_contribs=True) on the
// same exported model in a fresh Python process, after a warm-up each.
func RunSHAP(ctx context.Context, o SHAPOptions) (*SHAPResult, error) {
	rows, trees, depth, runs, threads := cmp(o.Rows, 10_000), cmp(o.Trees, 100), cmp(o.Depth, 6), cmp(o.Runs, 3), cmp(o.Threads, 2)
	py := o.Python
	if py == "" {
		py = "/usr/bin/python3"
	}
	m, mat, err := trainSHAPModel(ctx, o, trees, depth, threads)
	if err != nil {
		return nil, err
	}
	big := model.NewMatrix(rows, mat.Cols)
	for r := range rows {
		copy(big.Row(r), mat.Row(r%mat.Rows))
	}
	v, times, err := timeTreeSHAP(ctx, m, big, threads, runs)
	if err != nil {
		return nil, err
	}
	secs, cb, err := runSHAPPeer(ctx, py, m, big, threads, runs)
	if err != nil {
		return nil, err
	}
	p := big.Cols
	if len(cb) != 8*rows*(p+1) {
		return nil, fmt.Errorf("bench shap: xgboost wrote %d bytes of contributions, want %d", len(cb), 8*rows*(p+1))
	}
	res := &SHAPResult{Rows: rows, Features: p, Trees: trees, Depth: depth, Threads: threads,
		TabforgeRowsPerSec: float64(rows) / stats.Median(slices.Clone(times)), XGBoostRowsPerSec: float64(rows) / secs}
	res.Ratio = res.TabforgeRowsPerSec / res.XGBoostRowsPerSec
	res.MaxAbsDiff = maxRelDiff(v, cb, rows, p)
	return res, nil
}

// trainSHAPModel trains the gbdt the benchmark explains on o.Data, the
// target left out and the features encoded as gbdt's design matrix, and
// returns the matrix too: its rows are the ones both sides explain.
func trainSHAPModel(ctx context.Context, o SHAPOptions, trees, depth, threads int) (*gbdt.Model, *model.Matrix, error) {
	f, err := frame.ReadFile(o.Data, frame.ReadOptions{})
	if err != nil {
		return nil, nil, err
	}
	yc, ok := f.Lookup(o.Target)
	if !ok || yc.Kind != frame.Numeric {
		return nil, nil, fmt.Errorf("bench shap: %s has no numeric column %q", o.Data, o.Target)
	}
	x := f.Drop(o.Target)
	d, err := features.FitDesign(ctx, x, features.DesignSpecFor(gbdt.Families()[0].Input))
	if err != nil {
		return nil, nil, err
	}
	mat, err := d.Matrix(x)
	if err != nil {
		return nil, nil, err
	}
	m, err := gbdt.Train(ctx, gbdt.Params{NEstimators: trees, MaxDepth: depth, LearningRate: 0.1},
		&model.Dataset{X: mat, Y: yc.Num, Task: model.Regression, FeatureNames: d.FeatureNames()}, nil, model.FitOptions{Workers: threads})
	if err != nil {
		return nil, nil, err
	}
	return m, mat, nil
}

// timeTreeSHAP runs tabforge's TreeSHAP on x runs+1 times and returns the
// values and the seconds of every run but the first, a warm-up, as the
// peer's timings leave out its own.
func timeTreeSHAP(ctx context.Context, m *gbdt.Model, x *model.Matrix, threads, runs int) (*explain.Values, []float64, error) {
	e, err := explain.NewTreeEnsemble(m)
	if err != nil {
		return nil, nil, err
	}
	var v *explain.Values
	times := make([]float64, 0, runs)
	for i := range runs + 1 {
		t0 := time.Now()
		if v, err = e.TreeSHAP(ctx, x, threads, nil); err != nil {
			return nil, nil, err
		}
		if i > 0 {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	return v, times, nil
}

// runSHAPPeer exports m as XGBoost JSON, runs the XGBoost peer script on
// x in a fresh Python process (files in a temporary directory, removed),
// and returns the peer's median seconds and its contributions as
// little-endian float64s, row by row, bias last.
func runSHAPPeer(ctx context.Context, py string, m *gbdt.Model, x *model.Matrix, threads, runs int) (float64, []byte, error) {
	dir, err := os.MkdirTemp("", "tabforge-bench-shap-")
	if err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(dir)
	var js bytes.Buffer
	if err := m.WriteXGBoostJSON(&js); err != nil {
		return 0, nil, err
	}
	mp, xp, cp, sp := filepath.Join(dir, "model.json"), filepath.Join(dir, "x.f64"), filepath.Join(dir, "contribs.f64"), filepath.Join(dir, "peer.py")
	xb := make([]byte, 8*len(x.Data))
	for i, val := range x.Data {
		binary.LittleEndian.PutUint64(xb[8*i:], math.Float64bits(val))
	}
	for path, b := range map[string][]byte{mp: js.Bytes(), xp: xb, sp: shapPeerScript} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return 0, nil, err
		}
	}
	cmd := exec.CommandContext(ctx, py, sp, mp, xp, strconv.Itoa(x.Cols), cp, strconv.Itoa(threads), strconv.Itoa(runs))
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(threads))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, nil, fmt.Errorf("bench shap: xgboost peer: %v: %s", err, lastLine(stderr.String()))
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, nil, fmt.Errorf("bench shap: xgboost peer printed %q", out)
	}
	cb, err := os.ReadFile(cp)
	if err != nil {
		return 0, nil, err
	}
	return secs, cb, nil
}

// maxRelDiff is the largest |tabforge − XGBoost| over every SHAP value
// and bias of the rows, relative to max(1, |XGBoost value|) so that
// values near zero are compared absolutely. cb holds XGBoost's rows of
// p+1 little-endian float64s.
func maxRelDiff(v *explain.Values, cb []byte, rows, p int) float64 {
	var worst float64
	for r := range rows {
		for j := 0; j <= p; j++ {
			w := math.Float64frombits(binary.LittleEndian.Uint64(cb[8*(r*(p+1)+j):]))
			g := v.BaseValue[0]
			if j < p {
				g = v.Row(r, 0)[j]
			}
			worst = max(worst, math.Abs(g-w)/math.Max(1, math.Abs(w)))
		}
	}
	return worst
}

// PrintSHAP writes a SHAPResult as a small table.
func PrintSHAP(w io.Writer, r *SHAPResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rows\tfeatures\ttrees\tdepth\tthreads\ttabforge rows/s\txgboost rows/s\tratio\tmax rel diff\t")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.2f\t%.2g\t\n", r.Rows, r.Features, r.Trees, r.Depth, r.Threads,
		r.TabforgeRowsPerSec, r.XGBoostRowsPerSec, r.Ratio, r.MaxAbsDiff)
	return tw.Flush()
}
