package bench

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/dist"
	"github.com/tabforge/tabforge/pipeline"
)

// refuseRunner fails every unit: pings never reach a Runner.
type refuseRunner struct{}

func (refuseRunner) Run(context.Context, string, string, json.RawMessage, int) ([]byte, error) {
	return nil, errors.New("no unit but pings expected")
}

// TestPingOptionsNameTheBuild: bench dist's overhead pings go to a worker
// of the bench's build, as train's units do. Pings that named no build
// travel on the shared subject, which a worker of a build takes only
// between 2 s waits for its own: they measured that wait (a median of
// 2000 ms where the README shows 0.45). With a worker of no build on the
// same queue, an unnamed ping is its, so the worker that answers shows
// which subject the ping took, without timing anything.
func TestPingOptionsNameTheBuild(t *testing.T) {
	srv, err := dist.Start(0)
	if errors.Is(err, dist.ErrNoEmbedded) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	const build = "tabforge 9.9+test"
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for id, code := range map[string]string{"own": build, "unnamed": ""} {
		wg.Go(func() {
			w := &dist.Worker{Runner: refuseRunner{}, ID: id, Concurrency: 1, CodeVersion: code}
			if err := w.Run(ctx, srv.URL()); err != nil {
				t.Errorf("worker %s: %v", id, err)
			}
		})
	}
	if err := waitAlive(ctx, srv.URL(), 2); err != nil {
		t.Fatal(err)
	}
	e, err := dist.Dial(ctx, srv.URL(), pingOptions(DistOptions{CodeVersion: build}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	u := pipeline.Unit{Key: "ping/test", Kind: dist.PingKind, Spec: []byte("{}"),
		Run: func(context.Context) ([]byte, error) { return nil, nil }}
	var by string
	err = e.Execute(ctx, []pipeline.Unit{u}, func(_ int, r pipeline.UnitResult) error {
		by = r.Worker
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if by != "own" {
		t.Errorf("the ping ran on worker %q; want %q, the worker of the bench's build", by, "own")
	}
}
