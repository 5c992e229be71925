package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// takeOver does what another process does when it finds run r's lease
// expired: it claims the lease (forged expired first) through its own
// handle other and records the run as its own, running, with the profile
// "successor".
func takeOver(ctx context.Context, other *sqlite.Store, r *store.Run) (*store.Lease, error) {
	past := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := other.PutRecord(ctx, store.LeaseKind, r.ID, []byte(past)); err != nil {
		return nil, err
	}
	_, l, err := store.Claim(context.Background(), other, store.LeaseKind, r.ID, time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	succ := *r
	succ.Status, succ.Profile = store.Running, "successor"
	if err := other.PutRun(ctx, &succ); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// twoHandles opens one SQLite database twice, as two processes do.
func twoHandles(t *testing.T) (a, b *sqlite.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tf.db")
	var h [2]*sqlite.Store
	for i := range h {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		h[i] = s
	}
	return h[0], h[1]
}

// stalledRecord is a run store whose first write of a running run stalls
// the run past its lease: meanwhile another process (the handle other)
// takes the expired lease over and records the run as its own. The write
// then waits for the run's context, which the run's next renewal should
// cancel.
type stalledRecord struct {
	*sqlite.Store
	other *sqlite.Store
	lease *store.Lease // the successor's
}

func (s *stalledRecord) PutRun(ctx context.Context, r *store.Run) error {
	if s.lease != nil || r.Status != store.Running {
		return s.Store.PutRun(ctx, r)
	}
	l, err := takeOver(ctx, s.other, r)
	if err != nil {
		return err
	}
	s.lease = l
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second): // the run never noticed: the test fails below
		return s.Store.PutRun(ctx, r)
	}
}

// TestRunStopsWhenLeaseLost: a run whose lease was taken over while it
// stalled stops at its next renewal with store.ErrLeaseLost and leaves
// the run record to the process that took over. It used to renew over
// the successor's lease, train on, and record its outcome over the
// successor's run.
func TestRunStopsWhenLeaseLost(t *testing.T) {
	a, b := twoHandles(t)
	st := &stalledRecord{Store: a, other: b}
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	cfg.RunLease = config.Duration(300 * time.Millisecond) // renewed every 100 ms
	res, err := Train(context.Background(), cfg, Options{Runs: st})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Train = %v, %v; want it stopped with store.ErrLeaseLost", res, err)
	}
	defer st.lease.Release()
	run := successorRun(t, b)
	rec, err := b.GetRecord(context.Background(), store.LeaseKind, run.ID)
	if err != nil || store.LeaseToken(rec) != st.lease.Token {
		t.Errorf("run lease = %v, %v; want the successor's token %d", rec, err, st.lease.Token)
	}
}

// takenOverAtFinish is a run store in which, just before the run's
// outcome is written, another process (the handle other) takes the run's
// lease over (the run stalled past it, say, between two renewals) and
// records the run as its own.
type takenOverAtFinish struct {
	*sqlite.Store
	other *sqlite.Store
	lease *store.Lease // the successor's
}

func (s *takenOverAtFinish) takeOver(ctx context.Context, r *store.Run) error {
	if s.lease != nil || r.Status == store.Running {
		return nil
	}
	// The run's lease lasts an hour, so it never renews before this.
	l, err := takeOver(ctx, s.other, r)
	s.lease = l
	return err
}

func (s *takenOverAtFinish) PutRun(ctx context.Context, r *store.Run) error {
	if err := s.takeOver(ctx, r); err != nil {
		return err
	}
	return s.Store.PutRun(ctx, r)
}

func (s *takenOverAtFinish) PutRunFenced(ctx context.Context, r *store.Run, f store.Fence) error {
	if err := s.takeOver(ctx, r); err != nil {
		return err
	}
	return s.Store.PutRunFenced(ctx, r, f)
}

// TestRunOutcomeFenced: a run whose lease is taken over after its last
// renewal, before it writes its outcome, writes nothing: the outcome
// write is fenced by the run's token, so the record stays the
// successor's and Train fails with store.ErrLeaseLost. It used to write
// its outcome over the successor's record.
func TestRunOutcomeFenced(t *testing.T) {
	a, b := twoHandles(t)
	st := &takenOverAtFinish{Store: a, other: b}
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	cfg.RunLease = config.Duration(time.Hour)
	if _, err := Train(context.Background(), cfg, Options{Runs: st}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Train err = %v; want its outcome refused with store.ErrLeaseLost", err)
	}
	if st.lease == nil {
		t.Fatal("the run never wrote its outcome")
	}
	defer st.lease.Release()
	successorRun(t, b)
}

// successorRun returns the one run record in s, which must be the
// successor's (see takeOver), still running.
func successorRun(t *testing.T, s *sqlite.Store) *store.Run {
	t.Helper()
	runs, err := s.ListRuns(context.Background(), 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v; want one", runs, err)
	}
	r := runs[0]
	if r.Status != store.Running || r.Profile != "successor" {
		t.Errorf("run record %s %q; want the successor's, running", r.Status, r.Profile)
	}
	return r
}

// TestRegisterFenced: a run whose lease is taken over just before it
// registers its model (it stalled past the lease between two renewals)
// registers nothing: the version's record and its name are written only
// while the lease holds the run's token, so Train fails with
// store.ErrLeaseLost and the registry stays as the successor sees it.
// The registration used to land after the successor had taken over, and
// then its artifact, written before the refusal, stayed in the bucket
// with no version referencing it.
func TestRegisterFenced(t *testing.T) {
	ctx := context.Background()
	a, b := twoHandles(t)
	artDir := filepath.Join(t.TempDir(), "artifacts")
	arts, err := artifact.Open(ctx, artDir)
	if err != nil {
		t.Fatal(err)
	}
	defer arts.Close()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	cfg.RunLease = config.Duration(time.Hour) // never renewed before the takeover
	var succ *store.Lease
	var terr error
	o := Options{Runs: a, Registrar: StoreRegistrar{Registry: registry.New(a), Artifacts: arts, CodeVersion: "test"},
		Progress: func(e progress.Event) {
			if e.Stage != progress.Step || e.Name != "register" {
				return
			}
			runs, err := b.ListRuns(ctx, 0)
			if err != nil || len(runs) != 1 {
				terr = fmt.Errorf("runs %v, %v; want one", runs, err)
				return
			}
			succ, terr = takeOver(ctx, b, runs[0])
		}}
	_, err = Train(ctx, cfg, o)
	if terr != nil {
		t.Fatal(terr)
	}
	if succ == nil {
		t.Fatal("the run never reached its register stage")
	}
	defer succ.Release()
	if !errors.Is(err, store.ErrLeaseLost) || !strings.Contains(err.Error(), "register run") {
		t.Fatalf("Train err = %v; want the registration refused with store.ErrLeaseLost", err)
	}
	if models, err := registry.New(b).List(ctx, ""); err != nil || len(models) != 0 {
		t.Errorf("registered versions %d, %v; want none", len(models), err)
	}
	if names, err := b.ListRecords(ctx, registry.KindName, ""); err != nil || len(names) != 0 {
		t.Errorf("registered names %d, %v; want none", len(names), err)
	}
	if files := filesUnder(t, artDir); len(files) != 0 {
		t.Errorf("artifacts after the refused registration: %q; want none", files)
	}
	successorRun(t, b)
}

// filesUnder lists the regular files under dir, relative to it.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, rel)
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}
