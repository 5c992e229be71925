package meta

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

// CorpusDataset is one dataset of a build: a CSV file and how to train on
// it (the fields of a bench manifest row).
type CorpusDataset struct {
	File          string
	Target        string
	Task          string // "" or "auto" detects it
	TimeColumn    string
	PositiveClass string
}

// BuildOptions tune Build; the zero value is the documented default.
type BuildOptions struct {
	// MaxRows caps the rows the design is scored on (a seeded sample,
	// in file order); 0 means 2000. Meta-features read the whole file's
	// training part, as a train run on it is advised.
	MaxRows int
	// Folds is the CV folds per configuration; 0 means 3.
	Folds int
	// Jobs is how many datasets are scored at once; 0 means 2.
	Jobs int
	// Seed seeds the row samples, folds and learners; 0 means 42.
	Seed uint64
	// Done, if set, is called after each dataset (err nil when it was
	// recorded or skipped as already known), from one goroutine at a time.
	Done func(d CorpusDataset, skipped bool, err error)
	// Executor, if not nil, scores the datasets as units of kind
	// UnitKind, one per dataset (on tabforge workers with a
	// dist.Executor; see UnitRunner), instead of Jobs at a time here.
	Executor pipeline.Executor
	// CodeVersion is part of the units' keys, so that results a queue
	// keeps from another tabforge build are not reused.
	CodeVersion string
	// RefreshFeatures recomputes the meta-features of the datasets kb
	// already knows (on queryTable, as for a new one) and keeps their
	// evaluations: a knowledge base whose meta-features were computed
	// otherwise (on whole files, before) then describes its datasets as
	// queries do, without scoring its design again.
	RefreshFeatures bool
}

// BuildReport says what Build did.
type BuildReport struct {
	Scored, Skipped int
	// Refreshed counts the known datasets whose meta-features
	// BuildOptions.RefreshFeatures recomputed (scored or skipped too).
	Refreshed int
	// Failed maps each dataset that failed, "FILE (target T)", to its
	// error: one file may be several datasets of a manifest, and keyed
	// by file alone the errors overwrote each other and the count fell.
	Failed   map[string]string
	Warnings []string
	Seconds  float64
}

// add counts one dataset's outcome and passes it to done, if set.
func (rep *BuildReport) add(d CorpusDataset, skipped, refreshed bool, warnings []string, err error, done func(CorpusDataset, bool, error)) {
	if refreshed {
		rep.Refreshed++
	}
	switch {
	case err != nil:
		rep.Failed[d.File+" (target "+d.Target+")"] = err.Error()
	case skipped:
		rep.Skipped++
	default:
		rep.Scored++
	}
	for _, w := range warnings {
		rep.Warnings = append(rep.Warnings, filepath.Base(d.File)+": "+w)
	}
	if done != nil {
		done(d, skipped, err)
	}
}

// Build scores Design on every dataset of corpus and records each
// dataset's meta-features (of the file's training part, see queryTable)
// and evaluations in kb, o.Jobs datasets at a time. Only the design
// configurations kb lacks for a dataset (same content and target) are
// scored, and a dataset with none missing is skipped, so an interrupted
// build resumes where it stopped and a grown design scores only its new
// points; a dataset that fails is reported and the build goes on.
func Build(ctx context.Context, kb *KB, corpus []CorpusDataset, o BuildOptions) (*BuildReport, error) {
	t0 := time.Now()
	rep := &BuildReport{Failed: map[string]string{}}
	if o.Executor != nil {
		err := buildUnits(ctx, kb, corpus, o, rep)
		rep.Seconds = time.Since(t0).Seconds()
		return rep, err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmpOr(o.Jobs, 2))
	for _, d := range corpus {
		g.Go(func() error {
			skipped, refreshed, warnings, err := buildOne(gctx, kb, d, o)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			rep.add(d, skipped, refreshed, warnings, err, o.Done)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return rep, fmt.Errorf("meta: build: %w", err)
	}
	rep.Seconds = time.Since(t0).Seconds()
	return rep, nil
}

// buildOne scores the design configurations kb lacks on one dataset and
// records them, after refreshing its meta-features if o says so.
func buildOne(ctx context.Context, kb *KB, d CorpusDataset, o BuildOptions) (skipped, refreshed bool, warnings []string, err error) {
	f, missing, err := pending(ctx, kb, d, o)
	if err == nil && o.RefreshFeatures {
		refreshed, err = refreshFeatures(ctx, kb, f, d, o)
	}
	if err != nil || len(missing) == 0 {
		return err == nil, refreshed, nil, err
	}
	e, warnings, err := scoreDataset(ctx, f, d, o, missing)
	if err != nil {
		return false, refreshed, warnings, err
	}
	return false, refreshed, warnings, kb.RecordExperiment(ctx, e)
}

// refreshFeatures recomputes the meta-features of d (file f) on its
// queryTable when kb knows d, keeping the rest of its record; false when
// kb does not know it (recording its first experiment computes them).
func refreshFeatures(ctx context.Context, kb *KB, f *frame.Frame, d CorpusDataset, o BuildOptions) (bool, error) {
	rec, err := kb.Dataset(ctx, DatasetKey(f.Hash(), d.Target))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	t, err := queryTable(f, d, o)
	if err != nil {
		return false, err
	}
	if rec.Features, err = Compute(ctx, t, kb.Options); err != nil {
		return false, fmt.Errorf("meta-features: %w", err)
	}
	rec.Updated = kb.now()
	return true, kb.PutDataset(ctx, rec)
}

// pending reads d's file and returns the IDs of the design
// configurations kb holds no evaluation of on it (same content and
// target); none when the dataset is fully known.
func pending(ctx context.Context, kb *KB, d CorpusDataset, o BuildOptions) (f *frame.Frame, missing []string, err error) {
	if f, err = frame.ReadFile(d.File, frame.ReadOptions{}); err != nil {
		return nil, nil, err
	}
	full, err := pipeline.LoadTrainingTable(f, buildConfig(d, o))
	if err != nil {
		return nil, nil, err
	}
	evals, err := kb.Evals(ctx, DatasetKey(f.Hash(), d.Target))
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, e := range evals {
		have[e.ID] = true
	}
	for _, c := range Design(full.Task) {
		id, err := ConfigID(c.Family, "", nil, c.Params)
		if err != nil {
			return nil, nil, err
		}
		if !have[id] {
			missing = append(missing, id)
		}
	}
	return f, missing, nil
}

// buildConfig is the run configuration d's design is scored with.
func buildConfig(d CorpusDataset, o BuildOptions) *config.Config {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.PositiveClass = d.File, d.Target, d.TimeColumn, d.PositiveClass
	if d.Task != "" {
		cfg.Task = config.Task(d.Task)
	}
	cfg.CVFolds, cfg.Workers = cmpOr(o.Folds, 3), 1
	if o.Seed != 0 {
		cfg.Seed = o.Seed
	}
	return cfg
}

// queryTable is the table whose meta-features a build records for d (file
// f): the training part of the whole file, as a run of train on f with
// d's target, task and time column splits it (pipeline.TrainingPart),
// since that is what such a run asks the knowledge base about.
func queryTable(f *frame.Frame, d CorpusDataset, o BuildOptions) (*pipeline.TrainingTable, error) {
	t, err := pipeline.TrainingPart(f, buildConfig(d, o))
	if err != nil {
		return nil, fmt.Errorf("training part: %w", err)
	}
	return t, nil
}

// scoreDataset scores the design configurations with the IDs in want on
// f, the file of d, subsampled to o.MaxRows rows. The experiment's Table
// is the whole file's training part (queryTable).
func scoreDataset(ctx context.Context, f *frame.Frame, d CorpusDataset, o BuildOptions, want []string) (*pipeline.Experiment, []string, error) {
	cfg := buildConfig(d, o)
	full, err := queryTable(f, d, o)
	if err != nil {
		return nil, nil, err
	}
	var design []pipeline.FamilyConfig
	for _, c := range Design(full.Task) {
		id, err := ConfigID(c.Family, "", nil, c.Params)
		if err != nil {
			return nil, nil, err
		}
		if slices.Contains(want, id) {
			design = append(design, c)
		}
	}
	if len(design) != len(want) {
		return nil, nil, fmt.Errorf("%d of the %d configurations asked for are not in this build's design", len(want)-len(design), len(want))
	}
	sample := f
	if n := cmpOr(o.MaxRows, 2000); f.NumRows() > n {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(f.NumRows())))
		rows := rng.Perm(f.NumRows())[:n]
		slices.Sort(rows)
		sample = f.Take(rows)
	}
	e, warnings, err := pipeline.ScoreConfigs(ctx, sample, cfg, design, nil)
	if err != nil && cfg.TimeColumn != "" && ctx.Err() == nil {
		// Time-series folds fail on a sample whose times are too few or
		// too concentrated; shuffled folds still rank configurations.
		cfg.TimeColumn = ""
		warnings = append(warnings, fmt.Sprintf("time-series CV failed (%v); scored with shuffled folds", err))
		var more []string
		e, more, err = pipeline.ScoreConfigs(ctx, sample, cfg, design, nil)
		warnings = append(warnings, more...)
	}
	if err != nil {
		return nil, nil, err
	}
	e.Dataset, e.Name, e.Table = f.Hash(), filepath.Base(d.File), full
	if len(e.Evaluations) == 0 {
		return nil, warnings, fmt.Errorf("no configuration could be scored")
	}
	return e, warnings, nil
}
