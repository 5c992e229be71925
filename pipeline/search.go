package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// searcher is one candidate's study: everything its trials share.
type searcher struct {
	cfg      *config.Config
	o        Options
	p        *prepared
	fam      model.Family
	name     string
	spec     features.DesignSpec
	workers  int
	space    tune.Space
	defaults model.Learner
	sampler  tune.Sampler
	samplerN string
	budget   tune.Budget

	metric string
	dir    tune.Direction
	log    *slog.Logger

	mu        sync.Mutex
	chosen    map[int]choice // a batch's trials, by number, from Suggest to Evaluate
	best      float64        // best value so far (this run or a resumed one)
	bestOK    bool
	keepNum   int // the trial whose learner and CV are kept: the best of this run
	keepL     model.Learner
	keepCV    *cvResult
	longest   time.Duration
	fitBudget sync.Once // fits budgetedTPE's startup on the first trial
	// defaultsOf holds the numbers of an earlier run's defaults trial and
	// of its retries: a retry of one scores the defaults again.
	defaultsOf map[int]bool
}

// search runs one study and returns the best trial's learner and CV
// scores. Each trial reports the running mean CV metric after every fold,
// in fold order, so the pruner can stop it early.
//
// Trial 0 of a new study evaluates defaults, the family's default
// parameters (with model_params): a sane baseline that a short budget
// keeps, and a good point for TPE to start from. Before it come the
// starts of Options.Starts (by default the basic variant's best, for an
// advanced variant).
func search(ctx context.Context, cfg *config.Config, o Options, p *prepared, fam model.Family, name string, spec features.DesignSpec,
	workers int, space tune.Space, defaults model.Learner, sampler tune.Sampler, samplerName string, budget tune.Budget) (*tuned, error) {
	s := &searcher{cfg: cfg, o: o, p: p, fam: fam, name: name, spec: spec, workers: workers, space: space, defaults: defaults,
		sampler: sampler, samplerN: samplerName, budget: budget, metric: PrimaryMetric(p.task), dir: tune.Minimize, keepNum: -1}
	if eval.Higher(s.metric) {
		s.dir = tune.Maximize
	}
	storage := o.Studies
	if storage == nil {
		storage = &tune.Memory{}
	}
	studyID := studyName(p, cfg, name, samplerName)
	s.log = o.Logger.With("model", name, "study", studyID)
	// Under the claim's context: a process that stalled past its claim
	// while another took the study over stops instead of tuning beside it.
	ctx, release, err := claimStudy(ctx, storage, studyID, time.Duration(cfg.RunLease), s.log)
	if err != nil {
		return nil, fmt.Errorf("tune %s: %w", name, err)
	}
	defer release()
	study, err := tune.NewStudy(ctx, studyID, tune.Config{Direction: s.dir, Sampler: sampler, Seed: studySeed(cfg.Seed, p.variant),
		Pruner: pruner(cfg, len(p.folds)), Storage: storage, Progress: s.progress})
	if err != nil {
		return nil, err
	}
	before, warm, err := s.begin(ctx, study, storage)
	if err != nil {
		return nil, err
	}
	resumed := 0
	for _, t := range before {
		if t.State.Finished() && t.State != tune.Fail {
			resumed++
		}
	}
	if resumed > 0 {
		s.log.Info("resuming stored study", "finished_trials", resumed)
	}
	if bt, ok, err := study.Best(ctx); err != nil {
		return nil, err
	} else if ok {
		s.best, s.bestOK = bt.Value, true
	}
	start := time.Now()
	defer func() { p.memo.spend(time.Since(start)) }()
	fresh := len(before) == 0
	s.defaultsOf = defaultsTrials(before)
	batch := tuneBatch(ctx, cfg, p.exec)
	var res tune.Result
	if batch > 1 {
		s.log.Info("trials proposed in batches", "batch", batch)
		res, err = study.OptimizeBatch(ctx, s.batchObjective(fresh), budget, tune.Batch{Size: batch})
	} else {
		res, err = study.Optimize(ctx, func(ctx context.Context, t *tune.Trial) (float64, error) {
			l, params, err := s.choose(t, fresh)
			if err != nil {
				return 0, err
			}
			return s.evaluate(ctx, t, l, params)
		}, budget)
	}
	if lost := context.Cause(ctx); errors.Is(lost, store.ErrLeaseLost) {
		return nil, fmt.Errorf("tune %s: %w", name, lost)
	}
	if err != nil {
		return nil, fmt.Errorf("tune %s: %w", name, err)
	}
	info := &TuningInfo{Study: studyID, Batch: batch, Trials: res.Complete, Pruned: res.Pruned, Failed: res.Failed, Resumed: resumed, WarmStart: warm,
		Pruner: string(cfg.Pruner), Seconds: round(time.Since(start).Seconds(), 3), Stopped: string(res.Stopped),
		Budget: round(budget.MaxDuration.Seconds(), 3), LongestTrial: round(s.longest.Seconds(), 3)}
	return s.result(ctx, study, info)
}

// progress forwards the study's trial events with the best value so far.
func (s *searcher) progress(e progress.Event) {
	s.mu.Lock()
	m := map[string]float64{"value": e.Metrics["value"]}
	if s.bestOK {
		m["best"] = s.best
	}
	s.mu.Unlock()
	s.o.Progress.Emit(progress.Event{Stage: progress.TuneTrial, Name: s.name, Step: e.Step, Total: e.Total, Metrics: m})
}

// begin returns the study's trials from an earlier run; a new study is
// first given the starts of the run's StartSource, named in warm.
func (s *searcher) begin(ctx context.Context, study *tune.Study, storage tune.Storage) (before []tune.FrozenTrial, warm string, err error) {
	if before, err = study.Trials(ctx); err != nil || len(before) > 0 {
		return before, "", err
	}
	src := s.o.Starts
	if src == nil {
		src = BasicVariantStarts{}
	}
	basic := *s.p
	basic.variant = ""
	q := StartQuery{Family: s.name, Task: s.p.task, Dataset: s.p.dataset, Variant: s.p.variant, Sampler: s.samplerN,
		Space: s.space, Direction: s.dir, Storage: storage,
		BasicStudy: studyName(&basic, s.cfg, s.name, s.samplerN), Trials: s.budget.MaxTrials}
	starts, err := src.Starts(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("tune %s: starts: %w", s.name, err)
	}
	var from []string
	informed := false
	for _, st := range starts {
		err := study.Enqueue(ctx, st.Params, st.Distributions)
		if errors.Is(err, tune.ErrInvalidParams) {
			// A start from a damaged store or an older search space is
			// one suggestion less, not a failed family.
			s.log.Warn("warm start skipped", "from", st.From, "err", err)
			continue
		}
		if err != nil {
			return nil, "", err
		}
		from = append(from, st.From)
		informed = informed || st.Informed
	}
	if len(from) == 0 {
		return nil, "", nil
	}
	warm = strings.Join(from, ", ")
	s.log.Info("warm start", "from", warm)
	if b, ok := s.sampler.(*budgetedTPE); ok && informed {
		b.warmStart(len(from))
		s.log.Info("TPE startup after informed starts", "startup_trials", b.current().StartupTrials)
	}
	before, err = study.Trials(ctx)
	return before, warm, err
}

// defaultsTrials returns the numbers of the defaults trial among a
// study's trials (trial 0 with no parameters: a warm start's trial 0 has
// its start's) and of its retries, so that a run interrupted while it
// scored the defaults scores them when resumed, not a sample instead.
func defaultsTrials(trials []tune.FrozenTrial) map[int]bool {
	out := map[int]bool{}
	for _, t := range trials { // by number: a retry comes after what it retries
		if t.Number == 0 && t.RetryOf < 0 && len(t.Params) == 0 || t.RetryOf >= 0 && out[t.RetryOf] {
			out[t.Number] = true
		}
	}
	return out
}

// choose returns the trial's learner and parameters: the defaults for the
// first trial of a fresh study or a retry of it, else a sample of the
// space.
func (s *searcher) choose(t *tune.Trial, fresh bool) (model.Learner, map[string]any, error) {
	l, params := s.defaults, familyParams(s.cfg, s.name, s.p.task, len(s.p.train))
	if (t.Number() > 0 || !fresh) && !s.defaultsOf[t.RetryOf()] {
		var err error
		params = s.space.Sample(t)
		if l, err = trialLearner(s.fam, s.p.task, s.cfg.Seed, params); err != nil {
			return nil, nil, err
		}
	}
	return l, params, nil
}

// evaluate is the study's objective: the CV score of the trial's
// learner l with parameters params.
func (s *searcher) evaluate(ctx context.Context, t *tune.Trial, l model.Learner, params map[string]any) (float64, error) {
	t0 := time.Now()
	defer s.timeTrial(t0)
	pruned := false
	cv, err := crossValidate(ctx, l, s.spec, s.p, s.workers, func(step int, folds []eval.Metrics) error {
		if pruned {
			return tune.ErrPruned
		}
		v := meanOf(folds, s.metric)
		t.Report(v, step)
		if step < len(s.p.folds) && t.ShouldPrune() {
			pruned = true
			s.log.Info("trial pruned", "trial", t.Number(), "folds", step, "cv_"+s.metric, round(v, 6))
			return tune.ErrPruned
		}
		return nil
	})
	if cv != nil {
		s.recordUnits(ctx, t.Number(), cv.ran)
	}
	if err != nil {
		if errors.Is(err, tune.ErrPruned) {
			return 0, tune.ErrPruned
		}
		if errors.Is(err, ErrNoWorkers) {
			return 0, fmt.Errorf("%w: %w", tune.ErrAbort, err)
		}
		// The study records the trial as failed and goes on; the log
		// says why (a worker that died with its unit, say).
		if ctx.Err() == nil {
			s.log.Warn("trial failed", "trial", t.Number(), "err", err)
		}
		return 0, err
	}
	v, ok := cv.mean[s.metric]
	if !ok || math.IsNaN(v) {
		// The tuner names the trial; say why it cannot be scored.
		return 0, fmt.Errorf("CV %s is undefined (folds of one row or one class, or a diverged fit): use fewer cv_folds or more rows", s.metric)
	}
	s.mu.Lock()
	if !s.bestOK || (s.dir == tune.Maximize && v > s.best) || (s.dir == tune.Minimize && v < s.best) {
		s.best, s.bestOK = v, true
		s.keepNum, s.keepL, s.keepCV = t.Number(), l, cv
	}
	bv := s.best
	s.mu.Unlock()
	s.p.memo.logTrial(Evaluation{Family: s.name, Variant: s.p.variant, Params: params, Source: SourceTrial, Score: v,
		FoldScores: foldScores(cv.folds, s.metric), Seconds: round(time.Since(t0).Seconds(), 4), Study: studyName(s.p, s.cfg, s.name, s.samplerN), Trial: t.Number()})
	s.log.Info("trial done", "trial", t.Number(), "cv_"+s.metric, round(v, 6), "best", round(bv, 6),
		"seconds", round(time.Since(t0).Seconds(), 3), paramsGroup(t.Params()))
	return v, nil
}

// timeTrial records a trial's duration; the first one fits a budgeted
// TPE's startup trials to the time budget.
func (s *searcher) timeTrial(t0 time.Time) {
	d := time.Since(t0)
	s.mu.Lock()
	s.longest = max(s.longest, d)
	s.mu.Unlock()
	if b, ok := s.sampler.(*budgetedTPE); ok {
		s.fitBudget.Do(func() {
			if n, fitted := b.fit(s.budget.MaxDuration, d); fitted {
				s.log.Info("TPE startup fitted to the time budget", "startup_trials", n, "first_trial_seconds", round(d.Seconds(), 3))
			}
		})
	}
}

// result returns the study's best trial. When it ran in an earlier,
// interrupted run, its learner is rebuilt from the stored parameters and
// cross-validated again for its scores and out-of-fold predictions.
func (s *searcher) result(ctx context.Context, study *tune.Study, info *TuningInfo) (*tuned, error) {
	bestTrial, ok, err := study.Best(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("tune %s: %w", s.name, s.noTrial(ctx, study, tune.StopReason(info.Stopped)))
	}
	if s.keepNum == bestTrial.Number {
		return &tuned{learner: s.keepL, cv: s.keepCV, info: info}, nil
	}
	l := s.defaults
	if len(bestTrial.Params) > 0 {
		params, ok := s.space.Decode(bestTrial)
		if !ok { // a warm start's trial: its parameters as stored
			params = bestTrial.ParamValues()
		}
		l, err = trialLearner(s.fam, s.p.task, s.cfg.Seed, params)
	}
	if err != nil {
		return nil, fmt.Errorf("tune %s: stored best trial %d: %w", s.name, bestTrial.Number, err)
	}
	cv, err := crossValidate(ctx, l, s.spec, s.p, s.workers, nil)
	if err != nil {
		return nil, fmt.Errorf("tune %s: stored best trial %d: %w", s.name, bestTrial.Number, err)
	}
	return &tuned{learner: l, cv: cv, info: info}, nil
}

// noTrial explains a study without a completed trial, counting its
// pruned and failed trials over every run of it: a resumed study may
// have run none now. A trial interrupted by the deadline is stored as
// failed and retried, so the deadline is named first when it was hit.
func (s *searcher) noTrial(ctx context.Context, study *tune.Study, stopped tune.StopReason) error {
	e := &noTrialError{Stopped: stopped}
	trials, err := study.Trials(ctx)
	if err != nil {
		return fmt.Errorf("%w (trials unread: %w)", e, err)
	}
	for _, t := range trials {
		switch t.State {
		case tune.Pruned:
			e.Pruned++
		case tune.Fail:
			e.Failed++
		}
	}
	return e
}

// choice is a batch trial's learner and parameters, chosen in Suggest.
type choice struct {
	l      model.Learner
	params map[string]any
}

// batchObjective splits the study's objective for OptimizeBatch: every
// trial of a batch chooses its learner in turn, then they run together
// (their folds side by side on the executor).
func (s *searcher) batchObjective(fresh bool) tune.BatchObjective {
	return tune.BatchObjective{
		Suggest: func(t *tune.Trial) error {
			l, params, err := s.choose(t, fresh)
			if err != nil {
				return err
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.chosen == nil {
				s.chosen = map[int]choice{}
			}
			s.chosen[t.Number()] = choice{l, params}
			return nil
		},
		Evaluate: func(ctx context.Context, t *tune.Trial) (float64, error) {
			s.mu.Lock()
			c, ok := s.chosen[t.Number()]
			delete(s.chosen, t.Number())
			s.mu.Unlock()
			if !ok {
				return 0, fmt.Errorf("trial %d: no learner was chosen", t.Number())
			}
			return s.evaluate(ctx, t, c.l, c.params)
		},
	}
}

// tuneBatch is the number of trials a study proposes together: the
// config's tune_batch, or with 0 (auto) the executor's parallelism (the
// workers on a queue), 1 for the local executor.
func tuneBatch(ctx context.Context, cfg *config.Config, exec Executor) int {
	if cfg.TuneBatch > 0 {
		return cfg.TuneBatch
	}
	if p, ok := exec.(Parallel); ok {
		return max(1, p.Parallelism(ctx))
	}
	return 1
}

// recordUnits records where and how long the folds of a trial ran on a
// queue (Options.Studies must also be a store.Records), for studies show.
// Local runs record nothing: every fold ran in this process. A failed
// write is logged, never a failed trial.
func (s *searcher) recordUnits(ctx context.Context, number int, ran []UnitResult) {
	recs, ok := s.o.Studies.(store.Records)
	if !ok || s.p.exec == nil {
		return
	}
	var units []UnitRun
	for i, r := range ran {
		if r.Worker == "" {
			continue // the fold did not finish (pruned, failed)
		}
		units = append(units, UnitRun{Fold: i, Worker: r.Worker, QueuedMS: durationMS(r.Queued), RunMS: durationMS(r.Run)})
	}
	b, _ := json.Marshal(units)
	key := trialUnitsKey(studyName(s.p, s.cfg, s.name, s.samplerN), number)
	if err := recs.PutRecord(context.WithoutCancel(ctx), TrialUnitsKind, key, b); err != nil {
		s.log.Warn("recording where a trial's folds ran", "trial", number, "err", err)
	}
}
