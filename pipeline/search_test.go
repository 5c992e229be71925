package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// hookHandler is a slog.Handler that calls hook with every record.
type hookHandler struct{ hook func(slog.Record) }

func (h hookHandler) Enabled(context.Context, slog.Level) bool      { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error { h.hook(r); return nil }
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h hookHandler) WithGroup(string) slog.Handler                 { return h }
func attr(r slog.Record, key string) (v slog.Value) {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

// TestStudyTunedByTwoProcesses runs the same tuned train twice at once
// on one SQLite file, as two processes would (two connections): the
// second opens the study while the first has trial 1 running. Opening a
// study retries the trials left running, so the second used to fail the
// first's live trial, whose search then failed over to the grid. Now the
// second waits for the first and resumes its study: every trial is run
// once, none fails, and both runs pick the same model.
func TestStudyTunedByTwoProcesses(t *testing.T) {
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) {
			a, b := twoConnections(t, backend)
			testStudyTunedByTwo(t, a, b)
		})
	}
}

// twoConnections opens two connections to one new store, as two
// processes would.
func twoConnections(t *testing.T, backend string) (a, b tune.Storage) {
	dir := t.TempDir()
	var url string
	if backend == "redis" {
		url = redistest.Start(t).URL()
	}
	open := func() tune.Storage {
		var st interface {
			tune.Storage
			Close() error
		}
		var err error
		if backend == "redis" {
			st, err = redis.Open(context.Background(), url)
		} else {
			st, err = sqlite.Open(context.Background(), filepath.Join(dir, "studies.db"))
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return open(), open()
}

func testStudyTunedByTwo(t *testing.T, a, b tune.Storage) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, dir
	cfg.EnableHyperparameterTuning, cfg.MaxEvals = true, 4
	cfg.RunLease = config.Duration(3 * time.Second) // the study claim's lease: renewed well within it on a loaded machine

	// The second run, started from the first's log while its trial 1 is
	// still running; bOpened is closed once it has opened the study or
	// is waiting for it.
	bOpened := make(chan struct{})
	var once sync.Once
	bLog := slog.New(hookHandler{func(r slog.Record) {
		if r.Message == "another process is tuning this study; waiting to resume it" || r.Message == "resuming stored study" {
			once.Do(func() { close(bOpened) })
		}
	}})
	var resB *Result
	var errB error
	var runB func()
	done := make(chan struct{})
	var startB sync.Once
	aLog := slog.New(hookHandler{func(r slog.Record) {
		if r.Message == "trial done" && attr(r, "trial").Int64() == 1 {
			startB.Do(runB)
		}
	}})
	runB = func() {
		go func() {
			defer close(done)
			resB, errB = Train(context.Background(), cfg, Options{Studies: b, Logger: bLog})
		}()
		select {
		case <-bOpened:
		case <-time.After(2 * time.Minute):
			t.Error("the second run neither opened the study nor waited for it")
		}
	}
	resA, err := Train(context.Background(), cfg, Options{Studies: a, Logger: aLog})
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if errB != nil {
		t.Fatal(errB)
	}
	ta, tb := resA.Leaderboard[0].Tuning, resB.Leaderboard[0].Tuning
	if ta == nil || ta.Sampler != "tpe" || ta.Failed != 0 || ta.Fallback != "" {
		t.Fatalf("first run's tuning = %+v; want TPE with no failed trial", ta)
	}
	if tb == nil || tb.Trials+tb.Pruned+tb.Failed != 0 || tb.Resumed != cfg.MaxEvals {
		t.Errorf("second run's tuning = %+v; want the %d trials of the first resumed, none run", tb, cfg.MaxEvals)
	}
	trials, err := studyTrials(a, ta.Study)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != cfg.MaxEvals {
		t.Errorf("study has %d trials; want %d", len(trials), cfg.MaxEvals)
	}
	for i, tr := range trials {
		if tr.Number != i || tr.State != tune.Complete {
			t.Errorf("trial %d: number %d, state %s (%s); want complete", i, tr.Number, tr.State, tr.Error)
		}
	}
	if ca, cb := resA.Leaderboard[0].CV["auc"], resB.Leaderboard[0].CV["auc"]; ca != cb {
		t.Errorf("CV auc %v and %v; want the same best trial", ca, cb)
	}
}

// cancelOnTrial is a study storage that cancels a context when the
// first trial is created: the run is interrupted while it scores that
// trial, as by Ctrl-C.
type cancelOnTrial struct {
	*tune.Memory
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOnTrial) CreateTrial(ctx context.Context, study int64, t tune.FrozenTrial) (int64, int, error) {
	c.once.Do(c.cancel)
	return c.Memory.CreateTrial(ctx, study, t)
}

// TestInterruptedDefaultsTrialResumes interrupts a run while its study
// scores trial 0, the family defaults, and resumes it: the retry scores
// the defaults again. It used to sample the space instead, so the
// resumed study never scored the defaults.
func TestInterruptedDefaultsTrialResumes(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.MaxEvals = true, 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &cancelOnTrial{Memory: &tune.Memory{}, cancel: cancel}
	if _, err := Train(ctx, cfg, Options{Studies: st}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v; want context.Canceled", err)
	}
	res, err := Train(context.Background(), cfg, Options{Studies: st})
	if err != nil {
		t.Fatal(err)
	}
	trials, err := studyTrials(st, res.Leaderboard[0].Tuning.Study)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) < 2 || trials[0].State != tune.Fail || trials[1].RetryOf != 0 {
		t.Fatalf("trials %+v; want trial 0 interrupted and trial 1 its retry", trials)
	}
	if retry := trials[1]; retry.State != tune.Complete || len(retry.Params) != 0 {
		t.Errorf("retry of the defaults trial: %s with parameters %v; want complete with none (the defaults)", retry.State, retry.ParamValues())
	}
}

// TestTuningWithoutCVWarns: tuning and advanced ensembles asked for in a
// run without CV folds are skipped with a warning each, not silently.
func TestTuningWithoutCVWarns(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.EnableAdvancedEnsemble = true, true
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"enable_hyperparameter_tuning", "enable_advanced_ensemble"} {
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, key+": ") }) {
			t.Errorf("warnings %q do not say %s was skipped", res.Warnings, key)
		}
	}
	if res.Leaderboard[0].Tuning != nil {
		t.Errorf("tuning %+v ran without CV folds", res.Leaderboard[0].Tuning)
	}
}
