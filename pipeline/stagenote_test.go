package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// TestStageNoteFenced: a run's holder stalls, and another process takes
// its lease over and notes its own stage. The stale holder's next stage
// note, and its removal of the note as it finishes, must leave the
// successor's note; the successor's own notes are written and removed.
// Both were unfenced: the stale holder overwrote, then deleted, the note
// the dashboard shows for the successor's run.
func TestStageNoteFenced(t *testing.T) {
	ctx := context.Background()
	a, b := twoHandles(t)
	log := slog.New(slog.DiscardHandler)
	stale := &trainRun{o: Options{Runs: a}, res: &Result{RunID: "run-1"}, log: log,
		rec: &store.Run{ID: "run-1", Status: store.Running}}
	_, la, err := claimRun(ctx, a, "run-1", time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	stale.lease = la
	if err := a.PutRun(ctx, stale.rec); err != nil {
		t.Fatal(err)
	}
	stale.noteStage(ctx, "split", 3, 16)

	lb, err := takeOver(ctx, b, stale.rec)
	if err != nil {
		t.Fatal(err)
	}
	succ := &trainRun{o: Options{Runs: b}, res: &Result{RunID: "run-1"}, log: log, lease: lb,
		rec: &store.Run{ID: "run-1", Status: store.Running, Profile: "successor"}}
	succ.noteStage(ctx, "candidates", 6, 16)
	note := func(when string, want string) {
		t.Helper()
		rec, err := b.GetRecord(ctx, StageKind, "run-1")
		if want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: stage note %v, %v; want none", when, rec, err)
			}
			return
		}
		var n StageNote
		if err != nil || json.Unmarshal(rec.Value, &n) != nil || n.Stage != want {
			t.Errorf("%s: stage note %v, %v; want stage %q", when, rec, err, want)
		}
	}
	note("after the successor's note", "candidates")

	stale.noteStage(ctx, "save", 10, 16)
	note("after the stale holder's note", "candidates")
	if err := stale.finish(ctx, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("the stale holder's finish = %v; want its lease lost", err)
	}
	note("after the stale holder finished", "candidates")

	succ.noteStage(ctx, "save", 10, 16)
	note("after the successor's second note", "save")
	if err := succ.finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	note("after the successor finished", "")
}
