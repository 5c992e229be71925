package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// keyspaceFlags are the notify-keyspace-events classes NotifyRecords
// needs: keyspace channels (K), hash commands (h: a record write is
// HSET) and generic ones (g: DEL, RENAME, EXPIRE).
const keyspaceFlags = "Khg"

// NotifyRecords subscribes to Redis keyspace notifications for the
// records of kind and returns a channel that receives a value soon after
// any of them is written or deleted, by any process; several changes in a
// row may arrive as one value. The subscription is active when
// NotifyRecords returns; stop ends it and closes the channel. A lost
// connection is re-established (once a second until it succeeds), and a
// value is sent when it is, since changes made meanwhile were not
// announced; callers should still poll now and then.
//
// If the server's notify-keyspace-events lacks the classes needed, they
// are added with CONFIG SET; where CONFIG is not allowed (managed Redis,
// ACLs) NotifyRecords returns an error and the caller polls instead.
func (s *Store) NotifyRecords(ctx context.Context, kind string) (changes <-chan struct{}, stop func() error, err error) {
	if err := s.enableKeyspaceEvents(ctx); err != nil {
		return nil, nil, err
	}
	pattern := "__keyspace@" + strconv.Itoa(s.db) + "__:" + globEscape(s.recKey(kind, "")) + "*"
	psc, err := s.psubscribe(ctx, pattern)
	if err != nil {
		return nil, nil, s.wrap("subscribe to "+kind+" record changes", err)
	}
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default: // a change is already pending
		}
	}
	done := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex // guards psc against stop during a reconnection
	// adopt makes next the connection stop closes (nil: none), unless
	// stop ran while it was being dialled: then nobody would ever close
	// it, and the goroutine would listen on it for good, so it is closed
	// here.
	adopt := func(next *redigo.PubSubConn) bool {
		mu.Lock()
		defer mu.Unlock()
		select {
		case <-done:
			if next != nil {
				next.Conn.Close()
			}
			return false
		default:
			psc = next
			return true
		}
	}
	go func() {
		defer close(out)
		for {
			mu.Lock()
			cur := psc
			mu.Unlock()
			if cur != nil {
				listen(cur, signal) // closes cur
				adopt(nil)          // so stop does not close it again, which errs
			}
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			next, err := s.psubscribe(context.Background(), pattern)
			if !adopt(next) {
				return
			}
			if err == nil {
				signal()
			}
		}
	}()
	stop = func() error {
		once.Do(func() { close(done) })
		mu.Lock()
		defer mu.Unlock()
		if psc != nil {
			return psc.Conn.Close()
		}
		return nil
	}
	return out, stop, nil
}

// psubscribe opens a connection of its own subscribed to pattern.
func (s *Store) psubscribe(ctx context.Context, pattern string) (*redigo.PubSubConn, error) {
	c, err := s.pool.DialContext(ctx)
	if err != nil {
		return nil, err
	}
	psc := &redigo.PubSubConn{Conn: c}
	if err := psc.PSubscribe(pattern); err != nil {
		c.Close()
		return nil, err
	}
	switch v := psc.ReceiveContext(ctx).(type) { // the subscription's confirmation
	case error:
		c.Close()
		return nil, v
	case redigo.Subscription:
		return psc, nil
	default:
		c.Close()
		return nil, fmt.Errorf("PSUBSCRIBE answered %T", v)
	}
}

// listen calls signal for every message on psc until its connection ends.
func listen(psc *redigo.PubSubConn, signal func()) {
	defer psc.Conn.Close()
	for {
		switch psc.ReceiveWithTimeout(0).(type) { // idle for hours is fine
		case redigo.Message:
			signal()
		case error:
			return
		}
	}
}

// enableKeyspaceEvents makes sure notify-keyspace-events includes
// keyspaceFlags, keeping the classes already set.
func (s *Store) enableKeyspaceEvents(ctx context.Context) error {
	cur, err := redigo.StringMap(s.Do(ctx, "CONFIG", "GET", "notify-keyspace-events"))
	if err != nil {
		return s.wrap("keyspace notifications: CONFIG GET notify-keyspace-events", err)
	}
	have := cur["notify-keyspace-events"]
	want := have
	for _, f := range keyspaceFlags {
		// A (all classes) covers h and g; K must be present itself.
		if !strings.ContainsRune(have, f) && (f == 'K' || !strings.ContainsRune(have, 'A')) {
			want += string(f)
		}
	}
	if want == have {
		return nil
	}
	if _, err := s.Do(ctx, "CONFIG", "SET", "notify-keyspace-events", want); err != nil {
		return s.wrap(fmt.Sprintf("keyspace notifications are off (notify-keyspace-events %q) and CONFIG SET failed", have), err)
	}
	return nil
}

// globEscape quotes the glob metacharacters of PSUBSCRIBE patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
