package dist

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tabforge/tabforge/internal/syncbuf"
)

// TestUndecodableResultRunsAgain: a result in the results bucket that
// does not decode is a lost result, not a failed run: the driver warns
// once naming the unit, deletes it, queues the unit again and collects
// the rerun's result. It used to fail the whole run.
func TestUndecodableResultRunsAgain(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	r := &squareRunner{}
	startWorkers(t, s.URL(), r, 1)
	c, err := dial(ctx, s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for _, garbage := range []string{"\x00\xff corrupt", `{"value":5}`, `{"value":"MQ==","worker":`} {
		t.Run(fmt.Sprintf("%q", garbage), func(t *testing.T) {
			var log syncbuf.Buffer
			e, err := Dial(ctx, s.URL(), Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			units := squareUnits(3)
			if _, err := collect(t, e, units); err != nil {
				t.Fatal(err)
			}
			runs := r.runs.Load()
			rk := resultKey(units[2].Key)
			if _, err := c.results.Put(ctx, rk, []byte(garbage)); err != nil {
				t.Fatal(err)
			}
			// The same units again: their messages are acked and gone, so
			// the driver reads the results, among them the undecodable one.
			got, err := collect(t, e, units)
			if err != nil || got[0] != "0" || got[1] != "1" || got[2] != "4" {
				t.Fatalf("Execute = %v, %v; want [0 1 4]", got, err)
			}
			if n := r.runs.Load() - runs; n != 1 {
				t.Errorf("workers ran %d units again; want 1, the one whose result was undecodable", n)
			}
			if n := strings.Count(log.String(), "cannot be decoded"); n != 1 || !strings.Contains(log.String(), "unit="+rk[:13]) {
				t.Errorf("driver log has %d warnings about undecodable results; want 1 naming unit %s:\n%s", n, rk[:13], log.String())
			}
			if e, err := c.results.Get(ctx, rk); err != nil {
				t.Errorf("the rerun left no result: %v", err)
			} else if _, err := decodeResult(e.Value()); err != nil {
				t.Errorf("the rerun left an undecodable result %q", e.Value())
			}
		})
	}
}

// TestUndecodableResultsBounded: a unit whose result keeps arriving
// undecodable fails the run once the driver has discarded
// maxUndecodable of them, with an error naming the result and saying how
// often, rather than running it for ever.
func TestUndecodableResultsBounded(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	startWorkers(t, s.URL(), &blockRunner{}, 1) // it never writes a result
	c, err := dial(ctx, s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	units := squareUnits(1)
	rk := resultKey(units[0].Key)
	garbage := []byte("not json")
	if _, err := c.results.Put(ctx, rk, garbage); err != nil {
		t.Fatal(err)
	}
	// A stray writer puts the garbage back whenever it is deleted.
	w, err := c.results.Watch(ctx, rk)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for e := range w.Updates() {
			if e != nil && (e.Operation() != jetstream.KeyValuePut || !bytes.Equal(e.Value(), garbage)) {
				_, _ = c.results.Put(ctx, rk, garbage)
			}
		}
	}()
	defer func() { _ = w.Stop(); <-stopped }()
	e, err := Dial(ctx, s.URL(), Options{Logger: failureLog(t, "driver")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = collect(t, e, units)
	want := fmt.Sprintf("dist: result %s: invalid character", rk)
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("undecodable %d times", maxUndecodable+1)) {
		t.Errorf("Execute = %v; want an error starting %q that says it was undecodable %d times", err, want, maxUndecodable+1)
	}
}
