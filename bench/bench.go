// Package bench measures tabforge against its peers (scikit-learn,
// XGBoost) side by side, in one run, on the same data: the synthetic
// Friedman-1 problem of ../shared/anchors/speed.md, written once to raw
// little-endian files that both sides read.
//
// Every measurement runs in a fresh process — tabforge's own binary in its
// hidden `bench case` mode, or /usr/bin/python3 with the embedded peer
// script — so that peak RSS (getrusage maxrss) belongs to that case alone.
// Each case is timed over several runs and the median reported, so the
// ratio tabforge/peer, not the absolute time on a noisy machine, is the
// figure to read.
package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"

	"github.com/tabforge/tabforge/internal/stats"
	"github.com/tabforge/tabforge/internal/synth"
	"github.com/tabforge/tabforge/model"
)

//go:embed peers.py
var peerScript []byte

// Case is one benchmark: a tabforge family with parameters and the peer
// it is compared with.
type Case struct {
	Name   string     // short name shown in the table
	Family string     // tabforge model family
	Params string     // tabforge parameters, JSON
	Peer   string     // case name in peers.py; "" means no peer
	Task   model.Task // regression (target y) or binary (target ybin)
	Rows   int        // rows of the problem; train = first 80%, test = the rest
}

// Suites returns the named benchmark suites.
func Suites() map[string][]Case {
	return map[string][]Case{
		"linear": {
			{Name: "OLS", Family: "ols", Peer: "sklearn_ols", Task: model.Regression, Rows: 1_000_000},
			{Name: "Ridge(alpha=1)", Family: "ridge", Params: `{"alpha":1}`, Peer: "sklearn_ridge", Task: model.Regression, Rows: 1_000_000},
			{Name: "Logistic(C=1)", Family: "logistic", Params: `{"c":1}`, Peer: "sklearn_logistic", Task: model.Binary, Rows: 1_000_000},
		},
		"trees": {
			{Name: "GBDT regression", Family: "gbdt", Params: gbdtParams, Peer: "xgb_reg", Task: model.Regression, Rows: 1_000_000},
			{Name: "GBDT binary", Family: "gbdt", Params: gbdtParams, Peer: "xgb_bin", Task: model.Binary, Rows: 1_000_000},
			{Name: "RandomForest(100)", Family: "forest", Params: `{"n_estimators":100,"max_features":"sqrt"}`, Peer: "sklearn_forest", Task: model.Regression, Rows: 100_000},
		},
	}
}

// gbdtParams are the settings of the XGBoost speed anchors: 100 rounds,
// depth 6, 256 bins, learning rate 0.1.
const gbdtParams = `{"n_estimators":100,"max_depth":6,"learning_rate":0.1,"max_bin":256}`

// Measurement is one side of a case.
type Measurement struct {
	FitSeconds []float64 `json:"fit_seconds"` // every run
	// PredictRowsPerSec is the batch prediction throughput over all rows
	// of the problem (median over runs).
	PredictRowsPerSec []float64 `json:"predict_rows_per_sec"`
	PeakMB            float64   `json:"peak_mb"` // max RSS over the runs
	Metric            float64   `json:"metric"`  // R² or ROC AUC on the test rows
	MetricName        string    `json:"metric_name"`
	Description       string    `json:"description"`
	Err               string    `json:"error,omitempty"`
}

// Median returns the median fit time.
func (m Measurement) Median() float64 { return stats.Median(slices.Clone(m.FitSeconds)) }

// PredictRate returns the median prediction throughput in rows/s.
func (m Measurement) PredictRate() float64 { return stats.Median(slices.Clone(m.PredictRowsPerSec)) }

// Result pairs tabforge's and the peer's measurements of a case.
type Result struct {
	Case     Case        `json:"case"`
	Tabforge Measurement `json:"tabforge"`
	Peer     Measurement `json:"peer"`
}

// Options control a benchmark run.
type Options struct {
	// Self is the tabforge executable to run cases with (os.Executable()).
	Self string
	// Python is the peer interpreter; "" means /usr/bin/python3.
	Python string
	// Runs per case and side; 0 means 3.
	Runs int
	// DataDir holds the raw data files; "" means a temporary directory.
	DataDir string
	// Threads for both sides; 0 means 2.
	Threads int
	// Log receives a line per finished measurement; nil means none.
	Log io.Writer
}

func (o Options) runs() int    { return cmp(o.Runs, 3) }
func (o Options) threads() int { return cmp(o.Threads, 2) }

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Run measures every case, tabforge and peer, and returns the results.
func Run(ctx context.Context, cases []Case, o Options) ([]Result, error) {
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	dir := o.DataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "tabforge-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	rows := 0
	for _, c := range cases {
		rows = max(rows, c.Rows)
	}
	if err := WriteData(dir, rows); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "peers.py")
	if err := os.WriteFile(script, peerScript, 0o644); err != nil {
		return nil, err
	}
	var out []Result
	for _, c := range cases {
		r := Result{Case: c}
		args := []string{"bench", "case", "--family", c.Family, "--params", c.Params, "--task", string(c.Task),
			"--rows", fmt.Sprint(c.Rows), "--data", dir}
		r.Tabforge = measure(ctx, o, o.Self, args, fmt.Sprintf("GOMAXPROCS=%d", o.threads()))
		if c.Peer != "" {
			pargs := []string{script, "--case", c.Peer, "--rows", fmt.Sprint(c.Rows), "--data", dir, "--threads", fmt.Sprint(o.threads())}
			t := fmt.Sprint(o.threads())
			r.Peer = measure(ctx, o, o.Python, pargs, "OMP_NUM_THREADS="+t, "OPENBLAS_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
		}
		if o.Log != nil {
			fmt.Fprintf(o.Log, "%s: tabforge %.3fs, peer %.3fs\n", c.Name, r.Tabforge.Median(), r.Peer.Median())
		}
		out = append(out, r)
	}
	return out, ctx.Err()
}

// measure runs a case o.runs() times in fresh processes.
func measure(ctx context.Context, o Options, prog string, args []string, env ...string) Measurement {
	var m Measurement
	for range o.runs() {
		cmd := exec.CommandContext(ctx, prog, args...)
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			m.Err = fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))
			return m
		}
		var one CaseOutput
		if err := json.Unmarshal(lastJSON(stdout.Bytes()), &one); err != nil {
			m.Err = fmt.Sprintf("bad output %q: %v", stdout.String(), err)
			return m
		}
		m.FitSeconds = append(m.FitSeconds, one.FitSeconds)
		m.PredictRowsPerSec = append(m.PredictRowsPerSec, float64(one.PredictRows)/one.PredictSeconds)
		m.Metric, m.MetricName, m.Description = one.Metric, one.MetricName, one.Description
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.PeakMB = max(m.PeakMB, float64(ru.Maxrss)/1024) // Linux reports KiB
		}
	}
	return m
}

func lastLine(s string) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(lines[len(lines)-1])
}

func lastJSON(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

// Data file names inside a data directory (the layout of
// ../shared/anchors/speed_bench.py).
const (
	fileX    = "friedman1_x.f32"
	fileY    = "friedman1_y.f32"
	fileYBin = "friedman1_ybin.u8"
)

// WriteData writes the first rows of the Friedman-1 problem to dir as raw
// little-endian files, unless files of that size are already there.
func WriteData(dir string, rows int) error {
	if st, err := os.Stat(filepath.Join(dir, fileYBin)); err == nil && st.Size() == int64(rows) {
		return nil
	}
	x, y, ybin := synth.Friedman1(rows)
	for _, f := range []struct {
		name string
		data any
	}{{fileX, x}, {fileY, y}, {fileYBin, ybin}} {
		var buf bytes.Buffer
		buf.Grow(binary.Size(f.data))
		if err := binary.Write(&buf, binary.LittleEndian, f.data); err != nil {
			return err
		}
		if err := model.WriteFileAtomic(filepath.Join(dir, f.name), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// ReadData loads the first rows rows written by WriteData as a design
// matrix and the regression or binary target. It streams the file into the
// float64 matrix so that no second copy of the data inflates the peak RSS
// the benchmark reports.
func ReadData(dir string, rows int, task model.Task) (*model.Matrix, []float64, error) {
	x := model.NewMatrix(rows, synth.Features)
	if err := readFloat32s(filepath.Join(dir, fileX), x.Data); err != nil {
		return nil, nil, err
	}
	y := make([]float64, rows)
	if task == model.Regression {
		if err := readFloat32s(filepath.Join(dir, fileY), y); err != nil {
			return nil, nil, err
		}
		return x, y, nil
	}
	f, err := os.Open(filepath.Join(dir, fileYBin))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	raw := make([]byte, rows)
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, nil, fmt.Errorf("bench data in %s has fewer than %d rows: %w", dir, rows, err)
	}
	for i, v := range raw {
		y[i] = float64(v)
	}
	return x, y, nil
}

// readFloat32s fills dst with the little-endian float32 values at the start
// of the file, converted to float64.
func readFloat32s(path string, dst []float64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var b [4]byte
	for i := range dst {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return fmt.Errorf("read %s: value %d: %w (fewer rows than asked)", path, i, err)
		}
		dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[:])))
	}
	return nil
}

// PrintTable writes results as an aligned table, then the errors of the
// runs that failed; it returns a *RunsFailedError if any did.
func PrintTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\ttrain rows\ttabforge fit s\tpeer fit s\tratio\ttabforge peak MB\tpeer peak MB\ttabforge metric\tpeer metric\ttabforge pred rows/s\tpeer pred rows/s\tpeer\t")
	for _, r := range results {
		train := r.Case.Rows * 4 / 5
		tf, pe := r.Tabforge, r.Peer
		ratio := tf.Median() / pe.Median()
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Case.Name, train,
			num(tf.Median(), 3), num(pe.Median(), 3), num(ratio, 2), num(tf.PeakMB, 0), num(pe.PeakMB, 0),
			metric(tf), metric(pe), rate(tf.PredictRate()), rate(pe.PredictRate()), pe.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var errs []error
	for _, r := range results {
		if r.Tabforge.Err != "" {
			errs = append(errs, fmt.Errorf("%s tabforge: %s", r.Case.Name, r.Tabforge.Err))
		}
		if r.Peer.Err != "" {
			errs = append(errs, fmt.Errorf("%s peer: %s", r.Case.Name, r.Peer.Err))
		}
	}
	for _, e := range errs {
		fmt.Fprintln(w, "error:", e)
	}
	if len(errs) > 0 {
		return &RunsFailedError{Failed: len(errs), Total: 2 * len(results)}
	}
	return nil
}

// RunsFailedError is returned, after the table, by a bench some of whose
// runs failed, so that a script comparing tabforge with its peers does
// not take a table of gaps for a result. The table says which and why.
type RunsFailedError struct {
	Failed, Total int
}

func (e *RunsFailedError) Error() string {
	return fmt.Sprintf("bench: %d of %d runs failed (see above)", e.Failed, e.Total)
}

// Failed returns a *RunsFailedError if a side of any case failed.
func Failed(results []Result) error {
	n := 0
	for _, r := range results {
		n += btoi(r.Tabforge.Err != "") + btoi(r.Peer.Err != "")
	}
	if n > 0 {
		return &RunsFailedError{Failed: n, Total: 2 * len(results)}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func rate(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.3g", v)
}

func metric(m Measurement) string {
	if m.MetricName == "" {
		return "-"
	}
	return fmt.Sprintf("%s %.4f", m.MetricName, m.Metric)
}
