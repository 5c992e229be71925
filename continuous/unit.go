package continuous

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// UnitKind is the pipeline.Unit kind of one period of the always
// strategy of a backtest: train on the rows before the period, score on
// its rows.
const UnitKind = "backtest_always"

// periodFiles are a period's data files: the rows before it (data), the
// newest of them held out for testing (testRows, a row list), and the
// period's own rows (test).
type periodFiles struct{ data, testRows, test string }

// periodFiles writes period k's files once; later calls return them.
func (b *backtester) periodFiles(k int, p period, held int, tc *frame.Column) (periodFiles, error) {
	if pf, ok := b.files[k]; ok {
		return pf, nil
	}
	rows := rowsBefore(tc, p.lo)
	var pf periodFiles
	var err error
	if pf.data, err = b.write(fmt.Sprintf("train_%03d.parquet", k), rows); err != nil {
		return pf, err
	}
	if pf.testRows, err = writeRows(filepath.Join(b.opts.Dir, "data", fmt.Sprintf("train_%03d.rows", k)), newestRows(b.x.Take(rows), b.cfg.TimeColumn, held)); err != nil {
		return pf, err
	}
	if pf.test, err = b.write(fmt.Sprintf("period_%03d.parquet", k), p.rows); err != nil {
		return pf, err
	}
	b.files[k] = pf
	return pf, nil
}

// periodSpec is an always unit's work by reference: the configuration
// (without paths) and hash, the metric, and the period's files with
// their SHA-256 digests.
type periodSpec struct {
	Config     json.RawMessage `json:"config"`
	ConfigHash string          `json:"config_hash"`
	Metric     string          `json:"metric"`
	Data       fileRef         `json:"data"`
	TestRows   fileRef         `json:"test_rows"`
	Test       fileRef         `json:"test"`
}

type fileRef struct {
	Path string `json:"path"`
	Hash string `json:"sha256"`
}

// key is the unit key: the configuration, metric and the files'
// contents (not their paths), and the code version.
func (s periodSpec) key(codeVersion string) string {
	b, _ := json.Marshal([]string{s.ConfigHash, s.Metric, s.Data.Hash, s.TestRows.Hash, s.Test.Hash, codeVersion})
	h := sha256.Sum256(b)
	return UnitKind + ":" + hex.EncodeToString(h[:16])
}

// periodResult is an always unit's result.
type periodResult struct {
	Score        *float64 `json:"score"` // nil: NaN
	TrainSeconds float64  `json:"train_seconds"`
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func ref(path string) (fileRef, error) {
	h, err := fileSHA256(path)
	return fileRef{Path: path, Hash: h}, err
}

// queuedAlways is the always strategy's periods running as units.
type queuedAlways struct {
	done    chan error
	err     error
	waited  bool
	results map[int]periodResult // by period; written by the executor's goroutine until done
}

// wait waits for the units once and returns their error.
func (q *queuedAlways) wait() error {
	if !q.waited {
		q.err, q.waited = <-q.done, true
	}
	return q.err
}

// failed returns the units' error if they already stopped with one,
// without waiting, so that the backtest stops early (no worker, a failed
// period) instead of after the continuous strategy's last period.
func (q *queuedAlways) failed() error {
	if !q.waited {
		select {
		case q.err = <-q.done:
			q.waited = true
		default:
			return nil
		}
	}
	return q.err
}

// fill writes the units' scores and training times into the always
// strategy, whose periods the loop has appended.
func (q *queuedAlways) fill(s *Strategy) {
	for k, r := range q.results {
		s.Periods[k].Score = eval.FromJSONValue(r.Score)
		s.TrainSeconds += r.TrainSeconds
		s.Trainings++
	}
}

// queueAlways writes the files of every period after the first, sends
// the always strategy's periods to opts.Executor as units and returns
// at once; after wait, fill sets their scores. From then on step leaves
// the always strategy to the units.
func (b *backtester) queueAlways(ctx context.Context, ps []period, tc *frame.Column) (*queuedAlways, error) {
	cfg := b.cfg.Clone()
	cfg.Data, cfg.TestRows, cfg.Out = "", "", ""
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("always: config: %w", err)
	}
	var units []pipeline.Unit
	for k := 1; k < len(ps); k++ {
		pf, err := b.periodFiles(k, ps[k], len(ps[k-1].rows), tc)
		if err != nil {
			return nil, err
		}
		s := periodSpec{Config: cj, ConfigHash: cfg.Hash(), Metric: b.res.Metric}
		for _, f := range []struct {
			dst  *fileRef
			path string
		}{{&s.Data, pf.data}, {&s.TestRows, pf.testRows}, {&s.Test, pf.test}} {
			if *f.dst, err = ref(f.path); err != nil {
				return nil, fmt.Errorf("always: %w", err)
			}
			if b.opts.Share != nil {
				if err := b.opts.Share(ctx, f.path); err != nil {
					return nil, fmt.Errorf("always: %w", err)
				}
			}
		}
		spec, _ := json.Marshal(s)
		out := filepath.Join(b.opts.Dir, "runs", fmt.Sprintf("always_%03d", k))
		units = append(units, pipeline.Unit{Key: s.key(b.opts.CodeVersion), Kind: UnitKind, Spec: spec,
			Run: func(ctx context.Context) ([]byte, error) { return runPeriod(ctx, cfg, s.Metric, pf, out) }})
	}
	q := &queuedAlways{done: make(chan error, 1), results: map[int]periodResult{}}
	go func() {
		q.done <- b.opts.Executor.Execute(ctx, units, func(i int, r pipeline.UnitResult) error {
			var res periodResult
			if err := json.Unmarshal(r.Value, &res); err != nil {
				return fmt.Errorf("period %s: result: %w", ps[i+1].label, err)
			}
			q.results[i+1] = res
			return nil
		})
	}()
	b.queued = true
	return q, nil
}

// runPeriod trains cfg on the period's files (out is the run's output
// directory) and scores the model on the period's rows.
func runPeriod(ctx context.Context, cfg *config.Config, metric string, pf periodFiles, out string) ([]byte, error) {
	cfg = cfg.Clone()
	cfg.Data, cfg.TestRows, cfg.Out = pf.data, pf.testRows, out
	res, secs, err := train(ctx, cfg, pipeline.Options{})
	if err != nil {
		return nil, fmt.Errorf("always: %w", err)
	}
	m, err := pipeline.LoadPredictor(res.ModelPath, pipeline.Families())
	if err != nil {
		return nil, fmt.Errorf("always: %w", err)
	}
	var score float64
	if _, err := scoreOn(m, pf.test, frame.ReadOptions{}, nil, metric, &score); err != nil {
		return nil, fmt.Errorf("always: %w", err)
	}
	return json.Marshal(periodResult{TrainSeconds: secs, Score: eval.JSONValue(score)})
}

// UnitRunner runs backtest units (kind UnitKind) in a tabforge worker.
// It reads the period's files from the paths the driver sent, or, when
// one is missing or holds other data, from Fetch, and checks their
// SHA-256 digests.
type UnitRunner struct {
	// CodeVersion must be the driver's BacktestOptions.CodeVersion: a
	// unit whose key differs was sent by another build and is refused.
	CodeVersion string
	// Fetch, if not nil, returns a local path holding the file the
	// driver shared from path (hash is the file's digest, for the cache).
	Fetch func(ctx context.Context, hash, path string) (string, error)
}

// Run implements dist.Runner.
func (u UnitRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, _ int) ([]byte, error) {
	if kind != UnitKind {
		return nil, fmt.Errorf("backtest: unit kind %q is not %s", kind, UnitKind)
	}
	var s periodSpec
	if err := json.Unmarshal(spec, &s); err != nil {
		return nil, fmt.Errorf("backtest: unit spec: %w", err)
	}
	if k := s.key(u.CodeVersion); k != key {
		return nil, fmt.Errorf("backtest: unit %s rebuilds to key %s (a different tabforge build?)", key, k)
	}
	cfg := config.Default()
	if err := json.Unmarshal(s.Config, cfg); err != nil {
		return nil, fmt.Errorf("backtest: unit config: %w", err)
	}
	if h := cfg.Hash(); h != s.ConfigHash {
		return nil, fmt.Errorf("backtest: unit config decodes to hash %.12s, not %.12s (a different tabforge build?)", h, s.ConfigHash)
	}
	var pf periodFiles
	for _, f := range []struct {
		dst *string
		ref fileRef
	}{{&pf.data, s.Data}, {&pf.testRows, s.TestRows}, {&pf.test, s.Test}} {
		path, err := u.local(ctx, f.ref)
		if err != nil {
			return nil, err
		}
		*f.dst = path
	}
	out, err := os.MkdirTemp("", "tabforge-backtest-unit-")
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	defer os.RemoveAll(out)
	return runPeriod(ctx, cfg, s.Metric, pf, out)
}

// local returns a path holding r's content: r.Path, or Fetch's copy.
func (u UnitRunner) local(ctx context.Context, r fileRef) (string, error) {
	if h, err := fileSHA256(r.Path); err == nil && h == r.Hash {
		return r.Path, nil
	}
	if u.Fetch == nil {
		return "", fmt.Errorf("backtest: %s is missing or holds other data", r.Path)
	}
	path, err := u.Fetch(ctx, r.Hash, r.Path)
	if err != nil {
		return "", fmt.Errorf("backtest: %w", err)
	}
	if h, err := fileSHA256(path); err != nil || h != r.Hash {
		return "", fmt.Errorf("backtest: fetched %s does not have digest %.12s", r.Path, r.Hash)
	}
	return path, nil
}
