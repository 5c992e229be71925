package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// Train runs the whole training pipeline for cfg: the stages of
// trainRun.stages in order, each timed (Result.Timings) and announced as
// a progress.Step event. A run that fails its quality gates returns its
// Result with a *GateError.
//
// A config built by hand is checked as config.Load checks one: before any
// data is read, Train refuses a nil config, one that fails
// config.Config.ValidateTrain, one naming a model family or group that
// Options.Families does not offer and, with a Registrar, one whose
// ModelName is not a valid registered name. The error lists every
// problem, each a *config.KeyError.
func Train(ctx context.Context, cfg *config.Config, o Options) (res *Result, err error) {
	if cfg == nil {
		return nil, errors.New("pipeline: train: nil config")
	}
	r := newTrainRun(cfg, o)
	defer func() {
		if p := recover(); p != nil {
			// A bug, not bad input: the run is recorded as failed, not
			// left "succeeded" by a nil err, and the panic goes on.
			r.finish(ctx, fmt.Errorf("internal error: %v", p))
			panic(p)
		}
		err = r.finish(ctx, err)
	}()
	// The stages run under the run's lease: lost to a process that took
	// it over while this one stalled, it cancels them.
	rctx, err := r.claim(ctx)
	if err != nil {
		return nil, err
	}
	stages := r.stages()
	for i, s := range stages {
		if rctx.Err() != nil {
			return nil, context.Cause(rctx)
		}
		r.noteStage(rctx, s.name, i, len(stages))
		r.o.Progress.Emit(progress.Event{Stage: progress.Step, Name: s.name, Step: i, Total: len(stages)})
		t0 := time.Now()
		if err := s.run(rctx); err != nil {
			return nil, err
		}
		r.res.Timings["stage:"+s.name] = since(t0)
	}
	r.o.Progress.Emit(progress.Event{Stage: progress.Step, Name: "done", Step: len(stages), Total: len(stages)})
	res = r.res
	res.Timings["total"] = since(r.start)
	r.log.Info("saved best model", "model", res.Best, "path", res.ModelPath, "deployable", res.Deployable)
	if !res.Deployable {
		return res, &GateError{Model: res.Best, Failures: res.Gates.Failures()}
	}
	return res, nil
}

// checkConfig is Train's check of cfg, so that a config built in code
// rather than by config.Load (which validates) fails at once with every
// *config.KeyError instead of deep in a stage or, for the name, after the
// whole run when the Registrar refuses it.
func checkConfig(cfg *config.Config, o Options) error {
	var errs []error
	if err := cfg.ValidateTrain(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.CheckModels(append(o.Families.Names(), ModelGroups()...)); err != nil {
		errs = append(errs, err)
	}
	if o.Registrar != nil {
		if err := registry.CheckName(ModelName(cfg)); err != nil {
			errs = append(errs, &config.KeyError{Key: "name", Err: err})
		}
	}
	return errors.Join(errs...)
}

// trainStage is one named step of Train. Where a stage can fail without
// failing the run, its fallback is written beside it in stages.
type trainStage struct {
	name string
	run  func(context.Context) error
}

// stages is the training flow in order.
func (r *trainRun) stages() []trainStage {
	return []trainStage{
		{"load", r.load},         // read the file; its content hash is the dataset version
		{"record", r.record},     // the run record (its lease is taken before load), when Options.Runs is set
		{"split", r.split},       // target coding, holdout and CV folds
		{"meta", r.metaLearn},    // meta_learning: zero-shot defaults or warm starts; far from known, a cold start
		{"features", r.features}, // advanced stages; a failing one falls back to the basic path
		{"candidates", r.candidates},
		// how the warm starts ranked in their studies
		{"meta outcomes", r.metaOutcomes},
		{"ensemble", r.ensemble},   // needs CV folds; skipped without them
		{"knowledge", r.knowledge}, // trials, candidates, ensembles to Options.Knowledge; a failure is a warning
		{"select", r.selectBest},   // rank, then per-segment routes when segment_by is set
		{"refit", r.refit},         // refit_all: the chosen model again on training and test rows
		{"save", r.save},
		{"evaluate", r.evaluate}, // holdout metrics per segment
		{"gates", r.gates},
		{"report", r.report}, // a failed analysis or report is a warning, never a failed run
		{"register", r.register},
	}
}

// trainRun is the state Train's stages hand to one another.
type trainRun struct {
	cfg   *config.Config
	o     Options
	start time.Time
	res   *Result
	log   *slog.Logger

	f       *frame.Frame
	rec     *store.Run
	lease   *store.Lease // the run's lease; nil without Options.Runs
	p       *prepared
	cands   []candidate
	byLabel map[string]candidate
	fitted  map[string]*Predictor
	final   *Predictor
	heldOut *Predictor   // final as fitted on the training rows, when refit replaced it
	gated   eval.Metrics // the metrics the gates judge

	metaStarts *metaStarts // a warm start's configurations; nil: none
	// dir is where the config's relative input paths are read from: the
	// resumed run's recorded directory; "" is the working directory.
	dir string
}

func newTrainRun(cfg *config.Config, o Options) *trainRun {
	start := time.Now()
	if o.Families == nil {
		o.Families = Families()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	id := o.Resume
	if id == "" {
		id = newRunID(start)
	}
	res := &Result{RunID: id, Target: cfg.Target, Timings: map[string]float64{}}
	return &trainRun{cfg: cfg, o: o, start: start, res: res, log: o.Logger.With("run", res.RunID)}
}

func (r *trainRun) load(ctx context.Context) error {
	if err := checkConfig(r.cfg, r.o); err != nil {
		return err
	}
	if err := checkWritable(r.cfg.Out); err != nil {
		return err
	}
	if err := CheckModelParams(r.cfg, r.o.Families); err != nil {
		return err
	}
	recorded := r.resumedHash(ctx)
	f, err := ReadRecorded(r.cfg.Data, ReadOptions(r.cfg), recorded)
	if err != nil {
		return err
	}
	r.f, r.res.DatasetHash = f, f.Hash()
	if recorded != "" && recorded != r.res.DatasetHash {
		// Under the run's id, trials and queued results of the old data
		// would be reused for the new.
		return fmt.Errorf("resume %s: %s is not the data the run read (hash %.12s, the run's %.12s): it changed since, or names another file", r.o.Resume, r.cfg.Data, r.res.DatasetHash, recorded)
	}
	if err := r.resumedInputs(ctx); err != nil {
		return err
	}
	r.res.Timings["load"] = since(r.start)
	r.warn(ReadWarnings(r.cfg.Data, f, ReadOptions(r.cfg))...)
	r.log.Info("loaded dataset", "path", r.cfg.Data, "rows", f.NumRows(), "columns", f.NumCols(), "hash", r.res.DatasetHash[:12])
	return nil
}

// resumedHash returns the dataset hash the resumed run recorded, or ""
// when not resuming or nothing was recorded (ResumeConfig read the
// record, so a failure to read it again is not this check's to report).
func (r *trainRun) resumedHash(ctx context.Context) string {
	if r.o.Resume == "" || r.o.Runs == nil {
		return ""
	}
	rec, err := r.o.Runs.GetRun(ctx, r.o.Resume)
	if err != nil {
		return ""
	}
	return rec.DatasetHash
}

// claim takes the run's lease when Options.Runs can hold one; finish
// releases it. The returned context is ctx, cancelled once the lease is
// lost.
func (r *trainRun) claim(ctx context.Context) (context.Context, error) {
	c, ok := r.o.Runs.(store.Claimer)
	if !ok {
		return ctx, nil
	}
	lctx, l, err := claimRun(ctx, c, r.res.RunID, time.Duration(r.cfg.RunLease), r.log)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.res.RunID, err)
	}
	r.lease = l
	return lctx, nil
}

// record writes the run as running; its lease, taken before, is held
// until finish writes the outcome.
func (r *trainRun) record(ctx context.Context) error {
	cfgJSON, _ := json.Marshal(r.cfg.Redacted())
	r.rec = &store.Run{ID: r.res.RunID, Created: r.start.UTC(), Status: store.Running, DatasetPath: AbsPath(r.cfg.Data),
		DatasetHash: r.res.DatasetHash, ConfigHash: r.cfg.Hash(), Config: cfgJSON, Target: r.cfg.Target, Profile: r.o.Profile}
	if r.o.Runs == nil {
		return nil
	}
	if err := r.o.Runs.PutRun(ctx, r.rec); err != nil {
		return err
	}
	return r.recordInputs(ctx)
}

// StageKind is the record kind of recorded runs' current stage: key the
// run id, value a StageNote as JSON. Train writes it as each stage starts
// and deletes it when the run ends, so a dashboard in another process
// can show where a running run is.
const StageKind = "run.stage"

// StageNote is a running run's current stage: Step of Total, by name.
type StageNote struct {
	Stage string `json:"stage"`
	Step  int    `json:"step"`
	Total int    `json:"total"`
}

// noteStage records the stage a recorded run is starting, under the
// run's lease if it has one: a stale holder leaves its successor's note.
// A failed write is a warning, never a failed run.
func (r *trainRun) noteStage(ctx context.Context, name string, step, total int) {
	recs, ok := r.o.Runs.(store.Records)
	if !ok || r.rec == nil {
		return
	}
	b, _ := json.Marshal(StageNote{Stage: name, Step: step, Total: total})
	var err error
	if sw, ok := recs.(store.Swapper); ok && r.lease != nil {
		err = store.PutRecordFenced(ctx, sw, StageKind, r.rec.ID, b, r.lease.Fence())
	} else {
		err = recs.PutRecord(ctx, StageKind, r.rec.ID, b)
	}
	if err != nil {
		r.log.Warn("run stage not recorded", "err", err)
	}
}

// dropStage deletes the stage note of a recorded run that ends, under
// the run's lease if it has one, so that a stale holder leaves its
// successor's note.
func (r *trainRun) dropStage(ctx context.Context) {
	recs, ok := r.o.Runs.(store.Records)
	if !ok || r.rec == nil {
		return
	}
	var err error
	if r.lease != nil {
		err = store.DeleteRecordFenced(ctx, recs, StageKind, r.rec.ID, r.lease.Fence())
	} else {
		err = recs.DeleteRecord(ctx, StageKind, r.rec.ID)
	}
	if err != nil && !errors.Is(err, store.ErrLeaseLost) {
		r.log.Warn("run stage note not removed", "err", err)
	}
}

// finish records the run's outcome, then releases its lease: a run is
// never shown running without one. A run whose lease was lost records
// nothing: the run record is the new holder's, and the outcome is
// written only while the lease holds the run's token (a takeover since
// the last renewal refuses it).
func (r *trainRun) finish(ctx context.Context, err error) error {
	if r.lease != nil {
		defer r.lease.Release()
		if lost := r.lease.Lost(); lost != nil {
			return fmt.Errorf("run %s stopped: %w", r.res.RunID, lost)
		}
	}
	defer r.dropStage(context.WithoutCancel(ctx))
	if r.o.Cache != nil {
		st := r.o.Cache.Stats()
		r.res.Cache = &st
	}
	if r.o.Runs == nil || r.rec == nil {
		return err
	}
	rec, res := r.rec, r.res
	rec.Finished = time.Now().UTC()
	res = recorded(res)
	if err != nil {
		rec.Status, rec.Error = store.Failed, err.Error()
		if ctx.Err() != nil {
			// Stopped from outside (Ctrl-C, SIGTERM, a caller's deadline),
			// not failed of itself: "context canceled" read as a fault,
			// and a resumable run belongs with the killed ones.
			rec.Status = store.Interrupted
			rec.Error = fmt.Sprintf("stopped: %v; the run can be resumed", context.Cause(ctx))
			err = &StoppedError{RunID: rec.ID, Cause: context.Cause(ctx), Err: err}
		}
		if res.Best != "" {
			rec.Best, rec.ModelPath = res.Best, res.ModelPath
			rec.Result, _ = json.Marshal(res)
		}
	} else {
		rec.Status, rec.Best, rec.ModelPath = store.Succeeded, res.Best, res.ModelPath
		rec.Result, _ = json.Marshal(res)
	}
	wctx := context.WithoutCancel(ctx)
	var perr error
	if r.lease != nil {
		// Fenced: a takeover since the last renewal leaves the record
		// to the successor.
		perr = store.PutRunFenced(wctx, r.o.Runs, rec, r.lease.Fence())
	} else {
		perr = r.o.Runs.PutRun(wctx, rec)
	}
	// A lost lease outranks the run's own error, unless that error is the
	// lost lease refusing an earlier write (the registration), which says
	// what was refused.
	if perr != nil && (err == nil || errors.Is(perr, store.ErrLeaseLost) && !errors.Is(err, store.ErrLeaseLost)) {
		return perr
	}
	return err
}

// recorded is res as the run record keeps it: with absolute file paths
// (see AbsPath).
func recorded(res *Result) *Result {
	c := *res
	for _, p := range []*string{&c.ModelPath, &c.HoldoutModelPath, &c.Report} {
		*p = AbsPath(*p)
	}
	return &c
}

// AbsPath is path made absolute, for the records other processes read
// (runs, registry versions, a model's lineage): a dashboard, a worker or
// a retrain started in another directory must find the same file. An
// empty path, or one that cannot be made absolute, comes back as is.
func AbsPath(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func (r *trainRun) split(context.Context) error {
	p, err := prepareIn(r.f, r.cfg, r.dir, r.log)
	if err != nil {
		return err
	}
	if r.rec != nil {
		r.rec.Task = string(p.task)
	}
	p.dataset, p.families, p.log, p.exec = r.res.DatasetHash, r.o.Families, r.log, r.o.Executor
	// The code version is part of every unit's key whether or not the
	// cache is on: a worker rebuilds the key with its own build's version,
	// and a unit of another build must not match (nor reuse its result).
	p.run, p.cfgHash, p.code = r.res.RunID, r.cfg.Hash(), r.o.CodeVersion
	if r.o.Cache != nil {
		if r.o.CodeVersion == "" {
			return errors.New("pipeline: Options.Cache needs Options.CodeVersion")
		}
		p.cache, p.pngCache = r.o.Cache, r.o.Cache.Sibling()
	}
	res := r.res
	res.Task, res.Classes, res.Split = p.task, p.classes, p.split
	res.TrainRows, res.TestRows, res.CVFolds, res.CV = len(p.train), len(p.test), len(p.folds), p.cv
	res.Metric = PrimaryMetric(p.task)
	// prepare has logged these; the result records them for --json and
	// the report.
	res.Warnings = append(res.Warnings, p.warnings...)
	r.p = p
	r.log.Info("split", "method", p.split, "train", len(p.train), "test", len(p.test), "cv", p.cv, "task", p.task)
	return nil
}

// features trial-fits the enabled advanced stages; one that fails is
// dropped with a warning and the run goes on with the rest (the basic
// path when none is left).
func (r *trainRun) features(ctx context.Context) error {
	stages, warnings := advancedStages(r.cfg, targetColumn, r.p.horizon(r.cfg))
	if len(stages) > 0 {
		var fallbacks []string
		r.p.chain, r.res.Stages, fallbacks = trialFit(ctx, stages, r.p)
		r.res.Fallbacks = fallbacks
		warnings = append(warnings, fallbacks...)
		r.log.Info("advanced features", "stages", r.res.Stages)
	}
	r.warn(warnings...)
	return nil
}

func (r *trainRun) warn(warnings ...string) {
	r.res.Warnings = append(r.res.Warnings, warnings...)
	for _, w := range warnings {
		r.log.Warn(w)
	}
}

// rankedFoldsWarning says on which folds (from 1, of n) the leaderboard
// is ranked and why not on the others: under time-ordered CV an ensemble
// has no out-of-fold predictions to fit on for the first fold, and on any
// fold the metric may be undefined for some model (an AUC on validation
// rows of one class). It gave the first reason alone, also under
// shuffled folds, where it never applies.
func rankedFoldsWarning(ranked []int, n int, timeOrdered bool, metric string) string {
	var used []string
	firstOut, otherOut := false, false
	for f := 1; f <= n; f++ {
		switch {
		case slices.Contains(ranked, f):
			used = append(used, strconv.Itoa(f))
		case f == 1 && timeOrdered:
			firstOut = true
		default:
			otherOut = true
		}
	}
	var why []string
	if firstOut {
		why = append(why, "an ensemble has no out-of-fold predictions to fit on for the first time-series fold")
	}
	if otherOut {
		why = append(why, fmt.Sprintf("on the others %s is undefined for some model, as on validation rows of a single class or a constant target", metric))
	}
	return fmt.Sprintf("models are ranked on CV folds %s, the ones every model was scored on (%s)", strings.Join(used, ", "), strings.Join(why, "; "))
}

// failures lists why each entry of lb failed, for the error of a run
// none of whose candidates was fitted: the run's other warnings (constant
// columns, feature stages skipped) said first, they buried the causes.
// Without a failed entry it falls back to the warnings.
func failures(lb []Entry, warnings []string) []string {
	var out []string
	for _, e := range lb {
		if e.Error != "" {
			out = append(out, fmt.Sprintf("%s: %s", e.Model, e.Error))
		}
	}
	if len(out) == 0 {
		return warnings
	}
	return out
}

// ensemble combines the fitted candidates on their out-of-fold
// predictions; without CV folds there are none to combine on.
func (r *trainRun) ensemble(ctx context.Context) error {
	if len(r.p.folds) == 0 {
		return nil
	}
	ens, ensPred, more := buildEnsembles(ctx, r.cfg, r.p, r.res.Leaderboard, r.fitted)
	r.res.Leaderboard, r.res.Warnings = append(r.res.Leaderboard, ens...), append(r.res.Warnings, more...)
	maps.Copy(r.fitted, ensPred)
	return nil
}

// selectBest ranks the leaderboard and takes its top model, routed per
// segment when segment_by is set.
func (r *trainRun) selectBest(ctx context.Context) error {
	res := r.res
	if res.RankedFolds = scoreOnCommonFolds(res.Leaderboard); res.RankedFolds != nil {
		r.warn(rankedFoldsWarning(res.RankedFolds, len(r.p.folds), r.p.timeOrderedCV(), res.Metric))
	}
	rank(res.Leaderboard, res.Metric)
	choose(res.Leaderboard, res.Metric, len(r.p.folds), r.p.timeOrderedCV())
	if len(r.fitted) == 0 {
		return fmt.Errorf("every candidate model failed (%s)", strings.Join(failures(res.Leaderboard, res.Warnings), "; "))
	}
	res.Best = res.Leaderboard[0].Model
	r.final, r.gated = r.fitted[res.Best], res.Leaderboard[0].Test
	if r.cfg.SegmentBy == "" {
		return nil
	}
	t0 := time.Now()
	var err error
	r.final, res.SegmentModels, err = trainSegments(ctx, r.cfg, r.o, r.p, res.Leaderboard, r.byLabel, r.final, r.log)
	if err != nil {
		return err
	}
	r.gated = res.SegmentModels.Routed
	res.Timings["segment_models"] = since(t0)
	return nil
}

// save writes the chosen predictor with its contract: holdout metrics
// and lineage beside the schema.
func (r *trainRun) save(context.Context) error {
	if !r.cfg.StripTrainingRows {
		bg, err := trainingBackground(r.p.x, r.p.train, r.final.Schema, r.cfg.Seed)
		if err != nil {
			return err
		}
		r.final.Background = bg
		if r.heldOut != nil {
			r.heldOut.Background = bg
		}
	}
	read := ReadOptions(r.cfg)
	r.final.Metrics, r.final.Missing, r.final.ColumnMissing = r.gated, read.Missing, read.ColumnMissing
	r.final.Lineage = Lineage{Name: ModelName(r.cfg), DataPath: AbsPath(r.cfg.Data), ConfigHash: r.cfg.Hash(), Trained: r.start.UTC().Truncate(time.Second)}
	r.res.ModelPath = filepath.Join(r.cfg.Out, r.res.RunID, ModelFile)
	if r.heldOut != nil {
		r.heldOut.Metrics, r.heldOut.Lineage = r.final.Metrics, r.final.Lineage
		r.heldOut.Missing, r.heldOut.ColumnMissing = r.final.Missing, r.final.ColumnMissing
		r.res.HoldoutModelPath = filepath.Join(r.cfg.Out, r.res.RunID, "model.holdout.tfm")
		if err := r.heldOut.Save(r.res.HoldoutModelPath); err != nil {
			return err
		}
	}
	return r.final.Save(r.res.ModelPath)
}

func (r *trainRun) evaluate(context.Context) error {
	if r.cfg.SegmentColumn == "" {
		return nil
	}
	var err error
	r.res.Segments, err = segmentMetrics(r.p, r.cfg.SegmentColumn, r.res.Leaderboard[0].testPred)
	return err
}

// gates judges the metric and production gates; the report adds the
// business-rule gates, and register records whether all passed.
func (r *trainRun) gates(context.Context) error {
	r.res.Gates = append(checkGates(r.cfg, r.p.task, r.gated), productionGates(r.cfg, r.p, r.res.Segments, r.final)...)
	if w := regressionOnlyGates(r.cfg, r.p.task); w != "" {
		r.warn(w)
	}
	return nil
}

func (r *trainRun) report(ctx context.Context) error {
	if r.o.Cache != nil {
		st := r.o.Cache.Stats()
		r.res.Cache = &st
	}
	// The report's test-row figures are of the model judged on them: the
	// fit on the training rows when refit_all refitted the saved one.
	judged := r.final
	if r.heldOut != nil {
		judged = r.heldOut
	}
	if err := reportRun(ctx, r.cfg, r.o, r.res, r.p, judged, r.log); err != nil {
		return err
	}
	r.res.Deployable = r.res.Gates.Passed()
	return nil
}

// register records the saved model as a version of its name through
// Options.Registrar, deployable or not, under the run's lease when it
// holds one; without a Registrar the run is not registered.
func (r *trainRun) register(ctx context.Context) error {
	if r.o.Registrar == nil {
		return nil
	}
	var fence *store.Fence
	if r.lease != nil {
		f := r.lease.Fence()
		fence = &f
	}
	m, created, err := r.o.Registrar.Register(ctx, r.cfg, r.res, fence)
	if err != nil {
		return err
	}
	r.res.ModelVersion, r.res.Registered = m.Version, &Registered{Model: m, Created: created}
	return nil
}
