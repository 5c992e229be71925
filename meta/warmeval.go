package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// WarmEvalOptions tune EvaluateWarmStart; the zero value is the
// documented default.
type WarmEvalOptions struct {
	Family string // the family tuned; "" means gbdt
	Trials int    // the trial budget of each study; 0 means 30
	// MaxRows caps the rows each dataset is tuned on; 0 means 2000.
	MaxRows int
	// Checkpoints are the trial counts the mean normalised best score is
	// reported at; nil means 5 and 10 where below Trials, and Trials.
	Checkpoints []int
	// Ranker orders the warm starts (Advisor.Ranker).
	Ranker string
	// Progress, if set, is called after each dataset with its row.
	Progress func(done, total int, row *WarmRow)
}

// WarmRow is one dataset's cold and warm studies.
type WarmRow struct {
	Name string `json:"name"`
	Far  bool   `json:"far"`
	// Cold and Warm are the best CV score after each trial.
	Cold, Warm []float64
	// Reach is the trials the warm study took to match the cold study's
	// best after the whole budget; 0 when it never did.
	Reach int `json:"reach"`
	// Err says why the dataset could not be tuned (it is left out).
	Err string `json:"error,omitempty"`
	// ColdAt and WarmAt are the normalised best scores at the report's
	// Checkpoints, whose means are ColdMean and WarmMean: they show which
	// datasets move a mean. Nil for a dataset left out of the means.
	ColdAt []float64 `json:"cold_at,omitempty"`
	WarmAt []float64 `json:"warm_at,omitempty"`
}

// WarmReport is EvaluateWarmStart's result.
type WarmReport struct {
	Trials int       `json:"trials"`
	Rows   []WarmRow `json:"datasets"`
	// Reached is the share of datasets where warm matched cold's best;
	// MedianReach the median trials it took among them.
	Reached     float64 `json:"reached"`
	MedianReach float64 `json:"median_reach"`
	// Checkpoints are trial counts; ColdMean and WarmMean the mean
	// normalised best score there (per dataset, 0 is the worst and 1 the
	// best score either study found).
	Checkpoints        []int     `json:"checkpoints"`
	ColdMean, WarmMean []float64 `json:"-"`
}

// EvaluateWarmStart tunes one family on each corpus dataset twice with
// the same seed and trial budget, through pipeline.Train: cold
// (meta_learning off) and warm (on, advised by kb without the dataset
// itself: leave-one-dataset-out). Datasets far from the rest start cold
// either way and are reported, not compared.
func EvaluateWarmStart(ctx context.Context, kb *KB, corpus []CorpusDataset, o WarmEvalOptions) (*WarmReport, error) {
	fam := cmpStr(o.Family, "gbdt")
	trials := cmpOr(o.Trials, 30)
	rep := &WarmReport{Trials: trials, Checkpoints: o.Checkpoints}
	if rep.Checkpoints == nil {
		rep.Checkpoints = defaultCheckpoints(trials)
	}
	tmp, err := os.MkdirTemp("", "tabforge-meta-eval")
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	defer os.RemoveAll(tmp)
	adv := Advisor{KB: kb, Ranker: o.Ranker, Surrogates: NewSurrogateCache()}
	for i, d := range corpus {
		row, err := warmOne(ctx, adv, d, fam, trials, cmpOr(o.MaxRows, 2000), tmp)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("meta: %w", ctx.Err())
		}
		if err != nil {
			row = &WarmRow{Name: filepath.Base(d.File), Err: err.Error()}
		}
		rep.Rows = append(rep.Rows, *row)
		if o.Progress != nil {
			o.Progress(i+1, len(corpus), row)
		}
	}
	rep.summarise()
	return rep, nil
}

func cmpStr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// warmOne runs the cold and warm studies of one dataset.
func warmOne(ctx context.Context, adv Advisor, d CorpusDataset, fam string, trials, maxRows int, tmp string) (*WarmRow, error) {
	f, err := frame.ReadFile(d.File, frame.ReadOptions{})
	if err != nil {
		return nil, err
	}
	adv.Exclude = DatasetKey(f.Hash(), d.Target)
	data := f
	if f.NumRows() > maxRows {
		rows := rand.New(rand.NewPCG(42, uint64(f.NumRows()))).Perm(f.NumRows())[:maxRows]
		slices.Sort(rows)
		data = f.Take(rows)
	}
	path := filepath.Join(tmp, filepath.Base(d.File))
	fh, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := frame.WriteCSV(fh, data); err != nil {
		fh.Close()
		return nil, err
	}
	if err := fh.Close(); err != nil {
		return nil, err
	}
	row := &WarmRow{Name: filepath.Base(d.File)}
	higher := true
	for _, warm := range []bool{false, true} {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.TimeColumn, cfg.PositiveClass = path, d.Target, d.TimeColumn, d.PositiveClass
		if d.Task != "" {
			cfg.Task = config.Task(d.Task)
		}
		cfg.Models, cfg.CVFolds, cfg.Out, cfg.Workers = []string{fam}, 3, filepath.Join(tmp, "out"), 1
		cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.Pruner, cfg.MetaLearning = true, trials, config.PrunerNone, warm
		cfg.ForceProductionQuality, cfg.EnsembleTopK = false, 1
		rec := &trialLog{}
		res, err := pipeline.Train(ctx, cfg, pipeline.Options{Knowledge: rec, Meta: adv})
		if err != nil {
			return nil, err
		}
		if warm && res.Meta != nil && res.Meta.Mode == pipeline.MetaColdStart {
			row.Far = true
		}
		curve, hi := rec.bestCurve(trials)
		higher = hi
		if warm {
			row.Warm = curve
		} else {
			row.Cold = curve
		}
	}
	if len(row.Cold) > 0 {
		target := row.Cold[len(row.Cold)-1]
		for i, v := range row.Warm {
			if (higher && v >= target) || (!higher && v <= target) {
				row.Reach = i + 1
				break
			}
		}
	}
	if !higher { // store curves as "higher is better" for the summary
		for i := range row.Cold {
			row.Cold[i] = -row.Cold[i]
		}
		for i := range row.Warm {
			row.Warm[i] = -row.Warm[i]
		}
	}
	return row, nil
}

// trialLog is a pipeline.KnowledgeRecorder that keeps a run's trials.
type trialLog struct {
	mu     sync.Mutex
	evals  []pipeline.Evaluation
	higher bool
}

func (l *trialLog) RecordExperiment(_ context.Context, e *pipeline.Experiment) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.higher = e.HigherIsBetter
	for _, ev := range e.Evaluations {
		if ev.Source == pipeline.SourceTrial && ev.Variant == "" {
			l.evals = append(l.evals, ev)
		}
	}
	return nil
}

// bestCurve is the best score after each of the first n trials, in trial
// order.
func (l *trialLog) bestCurve(n int) ([]float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.SliceStable(l.evals, func(i, j int) bool { return l.evals[i].Trial < l.evals[j].Trial })
	var out []float64
	best := math.NaN()
	for _, e := range l.evals {
		if len(out) == n {
			break
		}
		if better(e.Score, best, l.higher) {
			best = e.Score
		}
		out = append(out, best)
	}
	return out, l.higher
}

// defaultCheckpoints returns 5 and 10 where they fall below trials, then
// trials: a budget of 10 reports BEST@5 and BEST@10 once each, not a
// BEST@10 column twice, and one of 4 only BEST@4 rather than three
// columns clamped to the same trial.
func defaultCheckpoints(trials int) []int {
	var cs []int
	for _, c := range []int{5, 10} {
		if c < trials {
			cs = append(cs, c)
		}
	}
	return append(cs, trials)
}

// summarise fills the report's aggregates from its rows.
func (r *WarmReport) summarise() {
	var reach []float64
	compared := 0
	r.ColdMean, r.WarmMean = make([]float64, len(r.Checkpoints)), make([]float64, len(r.Checkpoints))
	for i := range r.Rows {
		row := &r.Rows[i]
		if row.Far || row.Err != "" || len(row.Cold) == 0 || len(row.Warm) == 0 {
			continue
		}
		compared++
		if row.Reach > 0 {
			reach = append(reach, float64(row.Reach))
		}
		lo := math.Min(row.Cold[0], row.Warm[0])
		hi := math.Max(row.Cold[len(row.Cold)-1], row.Warm[len(row.Warm)-1])
		row.ColdAt, row.WarmAt = make([]float64, len(r.Checkpoints)), make([]float64, len(r.Checkpoints))
		for k, c := range r.Checkpoints {
			at := func(curve []float64) float64 {
				v := curve[min(c, len(curve))-1]
				if hi > lo {
					return (v - lo) / (hi - lo)
				}
				return 1
			}
			row.ColdAt[k], row.WarmAt[k] = at(row.Cold), at(row.Warm)
			r.ColdMean[k] += row.ColdAt[k]
			r.WarmMean[k] += row.WarmAt[k]
		}
	}
	if compared == 0 {
		return
	}
	for k := range r.Checkpoints {
		r.ColdMean[k] /= float64(compared)
		r.WarmMean[k] /= float64(compared)
	}
	r.Reached = float64(len(reach)) / float64(compared)
	if len(reach) > 0 {
		sort.Float64s(reach)
		r.MedianReach = quantile(reach, 0.5)
	}
}
