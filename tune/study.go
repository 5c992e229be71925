package tune

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/tabforge/tabforge/progress"
)

// Config configures a study. The zero value minimises with a TPESampler,
// no pruning, in-memory storage and seed 0.
type Config struct {
	// Direction is Minimize (default) or Maximize.
	Direction Direction
	// Sampler proposes parameters; nil means TPESampler{}.
	Sampler Sampler
	// Pruner stops unpromising trials; nil means none.
	Pruner Pruner
	// Storage records the study; nil means a new Memory.
	Storage Storage
	// Seed seeds every trial's random stream together with its number.
	Seed uint64
	// Progress receives a progress.TuneTrial event after each trial that
	// Optimize finishes; nil means none.
	Progress progress.Func
}

// Study is a named optimisation: a sequence of trials sharing a sampler,
// a pruner and a storage. Its methods are safe for concurrent use.
//
// Opening a study that already exists in the storage resumes it: finished
// trials are kept and inform the sampler; trials left Running by a process
// that died are marked Fail and re-enqueued with the same parameters, to be
// run first. A study must be driven by one process at a time.
type Study struct {
	name    string
	id      int64
	dir     Direction
	sampler Sampler
	pruner  Pruner
	storage Storage
	seed    uint64
	prog    progress.Func

	mu   sync.Mutex       // serialises Ask, so samplers see every earlier trial
	live map[int64]*Trial // trials asked by this process and not yet told
}

// NewStudy opens the study called name in c.Storage, creating it if it does
// not exist and resuming it if it does (see Study).
func NewStudy(ctx context.Context, name string, c Config) (*Study, error) {
	if name == "" {
		return nil, errors.New("tune: study name is empty")
	}
	dir := c.Direction.normal()
	if dir != Minimize && dir != Maximize {
		return nil, fmt.Errorf("tune: unknown direction %q (allowed: minimize, maximize)", c.Direction)
	}
	s := &Study{
		name: name, dir: dir, sampler: c.Sampler, pruner: c.Pruner, storage: c.Storage,
		seed: c.Seed, prog: c.Progress, live: map[int64]*Trial{},
	}
	if s.sampler == nil {
		s.sampler = TPESampler{}
	}
	if s.storage == nil {
		s.storage = &Memory{}
	}
	id, err := s.storage.CreateStudy(ctx, name, dir)
	if err != nil {
		return nil, fmt.Errorf("tune: open study %q: %w", name, err)
	}
	s.id = id
	if err := s.recoverStale(ctx); err != nil {
		return nil, fmt.Errorf("tune: open study %q: %w", name, err)
	}
	return s, nil
}

// recoverStale marks trials left Running by a dead process as failed and
// enqueues a retry of each.
func (s *Study) recoverStale(ctx context.Context) error {
	trials, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return err
	}
	for _, t := range trials {
		if t.State != Running {
			continue
		}
		if err := s.storage.FinishTrial(ctx, t.ID, Fail, math.NaN(), interruptedPrefix+": left running by a process that stopped"); err != nil {
			return err
		}
		if err := s.enqueueRetry(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// enqueueRetry adds a Waiting trial with t's parameters.
func (s *Study) enqueueRetry(ctx context.Context, t FrozenTrial) error {
	retry := FrozenTrial{State: Waiting, Params: t.Params, Distributions: t.Distributions, RetryOf: t.Number}
	if _, _, err := s.storage.CreateTrial(ctx, s.id, retry); err != nil {
		return fmt.Errorf("enqueue retry of trial %d: %w", t.Number, err)
	}
	return nil
}

// ErrInvalidParams reports parameters Enqueue refused: one without a
// distribution, or a value outside its distribution. Nothing was stored.
var ErrInvalidParams = errors.New("tune: enqueue: invalid parameters")

// Enqueue adds a trial with the given parameters (internal values, with
// their distributions, as in a FrozenTrial of this or another study) that
// the next Ask hands out before sampling anything: Optuna's
// enqueue_trial. A warm start enqueues the best trial of a related study.
// Parameters the objective suggests that params lacks are sampled as
// usual.
func (s *Study) Enqueue(ctx context.Context, params map[string]float64, dists map[string]Distribution) error {
	for name := range params {
		d, ok := dists[name]
		if !ok {
			return fmt.Errorf("%w: parameter %q has no distribution", ErrInvalidParams, name)
		}
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%w: parameter %q: %w", ErrInvalidParams, name, err)
		}
		// The trial hands the value to the objective as is, so one outside
		// d would break SuggestFloat's range or index past a categorical's
		// choices.
		if v := params[name]; !d.Contains(v) {
			return fmt.Errorf("%w: parameter %q: internal value %v is not in the %s", ErrInvalidParams, name, v, d.span())
		}
	}
	t := FrozenTrial{State: Waiting, Params: maps.Clone(params), Distributions: maps.Clone(dists), RetryOf: -1}
	if _, _, err := s.storage.CreateTrial(ctx, s.id, t); err != nil {
		return fmt.Errorf("tune: enqueue: %w", err)
	}
	return nil
}

// Name returns the study's name.
func (s *Study) Name() string { return s.name }

// Direction returns the study's direction.
func (s *Study) Direction() Direction { return s.dir }

// Trials returns all trials of the study, by number.
func (s *Study) Trials(ctx context.Context) ([]FrozenTrial, error) {
	trials, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return nil, fmt.Errorf("tune: study %q: %w", s.name, err)
	}
	return trials, nil
}

// Best returns the best Complete trial, or false if there is none.
func (s *Study) Best(ctx context.Context) (FrozenTrial, bool, error) {
	trials, err := s.Trials(ctx)
	if err != nil {
		return FrozenTrial{}, false, err
	}
	best, ok := bestOf(trials, s.dir)
	return best, ok, nil
}

func bestOf(trials []FrozenTrial, dir Direction) (FrozenTrial, bool) {
	var best FrozenTrial
	found := false
	for _, t := range trials {
		if t.State == Complete && !math.IsNaN(t.Value) && (!found || dir.better(t.Value, best.Value)) {
			best, found = t, true
		}
	}
	return best, found
}

// history returns the study's trials other than exclude, with the jointly
// sampled parameters of this process's running trials merged in.
func (s *Study) history(ctx context.Context, exclude int64) (History, error) {
	trials, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return History{}, err
	}
	out := trials[:0]
	for _, t := range trials {
		if t.ID == exclude {
			continue
		}
		if lt := s.liveTrial(t.ID); lt != nil && t.State == Running {
			lt.mu.Lock()
			for name, v := range lt.relative {
				if _, ok := t.Params[name]; !ok {
					t.Params[name], t.Distributions[name] = v, lt.relSpace[name]
				}
			}
			lt.mu.Unlock()
		}
		out = append(out, t)
	}
	return History{Direction: s.dir, Trials: out}, nil
}

func (s *Study) liveTrial(id int64) *Trial {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

// counted returns the number of a study's stored trials that count
// against a trial budget: Complete and Pruned ones. Failed trials of
// earlier sessions are history, not budget (interrupted trials, recorded
// Fail, are retried anyway): a study resumed after every trial failed
// samples again, as Optuna's does, instead of ending at once with no
// trial complete. Failures of the running session count (optimizeRun),
// so a failing objective cannot run forever.
func counted(trials []FrozenTrial) int {
	n := 0
	for _, t := range trials {
		if t.State == Complete || t.State == Pruned {
			n++
		}
	}
	return n
}

// stream returns trial number's random stream.
func stream(seed uint64, number int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x7475_6e65_0000_0000|uint64(number)))
}

// trialSeed derives a trial's model seed from the study seed and the trial
// number (SplitMix64 of their combination).
func trialSeed(seed uint64, number int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*uint64(number+1)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Ask starts a new trial: the oldest Waiting (retried) trial if there is
// one, otherwise a fresh one. It returns an error wrapping ErrExhausted
// when the sampler has nothing left to propose.
func (s *Study) Ask(ctx context.Context) (*Trial, error) { return s.ask(ctx, nil) }

// ask is Ask with the running trials in lies shown to the sampler as
// Complete with the given values (the constant liar of OptimizeBatch).
func (s *Study) ask(ctx context.Context, lies map[int64]float64) (*Trial, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	trials, err := s.storage.Trials(ctx, s.id)
	if err != nil {
		return nil, fmt.Errorf("tune: ask: %w", err)
	}
	ft, claimed, err := s.claimWaiting(ctx, trials)
	if err != nil {
		return nil, fmt.Errorf("tune: ask: %w", err)
	}
	hist := s.askHistory(trials, claimed, ft.ID, lies)
	if !claimed {
		t, err := s.createTrial(ctx, trials, hist)
		if err != nil {
			return nil, fmt.Errorf("tune: ask: %w", err)
		}
		return t, nil
	}
	t := s.newTrial(ft, hist, stream(s.seed, ft.Number))
	s.live[ft.ID] = t
	return t, nil
}

// claimWaiting claims the oldest Waiting (retried) trial of trials, so
// that a retry runs before any fresh trial; another process claiming it
// first is no error, the next one is tried. It reports false when there
// is none to claim.
func (s *Study) claimWaiting(ctx context.Context, trials []FrozenTrial) (FrozenTrial, bool, error) {
	for _, t := range trials {
		if t.State != Waiting {
			continue
		}
		err := s.storage.ClaimTrial(ctx, t.ID)
		if errors.Is(err, ErrStateConflict) {
			continue
		}
		if err != nil {
			return FrozenTrial{}, false, err
		}
		return t.clone(), true, nil
	}
	return FrozenTrial{}, false, nil
}

// askHistory is what the sampler sees: trials other than the claimed
// one (claimedID, when claimed), with the jointly sampled parameters of
// this process's running trials merged in and the running trials in lies
// shown as Complete with their lie. s.mu must be held: it reads s.live
// directly.
func (s *Study) askHistory(trials []FrozenTrial, claimed bool, claimedID int64, lies map[int64]float64) History {
	hist := History{Direction: s.dir}
	for _, t := range trials {
		if claimed && t.ID == claimedID {
			continue
		}
		if lt := s.live[t.ID]; lt != nil && t.State == Running {
			lt.mu.Lock()
			for name, v := range lt.relative {
				if _, ok := t.Params[name]; !ok {
					t.Params[name], t.Distributions[name] = v, lt.relSpace[name]
				}
			}
			lt.mu.Unlock()
		}
		if v, ok := lies[t.ID]; ok && t.State == Running {
			t.State, t.Value = Complete, v
			hist.Lies++
		}
		hist.Trials = append(hist.Trials, t)
	}
	return hist
}

// createTrial samples the relative parameters of a fresh trial from
// hist, then creates it in storage and registers it as live. s.mu must
// be held. The trial's number is predicted from trials, so that the
// relative sample comes from the trial's own stream before the trial
// exists; if another process took that number meanwhile, the trial's
// later samples use the stream of the number it got.
func (s *Study) createTrial(ctx context.Context, trials []FrozenTrial, hist History) (*Trial, error) {
	ft := FrozenTrial{State: Running, RetryOf: -1}
	relSpace := s.sampler.InferRelativeSpace(&hist)
	next := 0
	if len(trials) > 0 {
		next = trials[len(trials)-1].Number + 1
	}
	rng := stream(s.seed, next)
	var relative map[string]float64
	if len(relSpace) > 0 {
		var err error
		relative, err = s.sampler.SampleRelative(&hist, rng, relSpace)
		if err != nil {
			return nil, err
		}
	}
	id, number, err := s.storage.CreateTrial(ctx, s.id, ft)
	if err != nil {
		return nil, err
	}
	ft.ID, ft.Number = id, number
	t := s.newTrial(ft, hist, rng)
	if number != next { // another process added trials meanwhile
		t.rng = stream(s.seed, number)
	}
	t.relSpace, t.relative = relSpace, relative
	s.live[id] = t
	return t, nil
}

func (s *Study) newTrial(ft FrozenTrial, hist History, rng *rand.Rand) *Trial {
	t := &Trial{
		study: s, id: ft.ID, number: ft.Number, retryOf: ft.RetryOf, seed: trialSeed(s.seed, ft.Number), hist: hist, rng: rng,
		params: maps.Clone(ft.Params), dists: maps.Clone(ft.Distributions), inter: map[int]float64{},
	}
	if t.params == nil {
		t.params, t.dists = map[string]float64{}, map[string]Distribution{}
	}
	return t
}

// Tell finishes trial t with the objective's result: Complete with value
// when err is nil, Pruned (with the last reported value) when err wraps
// ErrPruned, Fail otherwise, and Fail if value is NaN or the trial
// recorded an error (Trial.Err). It returns the recorded state.
func (s *Study) Tell(ctx context.Context, t *Trial, value float64, err error) (State, error) {
	state, reason := Complete, ""
	if err == nil {
		err = t.Err()
	}
	switch {
	case errors.Is(err, ErrPruned):
		state, value = Pruned, t.lastReported()
	case err != nil:
		state, value, reason = Fail, math.NaN(), err.Error()
	case math.IsNaN(value):
		state, reason = Fail, "objective returned NaN"
	}
	if serr := s.storage.FinishTrial(ctx, t.id, state, value, reason); serr != nil {
		return state, fmt.Errorf("tune: tell trial %d: %w", t.number, serr)
	}
	s.mu.Lock()
	delete(s.live, t.id)
	s.mu.Unlock()
	return state, nil
}

func (t *Trial) frozenParams() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.params)
}

func (t *Trial) frozenDists() map[string]Distribution {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.dists)
}
