package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Storage records studies and their trials. It lists only what package
// tune calls; Memory implements it in process and store/sqlite on disk.
// Implementations must be safe for concurrent use.
type Storage interface {
	// CreateStudy returns the id of the study called name, creating it
	// with direction d if it does not exist. An existing study with another
	// direction is an error.
	CreateStudy(ctx context.Context, name string, d Direction) (int64, error)
	// CreateTrial adds a trial to the study with the next number, in state
	// t.State (Running or Waiting), with t's Params, Distributions and
	// RetryOf; other fields of t are ignored. It returns the trial's id and
	// number.
	CreateTrial(ctx context.Context, studyID int64, t FrozenTrial) (id int64, number int, err error)
	// ClaimTrial moves a Waiting trial to Running; it returns
	// ErrStateConflict if the trial is not Waiting (another worker claimed
	// it).
	ClaimTrial(ctx context.Context, trialID int64) error
	// SetTrialParam records a parameter of a Running trial.
	SetTrialParam(ctx context.Context, trialID int64, name string, d Distribution, value float64) error
	// SetIntermediateValue records the value reported at step by a
	// Running trial.
	SetIntermediateValue(ctx context.Context, trialID int64, step int, value float64) error
	// FinishTrial moves a Running trial to the final state s with its
	// value (NaN if none) and, for Fail, a reason. It returns
	// ErrStateConflict if the trial is not Running.
	FinishTrial(ctx context.Context, trialID int64, s State, value float64, reason string) error
	// Trials returns the study's trials ordered by number.
	Trials(ctx context.Context, studyID int64) ([]FrozenTrial, error)
}

// ErrStateConflict reports a state change a trial's current state does
// not allow.
var ErrStateConflict = errors.New("tune: trial is not in the expected state")

// Memory is an in-process Storage. The zero value is empty and ready to
// use; it is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	studies []memStudy
	trials  []*FrozenTrial // by id
	owner   []int64        // study id per trial id
}

type memStudy struct {
	name string
	dir  Direction
}

var _ Storage = (*Memory)(nil)

// CreateStudy implements Storage.
func (m *Memory) CreateStudy(_ context.Context, name string, d Direction) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.studies {
		if s.name == name {
			if s.dir != d {
				return 0, fmt.Errorf("tune: study %q exists with direction %s, not %s", name, s.dir, d)
			}
			return int64(i), nil
		}
	}
	m.studies = append(m.studies, memStudy{name: name, dir: d})
	return int64(len(m.studies) - 1), nil
}

// CreateTrial implements Storage.
func (m *Memory) CreateTrial(_ context.Context, studyID int64, t FrozenTrial) (int64, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if studyID < 0 || int(studyID) >= len(m.studies) {
		return 0, 0, fmt.Errorf("tune: unknown study id %d", studyID)
	}
	if t.State != Running && t.State != Waiting {
		return 0, 0, fmt.Errorf("tune: create trial in state %s: %w", t.State, ErrStateConflict)
	}
	number := 0
	for i, o := range m.owner {
		if o == studyID && m.trials[i].Number >= number {
			number = m.trials[i].Number + 1
		}
	}
	c := t.clone()
	c.ID, c.Number, c.Value, c.Intermediate, c.Error = int64(len(m.trials)), number, math.NaN(), map[int]float64{}, ""
	c.Start, c.Finish = time.Time{}, time.Time{}
	if c.State == Running {
		c.Start = time.Now()
	}
	m.trials = append(m.trials, &c)
	m.owner = append(m.owner, studyID)
	return c.ID, number, nil
}

func (m *Memory) trial(id int64) (*FrozenTrial, error) {
	if id < 0 || int(id) >= len(m.trials) {
		return nil, fmt.Errorf("tune: unknown trial id %d", id)
	}
	return m.trials[id], nil
}

// running returns the trial if it is Running; the caller holds m.mu.
// action names the operation in the error.
func (m *Memory) running(id int64, action string) (*FrozenTrial, error) {
	t, err := m.trial(id)
	if err != nil {
		return nil, err
	}
	if t.State != Running {
		return nil, fmt.Errorf("tune: %s trial %d (%s): %w", action, t.Number, t.State, ErrStateConflict)
	}
	return t, nil
}

// ClaimTrial implements Storage.
func (m *Memory) ClaimTrial(_ context.Context, trialID int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.trial(trialID)
	if err != nil {
		return err
	}
	if t.State != Waiting {
		return fmt.Errorf("tune: claim trial %d (%s): %w", t.Number, t.State, ErrStateConflict)
	}
	t.State, t.Start = Running, time.Now()
	return nil
}

// SetTrialParam implements Storage.
func (m *Memory) SetTrialParam(_ context.Context, trialID int64, name string, d Distribution, value float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.running(trialID, "set parameter of")
	if err != nil {
		return err
	}
	t.Params[name], t.Distributions[name] = value, d
	return nil
}

// SetIntermediateValue implements Storage.
func (m *Memory) SetIntermediateValue(_ context.Context, trialID int64, step int, value float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.running(trialID, "report for")
	if err != nil {
		return err
	}
	t.Intermediate[step] = value
	return nil
}

// FinishTrial implements Storage.
func (m *Memory) FinishTrial(_ context.Context, trialID int64, s State, value float64, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !s.Finished() {
		return fmt.Errorf("tune: finish trial id %d in state %s: %w", trialID, s, ErrStateConflict)
	}
	t, err := m.running(trialID, "finish")
	if err != nil {
		return err
	}
	t.State, t.Value, t.Error, t.Finish = s, value, reason, time.Now()
	return nil
}

// Trials implements Storage.
func (m *Memory) Trials(_ context.Context, studyID int64) ([]FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []FrozenTrial
	for i, o := range m.owner {
		if o == studyID {
			out = append(out, m.trials[i].clone())
		}
	}
	slices.SortFunc(out, func(a, b FrozenTrial) int { return a.Number - b.Number })
	return out, nil
}
