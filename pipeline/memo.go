package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
)

// memo holds what a run computes once and reuses: the preprocessing of
// each CV fold and of the final fit, per design spec (every tuning trial
// of a family, and every family with the same input needs, fits the same
// feature chain and design on the same rows), and the tuning time spent.
// The zero value is ready to use; it is safe for concurrent use.
type memo struct {
	mu    sync.Mutex
	prep  map[string]*prepEntry
	tuned time.Duration // time spent in tuning studies so far, against time_budget
	// trials are the completed tuning trials of the run, in completion
	// order, for Options.Knowledge.
	trials []Evaluation
}

// logTrial keeps a completed trial's evaluation.
func (m *memo) logTrial(e Evaluation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.trials = append(m.trials, e)
}

// loggedTrials returns the trials logged so far.
func (m *memo) loggedTrials() []Evaluation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.trials)
}

// spend adds a study's duration to the tuning time.
func (m *memo) spend(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tuned += d
}

// spent returns the time spent in tuning studies so far.
func (m *memo) spent() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tuned
}

// prepEntry is one memoised preprocessing, computed once, of the
// variant and the design inputs it was asked for.
type prepEntry struct {
	once    sync.Once
	v       *preprocessed
	err     error
	variant string
	input   model.Input
}

// release drops the memoised preprocessings whose variant and design
// inputs keep reports false for, so that the fold matrices of families
// already trained do not stay alive beside the next family's: on a
// 1M-row table the linear families' five folds (320 MB) were kept
// through gbdt's cross-validation. A preprocessing still being computed
// finishes for its caller.
func (m *memo) release(keep func(variant string, in model.Input) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.prep {
		if !keep(e.variant, e.input) {
			delete(m.prep, k)
		}
	}
}

// preprocessed is the fitted preprocessing of one training/evaluation
// pair: the learners' training dataset and the evaluation matrix. Learners
// never modify a Dataset, so trials can share it.
type preprocessed struct {
	chain  features.FittedChain
	design *features.Design
	train  *model.Dataset
	eval   *model.Matrix
}

// preprocess fits the feature chain and the design on trainRows and
// applies them to both parts; with a non-empty key the result is
// memoised under key and spec (key must then name trainRows and evalRows
// uniquely within the run).
func (p *prepared) preprocess(ctx context.Context, key string, spec features.DesignSpec, trainRows, evalRows []int) (*preprocessed, error) {
	if key == "" {
		return p.preprocessNow(ctx, spec, trainRows, evalRows)
	}
	k := fmt.Sprintf("%s|%s|%t|%t|%v", p.variant, key, spec.OneHot, spec.Scale, spec.Missing)
	p.memo.mu.Lock()
	if p.memo.prep == nil {
		p.memo.prep = map[string]*prepEntry{}
	}
	e, ok := p.memo.prep[k]
	if !ok {
		e = &prepEntry{variant: p.variant, input: model.Input{OneHot: spec.OneHot, Scale: spec.Scale, Missing: spec.Missing}}
		p.memo.prep[k] = e
	}
	p.memo.mu.Unlock()
	e.once.Do(func() { e.v, e.err = p.preprocessNow(context.WithoutCancel(ctx), spec, trainRows, evalRows) })
	return e.v, e.err
}

func (p *prepared) preprocessNow(ctx context.Context, spec features.DesignSpec, trainRows, evalRows []int) (*preprocessed, error) {
	xtr, xev, chain, err := p.applyChain(ctx, trainRows, evalRows)
	if err != nil {
		return nil, err
	}
	design, err := features.FitDesign(ctx, xtr, spec)
	if err != nil {
		return nil, fmt.Errorf("preprocessing: %w", err)
	}
	d, err := dataset(design, xtr, takeY(p.y, trainRows), p)
	if err != nil {
		return nil, err
	}
	if p.times != nil {
		d.Time = takeY(p.times, trainRows)
	}
	mat, err := design.Matrix(xev)
	if err != nil {
		return nil, fmt.Errorf("preprocessing: %w", err)
	}
	return &preprocessed{chain: chain, design: design, train: d, eval: mat}, nil
}

func takeY(y []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = y[r]
	}
	return out
}
