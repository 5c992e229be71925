package bench

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tabforge/tabforge/internal/atomicfile"
)

// CorpusOptions configure bench corpus.
type CorpusOptions struct {
	// Variants are compared on every dataset, the first being the
	// baseline of the summary; none means one variant "base" with no
	// extra flags.
	Variants []Variant
	// MaxRows subsamples larger datasets to this many rows (seeded, the
	// rows' order kept); 0 means all rows.
	MaxRows int
	// Timeout bounds each train run; 0 means none. A run that times out
	// is a failure of that run only.
	Timeout time.Duration
	// Tie is the absolute metric difference within which a variant ties
	// the baseline; 0 means DefaultTie.
	Tie float64
	// Seed drives the row subsample.
	Seed uint64
	// ResultsDir, when set, keeps every run's whole train --json result
	// there as DATASET.VARIANT.json (leaderboards, CV and test scores of
	// every candidate), so that rules choosing among candidates can be
	// compared on the same runs afterwards without training again.
	ResultsDir string
}

// DefaultTie is the tie margin of the corpus summary: differences of at
// most 0.002 in R², AUC or log-loss are noise on datasets of this size.
const DefaultTie = 0.002

func (o CorpusOptions) tie() float64 {
	if o.Tie > 0 {
		return o.Tie
	}
	return DefaultTie
}

func (o CorpusOptions) variants() []Variant {
	if len(o.Variants) == 0 {
		return []Variant{{Name: "base"}}
	}
	return o.Variants
}

// CorpusRun is one variant's train run on one dataset.
type CorpusRun struct {
	Variant string  `json:"variant"`
	Value   float64 `json:"value"` // 0 when the run failed
	Best    string  `json:"best,omitempty"`
	CV      string  `json:"cv,omitempty"`
	Seconds float64 `json:"seconds"`
	Err     string  `json:"error,omitempty"`
}

// CorpusDataset is one dataset's runs, one per variant in order.
type CorpusDataset struct {
	Name   string      `json:"name"`
	Task   string      `json:"task"`
	Metric string      `json:"metric"`
	Rows   int         `json:"rows"` // data rows used (after MaxRows)
	Runs   []CorpusRun `json:"runs"`
}

// CorpusReport is the result of bench corpus, written as JSON so that a
// later run can be compared with it.
type CorpusReport struct {
	Variants []Variant        `json:"variants"`
	MaxRows  int              `json:"max_rows,omitempty"`
	Timeout  float64          `json:"timeout_seconds,omitempty"`
	Tie      float64          `json:"tie"`
	Datasets []CorpusDataset  `json:"datasets"`
	Summary  []VariantSummary `json:"summary"`
}

// FilterDatasets keeps the datasets of task ("" for all), then the first
// limit of them (0 for all), in manifest order.
func FilterDatasets(ds []Dataset, task string, limit int) []Dataset {
	var out []Dataset
	for _, d := range ds {
		if task != "" && d.Task != task {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, d)
	}
	return out
}

// Corpus runs `self train` on every dataset with every variant, each run
// a fresh process with its own store, the development profile (a
// variant's --profile overrides it), the quality gates off, the
// manifest's task, time column and positive class, and o.Timeout. Failed
// runs are recorded, never fatal; only a cancelled ctx stops the
// benchmark early (with the report so far).
func Corpus(ctx context.Context, self string, ds []Dataset, o CorpusOptions, log io.Writer) (*CorpusReport, error) {
	dir, err := os.MkdirTemp("", "tabforge-corpus-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rep := &CorpusReport{Variants: o.variants(), MaxRows: o.MaxRows, Timeout: o.Timeout.Seconds(), Tie: o.tie()}
	for i, d := range ds {
		cd := CorpusDataset{Name: d.Name, Task: d.Task, Metric: HeadlineMetric(d.Task), Rows: d.Rows}
		if o.MaxRows > 0 {
			sub := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(d.File)))
			if d.File, cd.Rows, err = Subsample(d.File, sub, o.MaxRows, o.Seed); err != nil {
				for _, v := range rep.Variants {
					cd.Runs = append(cd.Runs, CorpusRun{Variant: v.Name, Err: err.Error()})
				}
				rep.Datasets = append(rep.Datasets, cd)
				continue
			}
		}
		for j, v := range rep.Variants {
			run, output := corpusRun(ctx, self, filepath.Join(dir, fmt.Sprintf("%d-%d", i, j)), d, v, o.Timeout, &cd)
			if o.ResultsDir != "" && len(output) > 0 {
				if err := atomicfile.WriteFile(resultFile(o.ResultsDir, d.Name, v.Name), output); err != nil {
					return rep, fmt.Errorf("bench corpus: keep the result of %s [%s]: %w", d.Name, v.Name, err)
				}
			}
			fmt.Fprintf(log, "corpus %s [%s]: %s %.4f in %.1f s %s\n", d.Name, v.Name, cd.Metric, run.Value, run.Seconds, run.Err)
			cd.Runs = append(cd.Runs, run)
			if ctx.Err() != nil {
				break
			}
		}
		rep.Datasets = append(rep.Datasets, cd)
		if ctx.Err() != nil {
			break
		}
	}
	rep.Summary = Summarize(rep.Datasets, rep.Variants, rep.Tie)
	return rep, ctx.Err()
}

// corpusRun runs one variant on one dataset in runDir, removed afterwards,
// and returns the run and what train --json printed. It fills cd.Metric
// from the result when the manifest had no task.
func corpusRun(ctx context.Context, self, runDir string, d Dataset, v Variant, timeout time.Duration, cd *CorpusDataset) (CorpusRun, []byte) {
	defer os.RemoveAll(runDir)
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		rctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	args := append([]string{"--profile", "development", "--set", "force_production_quality=false"}, d.TrainArgs()...)
	res, pr := trainProcess(rctx, self, runDir, append(args, v.Flags...))
	run := CorpusRun{Variant: v.Name, Seconds: pr.seconds, Err: pr.err}
	if errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		run.Err = fmt.Sprintf("timeout after %s", timeout)
	}
	if res == nil || run.Err != "" {
		return run, pr.output
	}
	if cd.Metric == "" {
		cd.Metric, cd.Task = HeadlineMetric(res.Task), res.Task
	}
	run.Best, run.CV = res.Best, res.CV
	v2, ok := res.best()[cd.Metric]
	if !ok {
		run.Err = fmt.Sprintf("no test %s in the result", cd.Metric)
		return run, pr.output
	}
	run.Value = v2
	return run, pr.output
}

// resultFile is where ResultsDir keeps a run of dataset under variant: a
// variant is named by the user, so path separators in it become "_".
func resultFile(dir, dataset, variant string) string {
	safe := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '/' || r == filepath.Separator {
				return '_'
			}
			return r
		}, s)
	}
	return filepath.Join(dir, safe(dataset)+"."+safe(variant)+".json")
}

// Subsample writes to dst a seeded random sample of maxRows data rows of
// the CSV file src, in their original order, and returns dst and the
// number of data rows. A file of at most maxRows rows is not copied: src
// is returned.
func Subsample(src, dst string, maxRows int, seed uint64) (string, int, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return "", 0, fmt.Errorf("subsample %s: %w", src, err)
	}
	if len(recs) == 0 {
		return "", 0, fmt.Errorf("subsample %s: empty file", src)
	}
	n := len(recs) - 1
	if n <= maxRows {
		return src, n, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	keep := make([]bool, n)
	for _, i := range rng.Perm(n)[:maxRows] {
		keep[i] = true
	}
	out := [][]string{recs[0]}
	for i, k := range keep {
		if k {
			out = append(out, recs[i+1])
		}
	}
	if err := writeCSV(dst, out); err != nil {
		return "", 0, fmt.Errorf("subsample %s: %w", src, err)
	}
	return dst, maxRows, nil
}

// writeCSV writes records to path atomically (a temporary file renamed).
func writeCSV(path string, recs [][]string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".subsample-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	if err := w.WriteAll(recs); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// String describes the variant as NAME=FLAGS.
func (v Variant) String() string {
	q := make([]string, len(v.Flags))
	for i, f := range v.Flags {
		q[i] = f
		if strings.ContainsAny(f, " \t'\"\\") {
			q[i] = "'" + strings.ReplaceAll(f, "'", `'\''`) + "'"
		}
	}
	return v.Name + "=" + strings.Join(q, " ")
}
