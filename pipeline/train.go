package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/split"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/cache"
	"github.com/tabforge/tabforge/tune"
)

// Options carries the run's collaborators; every field may be zero.
type Options struct {
	// Families are the model families to draw candidates from; nil means
	// Families().
	Families *model.Registry
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Progress receives progress events; nil means none.
	Progress progress.Func
	// Runs records the run; nil means it is not recorded.
	Runs store.Runs
	// Studies stores the tuning studies, so that an interrupted run
	// resumes them; nil keeps them in memory for the run.
	Studies tune.Storage
	// Cache memoises candidates and CV folds across runs; nil computes
	// everything. Make one per run: its counters become Result.Cache.
	Cache *cache.Cache
	// CodeVersion names the running code (registry.CodeVersion) in cache
	// keys, so that a changed build never reuses old results. It must be
	// set when Cache is.
	CodeVersion string
}

// Entry is one candidate's line on the leaderboard.
type Entry struct {
	Model      string         `json:"model"`
	Params     map[string]any `json:"params"`
	CV         eval.Metrics   `json:"cv"`
	CVStd      eval.Metrics   `json:"cv_std,omitempty"`
	Test       eval.Metrics   `json:"test"`
	FitSeconds float64        `json:"fit_seconds"`
	Error      string         `json:"error,omitempty"`
	// Tuning describes the hyperparameter search, when one ran.
	Tuning *TuningInfo `json:"tuning,omitempty"`
	// Cached is true when the entry came from the step cache.
	Cached bool `json:"cached,omitempty"`
	// Chosen says why this entry leads the leaderboard though another
	// has a better CV score (see preferSimplerEnsemble).
	Chosen string `json:"chosen,omitempty"`

	testPred []float64 // predictions on the test rows, for segment analysis
	oof      []float64 // out-of-fold predictions on the training rows, for ensembles
}

// SegmentMetrics are the best model's test metrics on one segment.
type SegmentMetrics struct {
	Segment string       `json:"segment"`
	Rows    int          `json:"rows"`
	Test    eval.Metrics `json:"test"`
}

// Result is what a training run produced.
type Result struct {
	RunID       string             `json:"run_id"`
	DatasetHash string             `json:"dataset_hash"`
	Task        model.Task         `json:"task"`
	Target      string             `json:"target"`
	Classes     []string           `json:"classes,omitempty"`
	Metric      string             `json:"metric"` // the metric the leaderboard is ranked by
	Split       string             `json:"split"`
	TrainRows   int                `json:"train_rows"`
	TestRows    int                `json:"test_rows"`
	CVFolds     int                `json:"cv_folds"`
	Best        string             `json:"best"`
	ModelPath   string             `json:"model_path"`
	Leaderboard []Entry            `json:"leaderboard"`
	Timings     map[string]float64 `json:"timings"`
	Warnings    []string           `json:"warnings,omitempty"`
	Gates       Gates              `json:"gates,omitempty"`
	// Stages are the advanced feature stages applied; Fallbacks say which
	// enabled stages failed and fell back to the basic path.
	Stages    []string `json:"stages,omitempty"`
	Fallbacks []string `json:"fallbacks,omitempty"`
	// Segments are the best model's test metrics per value of the
	// segment column, worst first, when segment_column is set.
	Segments []SegmentMetrics `json:"segments,omitempty"`
	// SegmentModels compares the per-segment models of segment_by with
	// the global model; the saved artifact routes rows to them.
	SegmentModels *SegmentModels `json:"segment_models,omitempty"`
	// Deployable is false when the best model failed a quality gate.
	Deployable bool `json:"deployable"`
	// Cache counts the run's step cache lookups, when a cache was used.
	Cache *cache.Stats `json:"cache,omitempty"`
	// Report is the path of the run's HTML report ("" if not written).
	Report string `json:"report,omitempty"`
}

// prepared is a loaded dataset ready for candidates: the features frame,
// coded target and split, in positions of the kept rows.
type prepared struct {
	x       *frame.Frame
	y       []float64
	task    model.Task
	classes []string
	train   []int
	test    []int
	folds   []split.Fold // positions into train
	split   string
	chain   features.Chain // advanced feature stages, fitted per fold
	dataset string         // the dataset hash
	memo    *memo          // memoised fold preprocessing, tuning deadline; shared by the variants
	// variant names the feature variant of the candidate being run
	// ("" for basic, AdvancedSuffix for advanced); pending lists the
	// families of all the run's candidates in order, and pendingAt is this
	// one's position, for tuning's time shares.
	times     []float64 // time key per row, nil without time_column
	variant   string
	pending   []string
	pendingAt int
	// cache (nil: none) memoises candidates and folds across runs under
	// keys naming the code version; families decode cached models.
	cache    *cache.Cache
	code     string
	candKeys []string     // cache keys of the run's candidates, for the analysis key
	pngCache *cache.Cache // the same store, counted apart: rendered report charts
	families *model.Registry
	log      *slog.Logger
}

// Train runs the whole training pipeline for cfg.
func Train(ctx context.Context, cfg *config.Config, o Options) (res *Result, err error) {
	start := time.Now()
	if o.Families == nil {
		o.Families = Families()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	res = &Result{RunID: newRunID(start), Target: cfg.Target, Timings: map[string]float64{}}
	log := o.Logger.With("run", res.RunID)
	if err := checkWritable(cfg.Out); err != nil {
		return nil, err
	}

	f, err := frame.ReadFile(cfg.Data, readOptions(cfg))
	if err != nil {
		return nil, err
	}
	res.DatasetHash = f.Hash()
	res.Timings["load"] = since(start)
	log.Info("loaded dataset", "path", cfg.Data, "rows", f.NumRows(), "columns", f.NumCols(), "hash", res.DatasetHash[:12])

	cfgJSON, _ := json.Marshal(cfg)
	rec := &store.Run{ID: res.RunID, Created: start.UTC(), Status: store.Running, DatasetPath: cfg.Data,
		DatasetHash: res.DatasetHash, ConfigHash: cfg.Hash(), Config: cfgJSON, Target: cfg.Target}
	if o.Runs != nil {
		if recs, ok := o.Runs.(store.Records); ok {
			stop := holdLease(ctx, recs, res.RunID, time.Duration(cfg.RunLease), log)
			defer stop() // after the final PutRun below: never running without a lease
		}
		if err := o.Runs.PutRun(ctx, rec); err != nil {
			return nil, err
		}
		defer func() {
			rec.Finished = time.Now().UTC()
			if err != nil {
				rec.Status, rec.Error = store.Failed, err.Error()
				if res != nil && res.Best != "" {
					rec.Best, rec.ModelPath = res.Best, res.ModelPath
					rec.Result, _ = json.Marshal(res)
				}
			} else {
				rec.Status, rec.Best, rec.ModelPath = store.Succeeded, res.Best, res.ModelPath
				rec.Result, _ = json.Marshal(res)
			}
			if perr := o.Runs.PutRun(context.WithoutCancel(ctx), rec); perr != nil && err == nil {
				err = perr
			}
		}()
	}

	p, err := prepare(f, cfg, log)
	if err != nil {
		return nil, err
	}
	rec.Task, p.dataset = string(p.task), res.DatasetHash
	p.families, p.log = o.Families, log
	if o.Cache != nil {
		if o.CodeVersion == "" {
			return nil, errors.New("pipeline: Options.Cache needs Options.CodeVersion")
		}
		p.cache, p.code, p.pngCache = o.Cache, o.CodeVersion, o.Cache.Sibling()
		defer func() {
			if res != nil {
				st := o.Cache.Stats()
				res.Cache = &st
			}
		}()
	}
	res.Task, res.Classes, res.Split = p.task, p.classes, p.split
	res.TrainRows, res.TestRows, res.CVFolds = len(p.train), len(p.test), len(p.folds)
	res.Metric = primaryMetric(p.task)
	log.Info("split", "method", p.split, "train", len(p.train), "test", len(p.test), "cv_folds", len(p.folds), "task", p.task)

	stages, warnings := advancedStages(cfg, targetColumn, p.horizon(cfg))
	if len(stages) > 0 {
		var fallbacks []string
		p.chain, res.Stages, fallbacks = trialFit(ctx, stages, p, log)
		res.Fallbacks = fallbacks
		warnings = append(warnings, fallbacks...)
		log.Info("advanced features", "stages", res.Stages)
	}
	names, more, err := candidates(cfg, o.Families, p.task)
	warnings = append(warnings, more...)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, warnings...)
	for _, w := range warnings {
		log.Warn(w)
	}

	fitted := make(map[string]*Predictor, len(names))
	schema := schemaOf(p.x)
	cands := variants(names, p.chain, cfg.CompareBasicFeatures)
	byLabel := make(map[string]candidate, len(cands))
	for _, c := range cands {
		byLabel[c.label] = c
	}
	for ci, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		q := *p
		q.chain, q.variant = c.chain, strings.TrimPrefix(c.label, c.family)
		for _, c := range cands {
			q.pending = append(q.pending, c.family)
		}
		q.pendingAt = ci
		if p.cache != nil {
			p.candKeys = append(p.candKeys, q.candidateKey(cfg, c.family))
		}
		entry, pred, err := q.cachedCandidate(ctx, cfg, c.family, func() (Entry, *Predictor, error) {
			return runCandidate(ctx, cfg, o, &q, c.family, ci, len(cands))
		})
		entry.Model = c.label
		res.Timings["candidate:"+c.label] = since(t0)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			log.Warn("candidate failed", "model", c.label, "err", err)
			entry = Entry{Model: c.label, Error: err.Error()}
			res.Warnings = append(res.Warnings, fmt.Sprintf("model %s failed: %v", c.label, err))
		} else {
			pred.Schema, pred.RunID, pred.Dataset = schema, res.RunID, res.DatasetHash
			fitted[c.label] = pred
			log.Info("candidate done", "model", c.label, "cv_"+res.Metric, entry.CV[res.Metric], "test_"+res.Metric, entry.Test[res.Metric], "fit_seconds", round(entry.FitSeconds, 3))
		}
		res.Leaderboard = append(res.Leaderboard, entry)
	}
	if len(p.folds) > 0 {
		ens, ensPred, more := buildEnsembles(ctx, cfg, p, res.Leaderboard, fitted)
		res.Leaderboard, res.Warnings = append(res.Leaderboard, ens...), append(res.Warnings, more...)
		maps.Copy(fitted, ensPred)
	}
	rank(res.Leaderboard, res.Metric)
	preferSimplerEnsemble(res.Leaderboard, res.Metric, len(p.folds))
	if len(fitted) == 0 {
		return nil, fmt.Errorf("every candidate model failed (%s)", strings.Join(res.Warnings, "; "))
	}
	res.Best = res.Leaderboard[0].Model
	final := fitted[res.Best]
	gated := res.Leaderboard[0].Test
	if cfg.SegmentBy != "" {
		t0 := time.Now()
		final, res.SegmentModels, err = trainSegments(ctx, cfg, o, p, res.Leaderboard, byLabel, final, log)
		if err != nil {
			return nil, err
		}
		gated = res.SegmentModels.Routed
		res.Timings["segment_models"] = since(t0)
	}
	res.ModelPath = filepath.Join(cfg.Out, res.RunID, "model.tfm")
	if err := final.Save(res.ModelPath); err != nil {
		return nil, err
	}
	if cfg.SegmentColumn != "" {
		if res.Segments, err = segmentMetrics(p, cfg.SegmentColumn, res.Leaderboard[0].testPred); err != nil {
			return nil, err
		}
	}
	res.Gates = append(checkGates(cfg, p.task, gated), productionGates(cfg, p, res.Segments, final)...)
	if o.Cache != nil {
		st := o.Cache.Stats()
		res.Cache = &st
	}
	if err := reportRun(ctx, cfg, o, res, p, final, log); err != nil { // adds the rule gates
		return nil, err
	}
	res.Deployable = res.Gates.Passed()
	res.Timings["total"] = since(start)
	log.Info("saved best model", "model", res.Best, "path", res.ModelPath, "deployable", res.Deployable)
	if !res.Deployable {
		return res, &GateError{Model: res.Best, Failures: res.Gates.Failures()}
	}
	return res, nil
}

// Gate is one production quality check on the best model's test metrics.
type Gate struct {
	Name      string  `json:"name"`
	Metric    string  `json:"metric"`
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Passed    bool    `json:"passed"`
	// Max means Value must not exceed Threshold (latency); otherwise it
	// must reach it.
	Max bool `json:"max,omitempty"`
	// Detail, when set, describes the outcome in words (business rules)
	// and is what Failures reports.
	Detail string `json:"detail,omitempty"`
}

// Gates are the quality checks of a run.
type Gates []Gate

// Passed reports whether every gate passed.
func (g Gates) Passed() bool {
	for _, x := range g {
		if !x.Passed {
			return false
		}
	}
	return true
}

// Failures describes the failed gates.
func (g Gates) Failures() []string {
	var out []string
	for _, x := range g {
		if !x.Passed && x.Detail != "" {
			out = append(out, fmt.Sprintf("%s (%s): %s", x.Name, x.Metric, x.Detail))
		} else if !x.Passed {
			rel := "is below"
			if x.Max {
				rel = "exceeds"
			}
			out = append(out, fmt.Sprintf("%s: test %s %.4g %s %.4g", x.Name, x.Metric, x.Value, rel, x.Threshold))
		}
	}
	return out
}

// GateError reports a run whose best model failed the quality gates
// (force_production_quality). The model is saved but not deployable.
type GateError struct {
	Model    string
	Failures []string
}

func (e *GateError) Error() string {
	return fmt.Sprintf("quality gates failed for %s: %s", e.Model, strings.Join(e.Failures, "; "))
}

// checkGates applies min_r2_threshold and min_business_accuracy to a
// regression model's test metrics when force_production_quality is on.
// Classification has no gate of these kinds yet.
func checkGates(cfg *config.Config, task model.Task, test eval.Metrics) Gates {
	if !cfg.ForceProductionQuality || task != model.Regression {
		return nil
	}
	mk := func(name, metric string, thr float64) Gate {
		v := test[metric]
		return Gate{Name: name, Metric: metric, Threshold: thr, Value: v, Passed: v >= thr}
	}
	return Gates{
		mk("min_r2_threshold", "r2", cfg.MinR2Threshold),
		mk("min_business_accuracy", "within20", cfg.MinBusinessAccuracy),
	}
}

// prepare loads the target, the features frame and the split.
func prepare(f *frame.Frame, cfg *config.Config, log *slog.Logger) (*prepared, error) {
	if err := checkColumns(f, cfg); err != nil {
		return nil, err
	}
	tcol, _ := f.Lookup(cfg.Target)
	task, err := detectTask(tcol, string(cfg.Task))
	if err != nil {
		return nil, err
	}
	y, classes, err := codeTarget(tcol, task, cfg.PositiveClass)
	if err != nil {
		return nil, err
	}
	var kept []int
	for i, v := range y {
		if !math.IsNaN(v) {
			kept = append(kept, i)
		}
	}
	switch {
	case len(kept) == 0:
		return nil, fmt.Errorf("target column %q has no values (all %d rows missing)", cfg.Target, len(y))
	case len(kept) < len(y):
		log.Info("dropped rows with a missing target", "rows", len(y)-len(kept))
	}
	if task.IsClassification() {
		seen := map[float64]bool{}
		for _, i := range kept {
			seen[y[i]] = true
		}
		if len(seen) < 2 {
			return nil, fmt.Errorf("target column %q has a single class (%s): nothing to classify", cfg.Target, classes[int(y[kept[0]])])
		}
	}
	x := f.Drop(append([]string{cfg.Target}, cfg.Drop...)...)
	if x.NumCols() == 0 {
		return nil, errors.New("no feature columns left after dropping the target and --drop columns")
	}
	p := &prepared{x: x.Take(kept), task: task, classes: classes, y: make([]float64, len(kept)), memo: &memo{}}
	for k, i := range kept {
		p.y[k] = y[i]
	}
	if err := p.splitRows(f, cfg, kept); err != nil {
		return nil, err
	}
	return p, nil
}

// splitRows fills train, test and folds. Row indices in a test-rows file
// refer to data rows of the file; rows without a target are skipped.
func (p *prepared) splitRows(f *frame.Frame, cfg *config.Config, kept []int) error {
	n := len(kept)
	var times []float64
	if cfg.TimeColumn != "" {
		t, err := timeKey(f, cfg.TimeColumn)
		if err != nil {
			return err
		}
		times = make([]float64, n)
		for k, i := range kept {
			times[k] = t[i]
		}
	}
	var h split.Holdout
	var err error
	switch {
	case cfg.TestRows != "":
		rows, rerr := split.ReadRowsFile(cfg.TestRows)
		if rerr != nil {
			return rerr
		}
		pos := make(map[int]int, n)
		for k, i := range kept {
			pos[i] = k
		}
		var test []int
		for _, r := range rows {
			if r < 0 || r >= f.NumRows() {
				return fmt.Errorf("test rows %s: row %d out of range [0, %d)", cfg.TestRows, r, f.NumRows())
			}
			if k, ok := pos[r]; ok {
				test = append(test, k)
			}
		}
		h, err = split.FromTestRows(n, test)
		p.split = "test rows from " + cfg.TestRows
	case cfg.AsOf != "":
		if times == nil {
			return errors.New("as_of needs a time_column")
		}
		cut, perr := config.ParseDate(cfg.AsOf)
		if perr != nil {
			return fmt.Errorf("as_of: %w", perr)
		}
		key, kerr := asOfKey(f, cfg.TimeColumn, kept, times, cut)
		if kerr != nil {
			return kerr
		}
		h, err = split.AsOf(times, key)
		p.split = "as of " + cfg.AsOf
	case times != nil:
		var cut float64
		h, cut, err = split.TemporalFraction(times, cfg.TestFraction)
		p.split = fmt.Sprintf("temporal: last %.0f%% by %s (test from %s)", 100*cfg.TestFraction, cfg.TimeColumn, describeTime(f, cfg.TimeColumn, kept, times, cut))
	case p.task.IsClassification():
		h, err = split.StratifiedRandom(intLabels(p.y), cfg.TestFraction, cfg.Seed)
		p.split = fmt.Sprintf("stratified random %.0f%% test", 100*cfg.TestFraction)
	default:
		h, err = split.Random(n, cfg.TestFraction, cfg.Seed)
		p.split = fmt.Sprintf("random %.0f%% test", 100*cfg.TestFraction)
	}
	if errors.Is(err, split.ErrEmptySide) && times != nil {
		return fmt.Errorf("split %s leaves no training or no test rows: the data's time runs from %s to %s",
			p.split, describeTime(f, cfg.TimeColumn, kept, times, slices.Min(times)), describeTime(f, cfg.TimeColumn, kept, times, slices.Max(times)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.split, err)
	}
	if len(h.Train) == 0 || len(h.Test) == 0 {
		return fmt.Errorf("split: %s leaves %d training and %d test rows", p.split, len(h.Train), len(h.Test))
	}
	p.train, p.test = h.Train, h.Test
	p.times = times
	if cfg.CVFolds < 2 {
		return nil
	}
	k := min(cfg.CVFolds, len(p.train))
	ytr := make([]float64, len(p.train))
	for i, r := range p.train {
		ytr[i] = p.y[r]
	}
	method := cfg.CV.Resolve(p.task.IsClassification())
	switch method {
	case config.CVKFold:
		p.folds, err = split.KFold(len(p.train), k, true, cfg.Seed)
	case config.CVStratified:
		p.folds, err = split.StratifiedKFold(intLabels(ytr), k, cfg.Seed)
	case config.CVTimeSeries:
		if times == nil {
			return errors.New("cv timeseries needs a time_column")
		}
		tt := make([]float64, len(p.train))
		for i, r := range p.train {
			tt[i] = times[r]
		}
		p.folds, err = split.TimeSeries(tt, k)
	default:
		return fmt.Errorf("cv: unknown method %q", method)
	}
	if err != nil {
		return fmt.Errorf("cross-validation folds: %w", err)
	}
	return nil
}

// timeKey returns an orderable time value per row. spec is one column or
// a comma-separated list (such as "Year_Sold,Mo_Sold") ordered
// lexicographically, for data that stores a date in parts.
func timeKey(f *frame.Frame, spec string) ([]float64, error) {
	names := strings.Split(spec, ",")
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := f.Lookup(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("time column %q not found", n)
		}
		if c.Kind == frame.Categorical {
			return nil, fmt.Errorf("time column %q is categorical; want a date or a number", n)
		}
		for r, v := range c.Num {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("time column %q: row %d is missing", n, r+1)
			}
		}
		cols[i] = c
	}
	if len(cols) == 1 {
		return cols[0].Num, nil
	}
	// Rank the tuples so that the key keeps their lexicographic order.
	order := make([]int, f.NumRows())
	for i := range order {
		order[i] = i
	}
	less := func(a, b int) int {
		for _, c := range cols {
			if c.Num[a] != c.Num[b] {
				if c.Num[a] < c.Num[b] {
					return -1
				}
				return 1
			}
		}
		return 0
	}
	slices.SortStableFunc(order, less)
	key := make([]float64, len(order))
	rankv := 0.0
	for i, r := range order {
		if i > 0 && less(order[i-1], r) != 0 {
			rankv++
		}
		key[r] = rankv
	}
	return key, nil
}

// describeTime shows the raw time value(s) of the first row whose time
// key equals key, e.g. "2009-07-01" or "Year_Sold=2009 Mo_Sold=7".
func describeTime(f *frame.Frame, spec string, kept []int, keys []float64, key float64) string {
	row := -1
	for k, v := range keys {
		if v == key {
			row = kept[k]
			break
		}
	}
	if row < 0 {
		return strconv.FormatFloat(key, 'g', -1, 64)
	}
	var parts []string
	names := strings.Split(spec, ",")
	for _, n := range names {
		c, _ := f.Lookup(strings.TrimSpace(n))
		v := c.Num[row]
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if c.Kind == frame.Datetime {
			s = time.Unix(int64(v), 0).UTC().Format("2006-01-02")
		}
		if len(names) > 1 {
			s = c.Name + "=" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// detectTask resolves "auto": a categorical target is binary or
// multiclass by its number of levels, a numeric one is regression.
func detectTask(c *frame.Column, want string) (model.Task, error) {
	if want != "" && want != "auto" {
		t, err := model.ParseTask(want)
		if err != nil {
			return "", err
		}
		if t == model.Regression && c.Kind != frame.Numeric {
			for i := range c.Len() {
				if !c.IsMissing(i) {
					return "", fmt.Errorf("target column %q is not numeric (row %d is %q): regression needs a numeric target; use --task binary or multiclass", c.Name, i+1, c.Label(i))
				}
			}
		}
		return t, nil
	}
	switch c.Kind {
	case frame.Numeric:
		return model.Regression, nil
	case frame.Categorical:
		if len(c.Levels) <= 2 {
			return model.Binary, nil
		}
		return model.Multiclass, nil
	}
	return "", fmt.Errorf("target column %q is a %s column; cannot learn it", c.Name, c.Kind)
}

// codeTarget returns the target as float64 (NaN = missing) and, for
// classification, the class labels in index order. For binary tasks
// class 1 is the positive class: positive if given, else the usual
// positive label (yes, true, 1, ...) if present, else the rarer class.
func codeTarget(c *frame.Column, task model.Task, positive string) ([]float64, []string, error) {
	y := make([]float64, c.Len())
	if task == model.Regression {
		copy(y, c.Num)
		return y, nil, nil
	}
	labels := make([]string, c.Len())
	for i := range labels {
		if c.IsMissing(i) {
			continue
		}
		if c.Kind == frame.Categorical {
			labels[i] = c.Label(i)
		} else {
			labels[i] = strconv.FormatFloat(c.Num[i], 'g', -1, 64)
		}
	}
	counts := map[string]int{}
	for _, l := range labels {
		if l != "" {
			counts[l]++
		}
	}
	classes := make([]string, 0, len(counts))
	for l := range counts {
		classes = append(classes, l)
	}
	sort.Strings(classes)
	if task == model.Binary {
		if len(classes) > 2 {
			return nil, nil, fmt.Errorf("target column %q has %d classes; binary needs 2 (use --task multiclass)", c.Name, len(classes))
		}
		if len(classes) == 2 {
			pos, err := positiveClass(classes, counts, positive)
			if err != nil {
				return nil, nil, fmt.Errorf("target column %q: %w", c.Name, err)
			}
			if classes[0] == pos {
				classes[0], classes[1] = classes[1], classes[0]
			}
		}
	}
	index := make(map[string]float64, len(classes))
	for i, l := range classes {
		index[l] = float64(i)
	}
	for i, l := range labels {
		if l == "" {
			y[i] = math.NaN()
		} else {
			y[i] = index[l]
		}
	}
	return y, classes, nil
}

func positiveClass(classes []string, counts map[string]int, positive string) (string, error) {
	if positive != "" {
		if !slices.Contains(classes, positive) {
			return "", fmt.Errorf("positive class %q is not one of %v", positive, classes)
		}
		return positive, nil
	}
	for _, l := range classes {
		switch strings.ToLower(l) {
		case "yes", "true", "1", "positive", "pos", "bad", "churn", "default", "fraud":
			return l, nil
		}
	}
	if counts[classes[0]] < counts[classes[1]] {
		return classes[0], nil
	}
	return classes[1], nil
}

func intLabels(y []float64) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

// candidates resolves the configured model names to families that support
// task. A family named explicitly that cannot do the task is an error; a
// group member that cannot is skipped.
func candidates(cfg *config.Config, reg *model.Registry, task model.Task) ([]string, []string, error) {
	var names, warnings []string
	explicit := map[string]bool{}
	for _, n := range cfg.Models {
		explicit[n] = true
	}
	for _, n := range expandModels(cfg.Models) {
		fam, err := reg.Lookup(n)
		if err != nil {
			return nil, nil, fmt.Errorf("models: %w", err)
		}
		if !fam.Supports(task) {
			if explicit[n] {
				return nil, nil, fmt.Errorf("models: %s does not support %s tasks", n, task)
			}
			continue
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("models: none of %v supports %s tasks", cfg.Models, task)
	}
	return names, warnings, nil
}

func primaryMetric(t model.Task) string {
	switch t {
	case model.Binary:
		return "auc"
	case model.Multiclass:
		return "logloss"
	}
	return "r2"
}

// rank orders the leaderboard best first by the cross-validated metric,
// or the test metric when there was no cross-validation. Failed
// candidates go last. The test metric never picks the best model when CV
// ran: the holdout stays an honest estimate.
func rank(lb []Entry, metric string) {
	score := func(e Entry) float64 {
		v, ok := e.CV[metric]
		if !ok {
			v, ok = e.Test[metric]
		}
		if !ok || math.IsNaN(v) || e.Error != "" {
			return math.Inf(-1)
		}
		if !eval.Higher(metric) {
			return -v
		}
		return v
	}
	sort.SliceStable(lb, func(i, j int) bool { return score(lb[i]) > score(lb[j]) })
}

// dropNaN removes the metrics that came out NaN, such as the R² of a
// segment whose target is constant.
func dropNaN(m eval.Metrics) eval.Metrics {
	for key, v := range m {
		if math.IsNaN(v) {
			delete(m, key)
		}
	}
	return m
}

func schemaOf(x *frame.Frame) []Field {
	out := make([]Field, x.NumCols())
	for i, c := range x.Columns() {
		out[i] = Field{Name: c.Name, Kind: c.Kind}
	}
	return out
}

func newRunID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

func since(t time.Time) float64 { return round(time.Since(t).Seconds(), 4) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// schemaKinds converts the config's column kinds to frame kinds; the
// config has validated the names.
func schemaKinds(s map[string]config.ColumnKind) map[string]frame.Kind {
	if len(s) == 0 {
		return nil
	}
	out := make(map[string]frame.Kind, len(s))
	for col, k := range s {
		out[col], _ = frame.ParseKind(string(k))
	}
	return out
}

// segmentMetrics scores test predictions per value of the segment column,
// worst first by the task's primary metric. Metrics a segment is too small
// for (R² of one row, AUC of one class) are left out.
func segmentMetrics(p *prepared, column string, pred []float64) ([]SegmentMetrics, error) {
	col, ok := p.x.Lookup(column)
	if !ok {
		return nil, fmt.Errorf("segment column %q not found among the features", column)
	}
	k := len(pred) / len(p.test)
	groups := map[string][]int{} // segment label → positions in p.test
	var order []string
	for i, r := range p.test {
		label := SegmentLabel(col, r)
		if _, seen := groups[label]; !seen {
			order = append(order, label)
		}
		groups[label] = append(groups[label], i)
	}
	out := make([]SegmentMetrics, 0, len(order))
	for _, label := range order {
		idx := groups[label]
		y := make([]float64, len(idx))
		sp := make([]float64, 0, len(idx)*k)
		for j, i := range idx {
			y[j] = p.y[p.test[i]]
			sp = append(sp, pred[i*k:(i+1)*k]...)
		}
		m, err := taskMetrics(p.task, y, sp, len(p.classes))
		if err != nil {
			m = eval.Metrics{}
		}
		out = append(out, SegmentMetrics{Segment: label, Rows: len(idx), Test: dropNaN(m)})
	}
	metric := primaryMetric(p.task)
	if p.task == model.Regression {
		metric = "within20" // R² is unstable on small segments; business accuracy is not
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := out[i].Test[metric]
		b, bok := out[j].Test[metric]
		if aok != bok {
			return aok
		}
		if eval.Higher(metric) {
			return a < b
		}
		return a > b
	})
	return out, nil
}

// readOptions are how cfg's data file is read: its schema overrides and
// separator (validated with the config, so a bad one reads as detect).
func readOptions(cfg *config.Config) frame.ReadOptions {
	comma, _ := config.ParseSep(cfg.Sep)
	return frame.ReadOptions{Schema: schemaKinds(cfg.Schema), Comma: comma}
}

// checkColumns reports, in one error, every column the config names that
// the data lacks, so a user fixes them all in one go.
func checkColumns(f *frame.Frame, cfg *config.Config) error {
	var missing []string
	need := func(key, col string) {
		if _, ok := f.Lookup(col); !ok {
			missing = append(missing, fmt.Sprintf("%s %q", key, col))
		}
	}
	need("target", cfg.Target)
	for _, d := range cfg.Drop {
		need("drop", d)
	}
	if cfg.TimeColumn != "" {
		for _, c := range strings.Split(cfg.TimeColumn, ",") {
			need("time_column", strings.TrimSpace(c))
		}
	}
	if cfg.SegmentColumn != "" {
		need("segment_column", cfg.SegmentColumn)
	}
	if cfg.SegmentBy != "" {
		need("segment_by", cfg.SegmentBy)
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%d column(s) not found in the data: %s (columns: %s)", len(missing), strings.Join(missing, ", "), strings.Join(f.Names(), ", "))
}

// checkWritable makes sure the model directory can be written before any
// training, so an unwritable --out fails in milliseconds, not after the
// whole run.
func checkWritable(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// asOfKey turns an as-of date into a cutoff on the time key. A single
// datetime column is compared in Unix seconds; numeric time parts (one
// column such as a year, or several ordered lexicographically such as
// Year_Sold,Mo_Sold) are compared, as a tuple, with the date's (year,
// month, day), and the cutoff is the key of the first time at or after it.
func asOfKey(f *frame.Frame, spec string, kept []int, keys []float64, cut time.Time) (float64, error) {
	names := strings.Split(spec, ",")
	first, _ := f.Lookup(strings.TrimSpace(names[0]))
	if len(names) == 1 && first.Kind == frame.Datetime {
		return float64(cut.Unix()), nil
	}
	if len(names) > 3 {
		return 0, fmt.Errorf("as_of with %d time columns: want a date column or at most 3 numeric parts (year, month, day)", len(names))
	}
	parts := []float64{float64(cut.Year()), float64(cut.Month()), float64(cut.Day())}[:len(names)]
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, _ := f.Lookup(strings.TrimSpace(n))
		if c.Kind != frame.Numeric {
			return 0, fmt.Errorf("as_of with time columns %s: %q is not numeric; give one date column or numeric year, month, day parts", spec, c.Name)
		}
		cols[i] = c
	}
	key := math.Inf(1)
	for k, r := range kept {
		atOrAfter := true
		for i, c := range cols {
			if c.Num[r] != parts[i] {
				atOrAfter = c.Num[r] > parts[i]
				break
			}
		}
		if atOrAfter && keys[k] < key {
			key = keys[k]
		}
	}
	return key, nil
}
