package continuous

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

// takeOverClaims is a KnowledgeRecorder that, when the challenger's run
// reports its experiment (before it registers the challenger), does what
// a second watcher does when the first stalled past its claim: it takes
// every watch claim over, forging the claim records with newer tokens.
type takeOverClaims struct {
	st    store.Claimer
	taken int
}

func (c *takeOverClaims) RecordExperiment(ctx context.Context, _ *pipeline.Experiment) error {
	recs, err := c.st.ListRecords(ctx, store.ClaimKind, claimPrefix)
	if err != nil {
		return err
	}
	for _, r := range recs {
		v := fmt.Appendf(nil, "%s %d", time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), store.LeaseToken(r)+1000)
		if err := c.st.PutRecord(ctx, store.ClaimKind, r.Key, v); err != nil {
			return err
		}
		c.taken++
	}
	return nil
}

// TestWatchPublishFenced: a watcher whose claim on a data version is
// taken over while it retrains publishes nothing: the challenger's
// version, a promotion, the retrain decision and the version's handled
// record are all written under the claim, so the registry and the
// watched versions stay as the watcher that took over finds them. The
// stale watcher used to register and promote after its successor.
func TestWatchPublishFenced(t *testing.T) {
	ctx := context.Background()
	env, _, after, champ := withChampion(t)
	state := env.Runs.(store.Claimer)
	thief := &takeOverClaims{st: state}
	env.Knowledge = thief
	dir := t.TempDir()
	copyFile(t, after, filepath.Join(dir, "c_2023.csv"))
	versions, err := env.Registry.List(ctx, "sales")
	if err != nil {
		t.Fatal(err)
	}
	history, err := env.Registry.History(ctx, "sales")
	if err != nil {
		t.Fatal(err)
	}
	got, err := WatchOnce(ctx, env, state, WatchOptions{Name: "sales", Dir: dir})
	if thief.taken != 1 {
		t.Fatalf("claims taken over during the retrain: %d; want 1", thief.taken)
	}
	if err != nil || len(got) != 0 {
		t.Errorf("stale watcher's scan handled %d versions, %v; want none, left to the successor", len(got), err)
	}
	if now, err := env.Registry.List(ctx, "sales"); err != nil || len(now) != len(versions) {
		t.Errorf("versions of sales after the stale retrain: %d, %v; want the %d before", len(now), err, len(versions))
	}
	if m, err := env.Registry.Production(ctx, "sales"); err != nil || m.Version != champ {
		t.Errorf("production after the stale retrain: %v; want the champion %s", cmp.Or(err, fmt.Errorf("version %s", m.Version)), champ)
	}
	if now, err := env.Registry.History(ctx, "sales"); err != nil || len(now) != len(history) {
		t.Errorf("history of sales after the stale retrain: %d events, %v; want the %d before", len(now), err, len(history))
	}
	if handled, err := Watched(ctx, state, "sales"); err != nil || len(handled) != 0 {
		t.Errorf("watched versions %d, %v; want none recorded by the stale watcher", len(handled), err)
	}
}
