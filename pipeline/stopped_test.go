package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// cancelOn is a log handler that cancels a context, with cause, at the
// first record whose message is msg: a stop arriving at a known point of
// a run.
type cancelOn struct {
	slog.Handler
	msg    string
	cancel context.CancelCauseFunc
	cause  error
}

func (h *cancelOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel(h.cause)
	}
	return nil
}

func (h *cancelOn) Enabled(context.Context, slog.Level) bool { return true }
func (h *cancelOn) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *cancelOn) WithGroup(string) slog.Handler            { return h }

// TestStoppedRunRecorded: a run stopped from outside (Ctrl-C in the CLI)
// is recorded as interrupted, with what stopped it and that it can be
// resumed; it was recorded as failed ("context canceled", later
// "stopped: ..."), which reads as a fault of the run, while a killed run
// reads interrupted.
func TestStoppedRunRecorded(t *testing.T) {
	st := storetest.SQLite(t)
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 0, t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	h := &cancelOn{Handler: slog.DiscardHandler, msg: "split", cancel: cancel, cause: errors.New("received interrupt")}
	res, trainErr := Train(ctx, cfg, Options{Runs: st, Logger: slog.New(h)})
	if trainErr == nil {
		t.Fatalf("Train = %+v; want it stopped", res)
	}
	runs, err := st.ListRuns(context.Background(), 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v; want the one run", runs, err)
	}
	r := runs[0]
	if r.Status != store.Interrupted || !strings.Contains(r.Error, "stopped: received interrupt") || !strings.Contains(r.Error, "resume") {
		t.Errorf("stopped run recorded as %s %q; want interrupted, saying what stopped it and that it can be resumed", r.Status, r.Error)
	}
	// runs list and resume read the recorded status as it is.
	if got, err := RunStatus(context.Background(), st, r, time.Now()); err != nil || got != store.Interrupted {
		t.Errorf("RunStatus = %s, %v; want interrupted", got, err)
	}
	// What the CLI prints: it said only "context canceled", naming
	// neither the run nor that it can be resumed.
	var stopped *StoppedError
	if !errors.As(trainErr, &stopped) || stopped.RunID != r.ID || stopped.Unwrap() == nil ||
		!strings.Contains(trainErr.Error(), "received interrupt") || !strings.Contains(trainErr.Error(), "--resume "+r.ID) {
		t.Errorf("Train's error = %v; want a StoppedError naming the run, its cause and --resume %s, wrapping the stages' error", trainErr, r.ID)
	}
}
