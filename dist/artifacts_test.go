package dist

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/pipeline"
)

// artifactRunner answers a unit with the artifact its spec names, as
// fetched by the worker running it.
type artifactRunner struct{ w *Worker }

func (r artifactRunner) Run(ctx context.Context, _, _ string, spec json.RawMessage, _ int) ([]byte, error) {
	var hash string
	if err := json.Unmarshal(spec, &hash); err != nil {
		return nil, err
	}
	return r.w.Artifact(ctx, hash)
}

// TestShareArtifact: bytes the driver shares reach a worker by name,
// sharing them twice is harmless, and a name never shared is an error
// that says so.
func TestShareArtifact(t *testing.T) {
	s := startServer(t)
	w := &Worker{Concurrency: 1, ID: "fetcher", Logger: failureLog(t, "worker")}
	w.Runner = artifactRunner{w}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, s.URL()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	e, err := Dial(context.Background(), s.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	payload := []byte(strings.Repeat("predictions ", 20000)) // several object chunks
	name := fmt.Sprintf("h%d", time.Now().UnixNano())
	for range 2 {
		if err := e.ShareArtifact(context.Background(), name, payload); err != nil {
			t.Fatal(err)
		}
	}
	unit := func(hash string) []pipeline.Unit {
		spec, _ := json.Marshal(hash)
		return []pipeline.Unit{{Key: fmt.Sprintf("artifact/%s/%d", hash, time.Now().UnixNano()), Kind: "artifact", Spec: spec}}
	}
	got, err := collectTimeout(t, e, unit(name), 30*time.Second)
	if err != nil || got[0] != string(payload) {
		t.Errorf("worker fetched %d bytes, %v; want the %d shared", len(got[0]), err, len(payload))
	}
	if _, err := collectTimeout(t, e, unit("never-shared"), 30*time.Second); err == nil || !strings.Contains(err.Error(), "was it shared?") {
		t.Errorf("fetching an artifact never shared: %v; want an error asking whether it was shared", err)
	}
}
