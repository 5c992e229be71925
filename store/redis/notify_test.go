package redis

import (
	"context"
	"io"
	"net"
	"sync"
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

// TestNotifyRecordsStopDuringReconnect calls stop while the subscription
// is being re-established after a dropped connection, and the dial
// succeeds after stop returned: the goroutine used to keep that new
// connection and listen on it for good, so the channel never closed and
// a Redis connection leaked with each such stop.
func TestNotifyRecordsStopDuringReconnect(t *testing.T) {
	redistest.Binary(t)
	ctx := context.Background()
	p := newHoldProxy(t, redistest.Start(t).Addr)
	s, err := Open(ctx, "redis://"+p.ln.Addr().String()+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	changes, stop, err := s.NotifyRecords(ctx, "registry.name")
	if err != nil {
		t.Fatal(err)
	}
	p.holdNew()
	p.dropAll() // the subscription's connection ends; a redial follows
	select {
	case <-p.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription was not redialled within 10s")
	}
	if err := stop(); err != nil {
		t.Errorf("stop between connections = %v; want nil", err) // it closed the dropped one again
	}
	p.release() // the redial completes after stop
	for {
		select {
		case _, ok := <-changes:
			if !ok {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the channel was not closed within 10s of stop")
		}
	}
}

// holdProxy forwards TCP connections to a Redis server; after holdNew, a
// new connection is accepted (and announced on held) but not forwarded
// until release, which stands for a dial still under way.
type holdProxy struct {
	ln      net.Listener
	target  string
	held    chan struct{}
	mu      sync.Mutex
	hold    chan struct{} // closed by release; nil: forward at once
	conns   []net.Conn
	stopped bool
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{ln: ln, target: target, held: make(chan struct{}, 1)}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		p.release()
		p.dropAll()
	})
	go p.accept()
	return p
}

func (p *holdProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *holdProxy) forward(c net.Conn) {
	p.mu.Lock()
	hold := p.hold
	p.mu.Unlock()
	if hold != nil {
		select {
		case p.held <- struct{}{}:
		default:
		}
		<-hold
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	go func() { io.Copy(c, up); c.Close() }()
}

func (p *holdProxy) holdNew() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = make(chan struct{})
}

func (p *holdProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold != nil {
		close(p.hold)
		p.hold = nil
	}
}

// dropAll closes every forwarded connection, as a network failure would.
func (p *holdProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
