package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/split"
)

// A KnowledgeRecorder learns from finished experiments: package meta
// keeps each dataset's meta-features and every configuration evaluated
// on it, so that later runs can start from what worked on similar data.
// The pipeline calls it once per run, after the candidates and ensembles
// are scored; an error is logged as a warning and never fails the run.
type KnowledgeRecorder interface {
	RecordExperiment(ctx context.Context, e *Experiment) error
}

// Experiment is what one run learnt: the table it trained on and every
// configuration it evaluated there.
type Experiment struct {
	RunID   string
	Dataset string // content hash of the data file
	// Name is the data file's path, for people reading the knowledge base.
	Name   string
	Target string
	// Split identifies the training rows whose CV folds scored the
	// Evaluations (SplitID).
	Split string
	// Table is the run's training rows as it coded them (TrainingPart):
	// the table it asks its MetaAdvisor about, so the meta-features
	// recorded for the dataset describe what a later run's query on the
	// same file describes.
	Table *TrainingTable
	// Metric is the CV metric of the scores, HigherIsBetter its direction.
	Metric         string
	HigherIsBetter bool
	// Stages are the advanced feature stages of the "+adv" variant.
	Stages      []string
	Evaluations []Evaluation
}

// Sources of an Evaluation.
const (
	SourceTrial     = "trial"     // a tuning trial
	SourceCandidate = "candidate" // an untuned candidate (its family defaults and model_params)
	SourceEnsemble  = "ensemble"  // an ensemble of candidates
)

// Evaluation is one configuration's cross-validated score.
type Evaluation struct {
	Family  string `json:"family"`
	Variant string `json:"variant,omitempty"` // "" basic features, AdvancedSuffix advanced
	// Params are the parameters the family's learner was built from
	// (model.Family.New); empty means the family defaults.
	Params map[string]any `json:"params,omitempty"`
	Source string         `json:"source"`
	// Score is the mean CV metric, FoldScores the metric per fold (NaN:
	// not scored on that fold).
	Score      float64   `json:"score"`
	FoldScores []float64 `json:"fold_scores,omitempty"`
	// Seconds is the wall time of the evaluation: a trial's CV, or a
	// candidate's CV and final fit.
	Seconds float64 `json:"seconds"`
	Study   string  `json:"study,omitempty"`
	Trial   int     `json:"trial,omitempty"`
}

// TrainingTable is a dataset as training sees it: the feature columns and
// the coded target of the rows whose target is present.
type TrainingTable struct {
	X *frame.Frame
	// Y is the target: the value for regression, the class index for
	// classification.
	Y       []float64
	Task    model.Task
	Classes []string // class labels in index order; nil for regression
}

// LoadTrainingTable codes f's target as a run of cfg would (cfg.Task,
// cfg.PositiveClass), drops the rows without one (and, with a
// cfg.TimeColumn, those without a time), and the target and cfg.Drop
// columns from the features.
func LoadTrainingTable(f *frame.Frame, cfg *config.Config) (*TrainingTable, error) {
	t, _, _, err := trainingTable(f, cfg)
	return t, err
}

// trainingTable is LoadTrainingTable that also returns the kept rows'
// positions in f and, with a time column, their time keys (timeKey).
func trainingTable(f *frame.Frame, cfg *config.Config) (*TrainingTable, []int, []float64, error) {
	tcol, ok := f.Lookup(cfg.Target)
	if !ok {
		return nil, nil, nil, fmt.Errorf("target column %q not found in the data", cfg.Target)
	}
	task, err := DetectTask(tcol, string(cfg.Task))
	if err != nil {
		return nil, nil, nil, err
	}
	y, classes, err := codeTarget(tcol, task, cfg.PositiveClass)
	if err != nil {
		return nil, nil, nil, err
	}
	// A row without a time cannot be placed before or after the others:
	// it can be neither in a time-ordered fold nor in the latest period.
	var times []float64
	if cfg.TimeColumn != "" {
		if times, err = timeKey(f, cfg.TimeColumn); err != nil {
			return nil, nil, nil, err
		}
	}
	var kept []int
	for i, v := range y {
		if !math.IsNaN(v) && (times == nil || !math.IsNaN(times[i])) {
			kept = append(kept, i)
		}
	}
	if len(kept) == 0 {
		if times != nil {
			why := ""
			if !slices.ContainsFunc(times, func(v float64) bool { return !math.IsNaN(v) }) {
				// Rather than leave the user to check the target.
				why = fmt.Sprintf(": the time column %s is missing on every row", cfg.TimeColumn)
			}
			return nil, nil, nil, fmt.Errorf("no row has both a target (%q) and a time (%q)%s", cfg.Target, cfg.TimeColumn, why)
		}
		return nil, nil, nil, fmt.Errorf("target column %q has no values (all %d rows missing)", cfg.Target, len(y))
	}
	x := f.Drop(append([]string{cfg.Target}, cfg.Drop...)...)
	t := &TrainingTable{X: x.Take(kept), Task: task, Classes: classes, Y: make([]float64, len(kept))}
	for k, i := range kept {
		t.Y[k] = y[i]
	}
	if times != nil {
		times = split.Take(times, kept)
	}
	if !slices.ContainsFunc(t.Y, func(v float64) bool { return v != t.Y[0] }) {
		if t.Task.IsClassification() {
			return nil, nil, nil, fmt.Errorf("target column %q has a single class (%s): nothing to classify", cfg.Target, t.Classes[int(t.Y[0])])
		}
		// Every model predicts it exactly: the run scored R² 1 on every
		// fold and on the test rows, and saved a model of a constant.
		return nil, nil, nil, fmt.Errorf("target column %q holds a single value (%s) on every row with a target: nothing to learn",
			cfg.Target, frame.NumberLabel(t.Y[0]))
	}
	return t, kept, times, nil
}

// knowledge tells Options.Knowledge the run's evaluations: every tuning
// trial, each candidate whose configuration no trial of this run covers
// (untuned, or tuned in an earlier run and cached), and the ensembles.
func (r *trainRun) knowledge(ctx context.Context) error {
	if r.o.Knowledge == nil {
		return nil
	}
	e := &Experiment{RunID: r.res.RunID, Dataset: r.res.DatasetHash, Name: r.cfg.Data, Target: r.cfg.Target,
		Split: r.p.splitID(), Table: r.p.trainingPart(),
		Metric: r.res.Metric, HigherIsBetter: eval.Higher(r.res.Metric), Stages: r.res.Stages,
		Evaluations: r.p.memo.loggedTrials()}
	tried := map[string]bool{}
	for _, ev := range e.Evaluations {
		tried[ev.Family+ev.Variant] = true
	}
	for _, en := range r.res.Leaderboard {
		score, ok := en.CV[r.res.Metric]
		if en.Error != "" || !ok || tried[en.Model] {
			continue
		}
		ev := Evaluation{Family: en.Model, Score: score, FoldScores: slices.Clone(en.foldScores), Seconds: r.res.Timings["candidate:"+en.Model], Source: SourceEnsemble, Params: en.Params}
		if c, isCand := r.byLabel[en.Model]; isCand {
			ev.Family, ev.Variant, ev.Source, ev.Params = c.family, en.Model[len(c.family):], SourceCandidate, familyParams(r.cfg, c.family, r.p.task, len(r.p.train))
			// The target transform was chosen by CV, not configured. A
			// trend names this table's time features, which another table
			// lacks, so it is not carried to configurations others reuse.
			if t, ok := en.Params[model.TargetTransformKey]; ok && t != model.TargetTrend {
				if ev.Params == nil {
					ev.Params = map[string]any{}
				}
				ev.Params[model.TargetTransformKey] = t
			}
		}
		e.Evaluations = append(e.Evaluations, ev)
	}
	if err := r.o.Knowledge.RecordExperiment(ctx, e); err != nil {
		r.warn(fmt.Sprintf("knowledge base not updated: %v", err))
	}
	return nil
}

// foldScores is metric per fold, NaN where a fold lacks it.
func foldScores(folds []eval.Metrics, metric string) []float64 {
	out := make([]float64, len(folds))
	for i, m := range folds {
		if v, ok := m[metric]; ok {
			out[i] = v
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

// TrainingPart returns the rows a run of cfg on f trains on: its
// training table (LoadTrainingTable) less the holdout rows cfg's split
// sets aside (test_rows, as_of, the latest test_fraction by time_column,
// or a seeded random share). It is the table the run asks its
// MetaAdvisor about, so a knowledge base that records it for f describes
// what a query on f describes.
func TrainingPart(f *frame.Frame, cfg *config.Config) (*TrainingTable, error) {
	c := cfg.Clone()
	c.CVFolds = 0 // the holdout split alone; folds are not needed
	p, err := prepare(f, c, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return p.trainingPart(), nil
}

// SplitID identifies a split of the data file with content hash dataset
// by the file rows it trains on (trainRows, in any order): every CV fold
// holds only those rows, so two runs with one SplitID saw the same rows,
// and a run with another may have cross-validated on the other's test
// rows.
func SplitID(dataset string, trainRows []int) string {
	rows := slices.Sorted(slices.Values(trainRows))
	h := sha256.New()
	fmt.Fprintf(h, "split\n%s\n", dataset)
	var b [8]byte
	for _, i := range rows {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// splitID is SplitID of p's training rows, as rows of the data file.
func (p *prepared) splitID() string {
	rows := make([]int, len(p.train))
	for k, i := range p.train {
		rows[k] = i
		if p.kept != nil {
			rows[k] = p.kept[i]
		}
	}
	return SplitID(p.dataset, rows)
}

// trainingPart is p's training rows as a table: what the run's
// MetaAdvisor is asked about.
func (p *prepared) trainingPart() *TrainingTable {
	return &TrainingTable{X: p.x.Take(p.train), Y: split.Take(p.y, p.train), Task: p.task, Classes: p.classes}
}

// ReadTrainingPart reads cfg.Data as Train does (cfg's schema overrides
// and separator) and returns its training part (TrainingPart), the table
// a run of cfg asks its MetaAdvisor about, and the file's content hash.
func ReadTrainingPart(cfg *config.Config) (*TrainingTable, string, error) {
	f, err := frame.ReadFile(cfg.Data, ReadOptions(cfg))
	if err != nil {
		return nil, "", err
	}
	t, err := TrainingPart(f, cfg)
	if err != nil {
		return nil, "", err
	}
	return t, f.Hash(), nil
}
