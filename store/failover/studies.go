package failover

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

func (s *Store) isFallback(b store.Store) bool { return b == store.Store(s.fallback) }

// localStudy returns the id tune knows the study by.
func (s *Store) localStudy(name string, d tune.Direction) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.studyLocal[name]; ok {
		return id
	}
	s.next++
	s.studyLocal[name], s.studyName[s.next] = s.next, name
	if d != "" {
		s.studyDir[name] = d
	}
	return s.next
}

// localTrial returns the id tune knows trial k by; s.mu is held.
func (s *Store) localTrial(k tkey) int64 {
	if id, ok := s.trialLocal[k]; ok {
		return id
	}
	s.next++
	s.trialLocal[k], s.trialKey[s.next] = s.next, k
	return s.next
}

// setStudy records b's id of the study.
func (s *Store) setStudy(b store.Store, name string, d tune.Direction, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isFallback(b) {
		s.studyFallback[name] = id
	} else {
		s.studyPrimary[name] = id
	}
	if d != "" {
		s.studyDir[name] = d
	}
}

// backendStudy returns b's id of the study, first copying it (with the
// trials last seen) to the fallback if b is the fallback.
func (s *Store) backendStudy(ctx context.Context, b store.Store, name string) (int64, error) {
	if s.isFallback(b) {
		if err := s.seed(ctx, name); err != nil {
			return 0, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.studyFallback[name], nil
	}
	s.mu.Lock()
	id, ok := s.studyPrimary[name]
	d := s.studyDir[name]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	if d == "" {
		return 0, fmt.Errorf("study %q: %w", name, store.ErrNotFound)
	}
	id, err := b.CreateStudy(ctx, name, d)
	if err != nil {
		return 0, err
	}
	s.setStudy(b, name, d, id)
	return id, nil
}

// seed copies a study and the trials last seen of it to the fallback,
// once, so the fallback numbers new trials after them. The copies are
// not journalled: Redis has them already.
func (s *Store) seed(ctx context.Context, name string) error {
	s.seedMu.Lock()
	defer s.seedMu.Unlock()
	s.mu.Lock()
	done, d := s.seeded[name], s.studyDir[name]
	var trials []tune.FrozenTrial
	for k, t := range s.mirror {
		if k.study == name {
			trials = append(trials, clone(*t))
		}
	}
	s.mu.Unlock()
	if done {
		return nil
	}
	if d == "" {
		studies, err := s.fallback.ListStudies(ctx)
		if err != nil {
			return err
		}
		for _, st := range studies {
			if st.Name == name {
				d = st.Direction
			}
		}
		if d == "" {
			return fmt.Errorf("study %q: %w", name, store.ErrNotFound)
		}
	}
	fid, err := s.fallback.CreateStudy(ctx, name, d)
	if err != nil {
		return err
	}
	for _, t := range trials {
		if err := s.fallback.PutTrial(ctx, name, t); err != nil {
			return err
		}
	}
	ft, err := s.fallback.Trials(ctx, fid)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range ft {
		s.trialFallback[tkey{name, t.Number}] = t.ID
	}
	s.studyFallback[name], s.studyDir[name], s.seeded[name] = fid, d, true
	return nil
}

// backendTrial returns b's id of trial k.
func (s *Store) backendTrial(ctx context.Context, b store.Store, k tkey) (int64, error) {
	sid, err := s.backendStudy(ctx, b, k.study)
	if err != nil {
		return 0, err
	}
	ids := s.trialPrimary
	if s.isFallback(b) {
		ids = s.trialFallback
	}
	s.mu.Lock()
	id, ok := ids[k]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	trials, err := b.Trials(ctx, sid)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range trials {
		ids[tkey{k.study, t.Number}] = t.ID
	}
	if id, ok := ids[k]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("trial %d of study %q: %w", k.number, k.study, store.ErrNotFound)
}

// trialPending is the journal entries of a write to trial k made over
// its state base (see trialBase).
func trialPending(k tkey, base string) []sqlite.Pending {
	return []sqlite.Pending{{Kind: "study", A: k.study}, {Kind: "trial", A: k.study, B: strconv.Itoa(k.number), Base: base}}
}

// CreateStudy implements tune.Storage.
func (s *Store) CreateStudy(ctx context.Context, name string, d tune.Direction) (int64, error) {
	err := s.write(ctx, []sqlite.Pending{{Kind: "study", A: name}}, func(b store.Store) error {
		if s.isFallback(b) {
			s.mu.Lock()
			if _, ok := s.studyDir[name]; !ok {
				s.studyDir[name] = d
			}
			s.mu.Unlock()
			if err := s.seed(ctx, name); err != nil {
				return err
			}
		}
		id, err := b.CreateStudy(ctx, name, d)
		if err == nil {
			s.setStudy(b, name, d, id)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return s.localStudy(name, d), nil
}

func (s *Store) studyOf(id int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, ok := s.studyName[id]
	if !ok {
		return "", fmt.Errorf("unknown study id %d", id)
	}
	return name, nil
}

// CreateTrial implements tune.Storage.
func (s *Store) CreateTrial(ctx context.Context, studyID int64, t tune.FrozenTrial) (int64, int, error) {
	name, err := s.studyOf(studyID)
	if err != nil {
		return 0, 0, err
	}
	var (
		bid int64
		n   int
		onF bool
	)
	// A trial created on the fallback has a new number there: over no
	// trial of it.
	err = s.writeKeys(ctx, func() []sqlite.Pending { return trialPending(tkey{name, n}, trialBase(nil)) }, func(b store.Store) error {
		sid, err := s.backendStudy(ctx, b, name)
		if err != nil {
			return err
		}
		bid, n, err = b.CreateTrial(ctx, sid, t)
		onF = s.isFallback(b)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	k := tkey{name, n}
	s.mu.Lock()
	defer s.mu.Unlock()
	if onF {
		s.trialFallback[k] = bid
	} else {
		s.trialPrimary[k] = bid
	}
	id := s.localTrial(k)
	m := clone(t)
	m.ID, m.Number, m.Value, m.Error, m.Intermediate = id, n, math.NaN(), "", map[int]float64{}
	m.Start, m.Finish = time.Time{}, time.Time{}
	if m.State == tune.Running {
		m.Start = time.Now()
	}
	s.mirror[k] = &m
	return id, n, nil
}

// trialOp runs f on the store in use with its id of trial tid and, if it
// succeeds, applies update to the trial's last known state.
func (s *Store) trialOp(ctx context.Context, tid int64, f func(b store.Store, id int64) error, update func(m *tune.FrozenTrial)) error {
	s.mu.Lock()
	k, ok := s.trialKey[tid]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown trial id %d", tid)
	}
	// The write is made over the trial's last known state, which the
	// fallback was seeded with (see seed) or has since.
	base := ""
	s.mu.Lock()
	if m := s.mirror[k]; m != nil {
		base = trialBase(m)
	}
	s.mu.Unlock()
	err := s.write(ctx, trialPending(k, base), func(b store.Store) error {
		id, err := s.backendTrial(ctx, b, k)
		if err != nil {
			return err
		}
		return f(b, id)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mirror[k]; m != nil {
		update(m)
	}
	return nil
}

// ClaimTrial implements tune.Storage.
func (s *Store) ClaimTrial(ctx context.Context, trialID int64) error {
	return s.trialOp(ctx, trialID, func(b store.Store, id int64) error { return b.ClaimTrial(ctx, id) },
		func(m *tune.FrozenTrial) { m.State, m.Start = tune.Running, time.Now() })
}

// SetTrialParam implements tune.Storage.
func (s *Store) SetTrialParam(ctx context.Context, trialID int64, name string, d tune.Distribution, value float64) error {
	return s.trialOp(ctx, trialID, func(b store.Store, id int64) error { return b.SetTrialParam(ctx, id, name, d, value) },
		func(m *tune.FrozenTrial) { m.Params[name], m.Distributions[name] = value, d })
}

// SetIntermediateValue implements tune.Storage.
func (s *Store) SetIntermediateValue(ctx context.Context, trialID int64, step int, value float64) error {
	return s.trialOp(ctx, trialID, func(b store.Store, id int64) error { return b.SetIntermediateValue(ctx, id, step, value) },
		func(m *tune.FrozenTrial) { m.Intermediate[step] = value })
}

// FinishTrial implements tune.Storage.
func (s *Store) FinishTrial(ctx context.Context, trialID int64, st tune.State, value float64, reason string) error {
	return s.trialOp(ctx, trialID, func(b store.Store, id int64) error { return b.FinishTrial(ctx, id, st, value, reason) },
		func(m *tune.FrozenTrial) { m.State, m.Value, m.Error, m.Finish = st, value, reason, time.Now() })
}

// Trials implements tune.Storage, with the Store's own trial ids.
func (s *Store) Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	name, err := s.studyOf(studyID)
	if err != nil {
		return nil, err
	}
	return read(s, func(b store.Store) ([]tune.FrozenTrial, error) {
		sid, err := s.backendStudy(ctx, b, name)
		if err != nil {
			return nil, err
		}
		trials, err := b.Trials(ctx, sid)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		ids := s.trialPrimary
		if s.isFallback(b) {
			ids = s.trialFallback
		}
		for i := range trials {
			k := tkey{name, trials[i].Number}
			ids[k] = trials[i].ID
			trials[i].ID = s.localTrial(k)
			c := clone(trials[i])
			s.mirror[k] = &c
		}
		return trials, nil
	})
}
