package redis

import (
	"context"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestNotifyRecords subscribes to one kind's records: a write and a
// delete of that kind are announced, a write of another kind is not, and
// stop closes the channel.
func TestNotifyRecords(t *testing.T) {
	redistest.Binary(t)
	ctx := context.Background()
	s, err := Open(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	changes, stop, err := s.NotifyRecords(ctx, "registry.name")
	if err != nil {
		t.Fatal(err)
	}
	expect := func(what string, want bool) {
		t.Helper()
		select {
		case _, ok := <-changes:
			if !want || !ok {
				t.Fatalf("%s: announced (channel open %v); want no announcement", what, ok)
			}
		case <-time.After(300 * time.Millisecond):
			if want {
				t.Fatalf("%s: not announced within 300ms", what)
			}
		}
	}
	if err := s.PutRecord(ctx, "registry.model", "v1", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	expect("a write of another kind", false)
	if err := s.PutRecord(ctx, "registry.name", "houses", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	expect("a write", true)
	if _, err := s.Do(ctx, "DEL", s.recKey("registry.name", "houses")); err != nil {
		t.Fatal(err)
	}
	expect("a delete", true)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-changes:
		if ok {
			t.Fatal("a value after stop")
		}
	case <-time.After(time.Second):
		t.Fatal("stop did not close the channel")
	}
}

func TestGlobEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tabforge:rec:k\x00", "tabforge:rec:k\x00"},
		{`a*b?[c]\`, `a\*b\?\[c\]\\`},
	} {
		if got := globEscape(c.in); got != c.want {
			t.Errorf("globEscape(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestNotifyRecordsReconnects restarts the server under a subscription:
// the subscription comes back by itself, says so with a value (changes
// made meanwhile were not announced), and announces later writes.
func TestNotifyRecordsReconnects(t *testing.T) {
	redistest.Binary(t)
	ctx := context.Background()
	srv := redistest.Start(t)
	s, err := Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	changes, stop, err := s.NotifyRecords(ctx, "registry.name")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	srv.Restart(t)
	// The restarted server lost its CONFIG SET (it is not in the AOF).
	if err := s.enableKeyspaceEvents(ctx); err != nil {
		t.Fatal(err)
	}
	wait := func(what string) {
		t.Helper()
		select {
		case _, ok := <-changes:
			if !ok {
				t.Fatalf("%s: the channel closed", what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no value within 5s", what)
		}
	}
	wait("resubscribed")
	if err := s.PutRecord(ctx, "registry.name", "houses", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	wait("a write after the restart")
}
