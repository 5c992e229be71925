package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/cache"
)

// UnitRunner rebuilds units of work from their specs in a worker process
// and runs them. A fold spec names its run; the run's record holds the
// config and the dataset's path and content hash, so the worker repeats
// the driver's deterministic preparation (target coding, split, folds,
// feature stages) and fits the fold. The rebuilt unit's key must equal
// the key the driver sent: any difference (another build, another file
// at the path) is an error, never a silently different result.
//
// A UnitRunner keeps the prepared data of the runs it saw, so the folds
// of one run load the dataset once. It is safe for concurrent use.
type UnitRunner struct {
	// Runs holds the run records (the shared store).
	Runs store.Runs
	// Families builds learners; nil means Families().
	Families *model.Registry
	// Cache, if not nil, memoises folds in the shared store as the
	// driver's own cache does, for runs that have the cache on.
	Cache *cache.Cache
	// CodeVersion names this build; every unit key carries the driver's,
	// and a unit of another build is refused.
	CodeVersion string
	// Fetch, if not nil, returns a local path holding the dataset with
	// content hash hash, for a worker that cannot read the recorded path
	// (another machine). It is asked only when the recorded path is
	// missing or holds other data.
	Fetch func(ctx context.Context, hash, recordedPath string) (string, error)
	// Artifact, if not nil, returns the bytes a driver shared with
	// content hash hash (Sharer): the candidates' predictions an ensemble
	// unit combines. A worker without it runs no ensemble units.
	Artifact func(ctx context.Context, hash string) ([]byte, error)
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	mu   sync.Mutex
	runs map[runRef]*runEntry
}

type runEntry struct {
	once sync.Once
	p    *prepared
	cfg  *config.Config
	err  error
}

// Run rebuilds the unit of the given kind ("fold" or EnsembleUnitKind)
// from spec and runs it with workers threads, returning its result
// bytes.
func (u *UnitRunner) Run(ctx context.Context, key, kind string, spec json.RawMessage, workers int) ([]byte, error) {
	switch kind {
	case "fold":
		return u.runFold(ctx, key, spec, workers)
	case EnsembleUnitKind:
		return u.runEnsemble(ctx, key, spec)
	}
	return nil, fmt.Errorf("pipeline: unknown unit kind %q", kind)
}

// runFold rebuilds a fold unit from its spec and the run record and runs
// it.
func (u *UnitRunner) runFold(ctx context.Context, key string, spec json.RawMessage, workers int) ([]byte, error) {
	unit, err := u.rebuildFold(ctx, key, spec, workers)
	if err != nil {
		return nil, err
	}
	return unit.Run(ctx)
}

// rebuildFold rebuilds the fold unit spec describes and checks that it is
// the unit the driver sent as key: every check a worker makes before it
// fits anything.
func (u *UnitRunner) rebuildFold(ctx context.Context, key string, spec json.RawMessage, workers int) (Unit, error) {
	var fs foldSpec
	if err := json.Unmarshal(spec, &fs); err != nil {
		return Unit{}, fmt.Errorf("pipeline: fold spec: %w", err)
	}
	p, cfg, err := u.prepared(ctx, fs.runRef)
	if err != nil {
		return Unit{}, err
	}
	if fs.Fold < 0 || fs.Fold >= len(p.folds) {
		return Unit{}, fmt.Errorf("pipeline: fold %d of run %s: the run has %d folds", fs.Fold, fs.Run, len(p.folds))
	}
	thinned, err := p.rethin(fs.Thin, cfg.Seed)
	if err != nil {
		return Unit{}, fmt.Errorf("pipeline: fold %d of run %s: %w", fs.Fold+1, fs.Run, err)
	}
	q := *thinned
	if q.chain, err = rebuildChain(cfg, p, fs.Chain); err != nil {
		return Unit{}, err
	}
	if len(q.chain) > 0 {
		q.variant = AdvancedSuffix // the fold preprocessing memo tells the variants apart by it
	}
	l, err := decodeLearner(q.families, q.task, fs.Learner, fs.Params)
	if err != nil {
		return Unit{}, err
	}
	unit := q.foldUnit(l, fs.Design, fs.Fold, q.folds[fs.Fold], model.FitOptions{Workers: max(1, workers)})
	if unit.Key != key {
		return Unit{}, fmt.Errorf("pipeline: fold %d of run %s rebuilds to another unit than the driver sent (a different tabforge build or dataset file?)", fs.Fold+1, fs.Run)
	}
	return unit, nil
}

// rethin thins p's folds as the driver did for a unit whose fold tag is
// tag: a sequence of "budget<rows>:" (prepared.thinFolds) and
// "sub<rows>:" (prepared.subsampled) steps, each seeded with the run's
// seed.
func (p *prepared) rethin(tag string, seed uint64) (*prepared, error) {
	q := p
	for step := range strings.SplitSeq(strings.TrimSuffix(tag, ":"), ":") {
		if step == "" {
			continue
		}
		var n int
		switch {
		case strings.HasPrefix(step, "budget"):
			if _, err := fmt.Sscanf(step, "budget%d", &n); err != nil || n < 1 {
				return nil, fmt.Errorf("fold tag %q: step %q", tag, step)
			}
			q = q.thinFolds(n, seed)
		case strings.HasPrefix(step, "sub"):
			if _, err := fmt.Sscanf(step, "sub%d", &n); err != nil || n < 1 || n > len(q.train) {
				return nil, fmt.Errorf("fold tag %q: step %q", tag, step)
			}
			q, _ = q.subsampled(n, seed)
		default:
			return nil, fmt.Errorf("fold tag %q: unknown step %q", tag, step)
		}
	}
	if q.foldTag != tag {
		return nil, fmt.Errorf("fold tag %q rebuilds as %q", tag, q.foldTag)
	}
	return q, nil
}

// prepared returns the run's prepared data, loading it once. Runs are
// kept by the whole reference, so that a unit naming the run with
// another config or dataset hash is checked against the record too.
func (u *UnitRunner) prepared(ctx context.Context, fs runRef) (*prepared, *config.Config, error) {
	u.mu.Lock()
	if u.runs == nil {
		u.runs = map[runRef]*runEntry{}
	}
	e, ok := u.runs[fs]
	if !ok {
		e = &runEntry{}
		u.runs[fs] = e
	}
	u.mu.Unlock()
	e.once.Do(func() { e.p, e.cfg, e.err = u.load(ctx, fs) })
	if e.err != nil {
		u.mu.Lock()
		delete(u.runs, fs) // a later unit tries again (the store may have been down)
		u.mu.Unlock()
	}
	return e.p, e.cfg, e.err
}

// load reads the run's record, config and dataset and prepares them as
// the driver did.
func (u *UnitRunner) load(ctx context.Context, fs runRef) (*prepared, *config.Config, error) {
	log := u.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rec, err := u.Runs.GetRun(ctx, fs.Run)
	if errors.Is(err, store.ErrNotFound) {
		// The usual cause: a worker started with another --store (the
		// default is a path relative to its working directory).
		where := "this worker's store"
		if n, ok := u.Runs.(interface{ URL() string }); ok {
			where += " " + n.URL()
		}
		return nil, nil, fmt.Errorf("pipeline: run %s is not in %s: driver and workers must share one store (start the worker with the driver's --store): %w", fs.Run, where, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: run %s: %w", fs.Run, err)
	}
	if rec.ID != fs.Run {
		// GetRun takes a unique prefix; a driver names its run in full.
		return nil, nil, fmt.Errorf("pipeline: run %s is not a run id (a prefix of %s?)", fs.Run, rec.ID)
	}
	if rec.ConfigHash != fs.Config || rec.DatasetHash != fs.Dataset {
		return nil, nil, fmt.Errorf("pipeline: run %s records config %.12s and dataset %.12s; the unit wants %.12s and %.12s", fs.Run, rec.ConfigHash, rec.DatasetHash, fs.Config, fs.Dataset)
	}
	cfg := config.Default()
	if err := json.Unmarshal(rec.Config, cfg); err != nil {
		return nil, nil, fmt.Errorf("pipeline: config of run %s: %w", fs.Run, err)
	}
	if h := cfg.Hash(); h != fs.Config {
		return nil, nil, fmt.Errorf("pipeline: config of run %s decodes to hash %.12s, not %.12s (a different tabforge build?)", fs.Run, h, fs.Config)
	}
	f, err := u.dataset(ctx, rec, cfg)
	if err != nil {
		return nil, nil, err
	}
	p, err := prepareIn(f, cfg, u.inputsDir(ctx, rec.ID, log), log)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: run %s: %w", fs.Run, err)
	}
	p.dataset, p.run, p.cfgHash, p.log = fs.Dataset, fs.Run, fs.Config, log
	p.families = u.Families
	if p.families == nil {
		p.families = Families()
	}
	// Keys carry the code version whatever the cache setting, as the
	// driver's do; the cache is used only when the run itself has it on,
	// so that a run with cache off is computed afresh on every worker.
	p.code = u.CodeVersion
	if u.Cache != nil && cfg.Cache {
		p.cache = u.Cache
	}
	return p, cfg, nil
}

// inputsDir is where the worker reads the run's relative input paths
// (test_rows) from: the driver's directory when the files the run read
// are there unchanged (a worker on the driver's machine, started
// elsewhere), else "", the worker's working directory (another machine,
// with the project checked out). The unit's key tells whether what it
// read is what the driver read.
func (u *UnitRunner) inputsDir(ctx context.Context, run string, log *slog.Logger) string {
	in, err := runInputs(ctx, u.Runs, run)
	if err != nil || in == nil {
		return ""
	}
	if err := in.changed(); err != nil {
		log.Info("reading the run's input files from the working directory", "run", run, "reason", err)
		return ""
	}
	return in.Dir
}

// dataset reads the recorded dataset file, or the one Fetch provides,
// and checks its content hash.
func (u *UnitRunner) dataset(ctx context.Context, rec *store.Run, cfg *config.Config) (*frame.Frame, error) {
	f, err := ReadRecorded(rec.DatasetPath, ReadOptions(cfg), rec.DatasetHash)
	if err == nil && f.Hash() == rec.DatasetHash {
		return f, nil
	}
	if u.Fetch == nil {
		if err != nil {
			return nil, fmt.Errorf("pipeline: dataset of run %s: %w", rec.ID, err)
		}
		return nil, fmt.Errorf("pipeline: dataset of run %s: %s now holds other data (hash %.12s, not %.12s)", rec.ID, rec.DatasetPath, f.Hash(), rec.DatasetHash)
	}
	path, err := u.Fetch(ctx, rec.DatasetHash, rec.DatasetPath)
	if err != nil {
		return nil, fmt.Errorf("pipeline: dataset %.12s of run %s: %w", rec.DatasetHash, rec.ID, err)
	}
	if f, err = ReadRecorded(path, ReadOptions(cfg), rec.DatasetHash); err != nil {
		return nil, fmt.Errorf("pipeline: dataset of run %s: %w", rec.ID, err)
	}
	if f.Hash() != rec.DatasetHash {
		return nil, fmt.Errorf("pipeline: fetched dataset of run %s has hash %.12s, not %.12s", rec.ID, f.Hash(), rec.DatasetHash)
	}
	return f, nil
}

// rebuildChain picks the config's advanced feature stages named by ids
// (chainID of the unit's chain), in order.
func rebuildChain(cfg *config.Config, p *prepared, ids []string) (chain features.Chain, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	stages, _ := advancedStages(cfg, targetColumn, p.horizon(cfg))
	for _, s := range stages {
		if slices.Contains(ids, chainID(features.Chain{s.t})[0]) {
			chain = append(chain, s.t)
		}
	}
	if !slices.Equal(chainID(chain), ids) {
		return nil, fmt.Errorf("pipeline: feature stages %v cannot be rebuilt from the run's config", ids)
	}
	return chain, nil
}

// learnerType names a learner's Go type for a fold spec; a target
// transform's learner names its inner learner's type too, so that
// decodeLearner knows what to rebuild before reading the JSON.
func learnerType(l model.Learner) string {
	switch w := l.(type) {
	case *model.LogTargetLearner:
		return fmt.Sprintf("%T(%s)", w, learnerType(w.Inner))
	case *model.TrendLearner:
		return fmt.Sprintf("%T(%s)", w, learnerType(w.Inner))
	}
	return fmt.Sprintf("%T", l)
}

// decodeLearner rebuilds a learner from its type name (learnerType) and
// JSON encoding, as a fold spec carries them. The types are those of the
// registered families' learners for task; a target transform's learner
// wraps one of them. The rebuilt learner must encode to params again.
func decodeLearner(reg *model.Registry, task model.Task, typeName string, params json.RawMessage) (model.Learner, error) {
	for _, wrapper := range []model.Learner{&model.LogTargetLearner{}, &model.TrendLearner{}} {
		inner, ok := strings.CutPrefix(typeName, fmt.Sprintf("%T(", wrapper))
		if !ok || !strings.HasSuffix(inner, ")") {
			continue
		}
		var w struct {
			Features []string        `json:"trend_features"`
			Inner    json.RawMessage `json:"learner"`
		}
		if err := json.Unmarshal(params, &w); err != nil {
			return nil, fmt.Errorf("pipeline: %T: %w", wrapper, err)
		}
		l, err := decodeLearner(reg, task, strings.TrimSuffix(inner, ")"), w.Inner)
		if err != nil {
			return nil, err
		}
		if _, trend := wrapper.(*model.TrendLearner); trend {
			return &model.TrendLearner{Inner: l, Features: w.Features}, nil
		}
		return &model.LogTargetLearner{Inner: l}, nil
	}
	for _, name := range reg.Names() {
		fam, _ := reg.Lookup(name)
		l, err := fam.New(task, 0, nil)
		if err != nil || fmt.Sprintf("%T", l) != typeName {
			continue
		}
		t := reflect.TypeOf(l)
		ptr := t.Kind() == reflect.Pointer
		if ptr {
			t = t.Elem()
		}
		v := reflect.New(t)
		if err := json.Unmarshal(params, v.Interface()); err != nil {
			continue
		}
		out := v.Interface()
		if !ptr {
			out = v.Elem().Interface()
		}
		l2, ok := out.(model.Learner)
		if !ok {
			continue
		}
		if b, err := json.Marshal(l2); err == nil && bytes.Equal(b, params) {
			return l2, nil
		}
	}
	return nil, fmt.Errorf("pipeline: no model family rebuilds a %s learner from %s", typeName, params)
}
