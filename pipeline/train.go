package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/registry"
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
	// and unit keys, so that a changed build never reuses old results and
	// a worker of another build refuses the units. It must be set when
	// Cache is, and with an Executor whose workers run another process.
	CodeVersion string
	// Registrar registers the saved model as the last stage; nil leaves
	// the run unregistered.
	Registrar Registrar
	// Executor runs the units of work (cross-validation folds); nil runs
	// them in this process, as many at a time as the config's workers.
	Executor Executor
	// Starts supplies the configurations each new tuning study tries
	// first; nil means BasicVariantStarts.
	Starts StartSource
	// Knowledge is told every configuration the run evaluated, once the
	// candidates and ensembles are scored; nil tells no one.
	Knowledge KnowledgeRecorder
	// Meta advises the run from past experiments when the config's
	// meta_learning is on; nil means a cold start.
	Meta MetaAdvisor
	// Profile names the config profile cfg was loaded with
	// (config.Provenance.Profile); the run record keeps it so the
	// dashboard can show what the config changed from the profile's
	// defaults. "" records the profile as unknown.
	Profile string
	// Resume is the id of an interrupted run this one continues under
	// the same id, with the config ResumeConfig returns; "" starts a new
	// run.
	Resume string
}

// Entry is one candidate's line on the leaderboard.
type Entry struct {
	Model  string         `json:"model"`
	Params map[string]any `json:"params"`
	// ZeroShot says which configuration zero-shot meta-learning's CV
	// check kept: "knowledge base" (its first), "knowledge base
	// alternative N" or "static defaults"; empty without the check.
	ZeroShot string `json:"zero_shot,omitempty"`
	// ZeroShotChecked are the labels (as ZeroShot's) of the
	// configurations that check cross-validated: an alternative skipped
	// to keep the time budget, or one the learner refused, is not among
	// them. Nil without the check, and in records of builds before it.
	ZeroShotChecked []string     `json:"zero_shot_checked,omitempty"`
	CV              eval.Metrics `json:"cv"`
	CVStd           eval.Metrics `json:"cv_std,omitempty"`
	// CVFolds is the number of CV folds the entry was scored on, and
	// CVUndefined counts per metric those it was undefined on (the AUC
	// of a one-class fold, the R² of a constant target): its CV mean and
	// std are over the other folds, and it is absent from CV when
	// undefined on all (see eval.UndefinedText).
	CVFolds     int            `json:"cv_folds,omitempty"`
	CVUndefined map[string]int `json:"cv_undefined,omitempty"`
	// CVRanked is the primary metric's mean over Result.RankedFolds,
	// the score the leaderboard ranks by, when those are not all folds.
	CVRanked   *float64     `json:"cv_ranked,omitempty"`
	Test       eval.Metrics `json:"test"`
	FitSeconds float64      `json:"fit_seconds"`
	Error      string       `json:"error,omitempty"`
	// Tuning describes the hyperparameter search, when one ran.
	Tuning *TuningInfo `json:"tuning,omitempty"`
	// Budget says how family_budget cut the family's cost on large data:
	// a subsampled cross-validation, or the family stopped.
	Budget *BudgetInfo `json:"budget,omitempty"`
	// Cached is true when the entry came from the step cache.
	Cached bool `json:"cached,omitempty"`
	// Chosen says why this entry leads the leaderboard though another
	// has a better CV score (see choose).
	Chosen string `json:"chosen,omitempty"`
	// Ran says where an ensemble's unit ran when a worker ran it.
	Ran *WorkerRun `json:"ran,omitempty"`

	testPred []float64 // predictions on the test rows, for segment analysis
	// learner and spec fitted the entry's final model, for refit_all;
	// nil for an entry from the step cache or an ensemble.
	learner model.Learner
	spec    features.DesignSpec
	oof     []float64 // out-of-fold predictions on the training rows, for ensembles
	// foldKeys are the step cache keys of the CV folds oof comes from:
	// the step cache keeps oof in their entries only.
	foldKeys []string
	// foldScores is the primary metric per CV fold, NaN for a fold the
	// entry was not scored on (an ensemble's first time-series fold).
	foldScores []float64
	// foldLogLoss is the log-loss per CV fold of a classifier, NaN where
	// unscored, so that a tie-break by log-loss compares entries on the
	// folds they share as rank does.
	foldLogLoss []float64
}

// SegmentMetrics are the best model's test metrics on one segment.
type SegmentMetrics struct {
	Segment string       `json:"segment"`
	Rows    int          `json:"rows"`
	Test    eval.Metrics `json:"test"`
}

// Result is what a training run produced.
type Result struct {
	RunID       string     `json:"run_id"`
	DatasetHash string     `json:"dataset_hash"`
	Task        model.Task `json:"task"`
	Target      string     `json:"target"`
	Classes     []string   `json:"classes,omitempty"`
	Metric      string     `json:"metric"` // the metric the leaderboard is ranked by
	Split       string     `json:"split"`
	TrainRows   int        `json:"train_rows"`
	TestRows    int        `json:"test_rows"`
	CVFolds     int        `json:"cv_folds"`
	// CV says how the folds were made: the scheme, and for time-series
	// folds the time column and gap.
	CV string `json:"cv,omitempty"`
	// RankedFolds are the CV folds (from 1) the leaderboard is ranked on
	// when not every entry was scored on all of them: an ensemble under
	// time-series CV has no out-of-fold predictions to fit on for the
	// first fold. Each entry's CVRanked is its score there.
	RankedFolds []int              `json:"ranked_folds,omitempty"`
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
	// Meta is what meta-learning did when meta_learning is on: nearest
	// known datasets, configurations taken from the knowledge base, or
	// why the run started cold.
	Meta *MetaInfo `json:"meta,omitempty"`
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
	// RefitRows, when refit_all refitted the saved model, is the number
	// of rows it was refitted on (training and test rows), and
	// HoldoutModelPath the model as fitted on the training rows only, the
	// one the test metrics are of.
	RefitRows        int    `json:"refit_rows,omitempty"`
	HoldoutModelPath string `json:"holdout_model_path,omitempty"`
	// Report is the path of the run's HTML report ("" if not written).
	Report string `json:"report,omitempty"`
	// ModelVersion is the registered version of the saved model, when
	// Options.Registrar registered it; Registered has the details.
	ModelVersion string      `json:"model_version,omitempty"`
	Registered   *Registered `json:"-"`
}

// Registered is the registry's record of a run's model and whether this
// run created it (false: the same data, config, seed and code were
// registered before, and the run joined that version's lineage).
type Registered struct {
	Model   *registry.Model
	Created bool
}

// prepared is a loaded dataset ready for candidates: the features frame,
// coded target and split, in positions of the kept rows.
type prepared struct {
	// dir is where relative input paths of the config (test_rows) are
	// read from; "" is the working directory.
	dir     string
	x       *frame.Frame
	y       []float64
	task    model.Task
	classes []string
	train   []int
	test    []int
	folds   []split.Fold // positions into train
	// static is the run's config before zero-shot meta-learning replaced
	// families' parameters (nil when it did not): CV then checks the
	// knowledge base's guess against the static defaults.
	static *config.Config
	// metaAlternatives are per family the knowledge base's further
	// configurations zero-shot meta-learning cross-validates beside the
	// first (see zeroShotChecks).
	metaAlternatives map[string][]MetaConfig
	// foldTag names the folds in memo keys: "" for the run's folds, a
	// subsample's own tag for thinned copies (see subsampled).
	foldTag string
	split   string
	cv      string // how folds were made, e.g. "timeseries: 5 expanding-window folds ..."
	// warnings are what prepare logged that the run's result must say
	// too (rows left out for a missing time).
	warnings []string

	chain   features.Chain // advanced feature stages, fitted per fold
	dataset string         // the dataset hash
	table   string         // the training table within the dataset (see tableID)
	kept    []int          // the data file's row of each row of x
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
	exec     Executor // where fold units run; nil: Local
	// run and cfgHash name the run record a worker rebuilds fold units
	// from (see UnitRunner).
	run, cfgHash string
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

// PrimaryMetric is the metric the leaderboard ranks a task's models by:
// R² for regression, ROC AUC for binary, log-loss for multiclass.
func PrimaryMetric(t model.Task) string {
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
// ran: the holdout stays an honest estimate. When some entries were not
// scored on every fold (ensembles under time-series CV have no
// out-of-fold predictions to fit on for the first fold), all are compared
// on the folds they share.
func rank(lb []Entry, metric string) {
	common := commonFolds(lb)
	score := func(e Entry) float64 {
		v, ok := e.CV[metric]
		if !ok {
			v, ok = e.Test[metric]
		}
		if common != nil && len(e.foldScores) == len(common) {
			v, ok = meanOver(e.foldScores, common), true
		}
		if !ok || math.IsNaN(v) || e.Error != "" {
			return math.Inf(-1)
		}
		if !eval.Higher(metric) {
			return -v
		}
		return v
	}
	// A failed candidate goes below every fitted one, even one whose score
	// is undefined: the top entry is the model train saves.
	sort.SliceStable(lb, func(i, j int) bool {
		if fi, fj := lb[i].Error != "", lb[j].Error != ""; fi != fj {
			return fj
		}
		return score(lb[i]) > score(lb[j])
	})
}

// commonFolds marks the folds every scored entry has a score for, or
// returns nil when all entries were scored on all folds (or none on any).
func commonFolds(lb []Entry) []bool {
	var common []bool
	partial := false
	for _, e := range lb {
		if e.Error != "" || e.foldScores == nil {
			continue
		}
		if common == nil {
			common = make([]bool, len(e.foldScores))
			for i := range common {
				common[i] = true
			}
		}
		if len(e.foldScores) != len(common) {
			return nil
		}
		for i, v := range e.foldScores {
			if math.IsNaN(v) {
				common[i], partial = false, true
			}
		}
	}
	if !partial || !slices.Contains(common, true) {
		return nil
	}
	return common
}

// scoreOnCommonFolds sets CVRanked of every entry of lb scored on the
// folds all entries share, when those are not all folds, and returns
// them (from 1); nil when every entry was scored on every fold.
func scoreOnCommonFolds(lb []Entry) []int {
	common := commonFolds(lb)
	if common == nil {
		return nil
	}
	var folds []int
	for i, ok := range common {
		if ok {
			folds = append(folds, i+1)
		}
	}
	for i := range lb {
		if e := &lb[i]; e.Error == "" && len(e.foldScores) == len(common) {
			v := meanOver(e.foldScores, common)
			e.CVRanked = &v
		}
	}
	return folds
}

// meanOver is the mean of the scores of the marked folds.
func meanOver(scores []float64, marked []bool) float64 {
	sum, n := 0.0, 0
	for i, v := range scores {
		if marked[i] {
			sum += v
			n++
		}
	}
	return sum / float64(n)
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

// metricOrNaN returns m's value of key, NaN when m lacks it: a metric
// undefined on every CV fold is dropped from the CV means, and must not
// read as 0 (a plausible R²) in a log.
func metricOrNaN(m eval.Metrics, key string) float64 {
	if v, ok := m[key]; ok {
		return v
	}
	return math.NaN()
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
	metric := PrimaryMetric(p.task)
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
