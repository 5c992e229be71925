package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// keyspaceFlags are the notify-keyspace-events classes NotifyRecords
// needs: keyspace channels (K), hash commands (h: a record write is
// HSET) and generic ones (g: DEL, RENAME, EXPIRE).
const keyspaceFlags = "Khg"

// NotifyRecords subscribes to Redis keyspace notifications for the
// records of kind and returns a channel that receives a value soon after
// any of them is written or deleted, by any process; several changes in a
// row may arrive as one value. The subscription is active when
// NotifyRecords returns; stop ends it and closes the channel. go-redis
// resubscribes after a lost connection, but changes made meanwhile are
// not announced, so callers should still poll now and then.
//
// If the server's notify-keyspace-events lacks the classes needed, they
// are added with CONFIG SET; where CONFIG is not allowed (managed Redis,
// ACLs) NotifyRecords returns an error and the caller polls instead.
func (s *Store) NotifyRecords(ctx context.Context, kind string) (changes <-chan struct{}, stop func() error, err error) {
	if err := s.enableKeyspaceEvents(ctx); err != nil {
		return nil, nil, err
	}
	channel := "__keyspace@" + strconv.Itoa(s.c.Options().DB) + "__:" + globEscape(s.recKey(kind, "")) + "*"
	ps := s.c.PSubscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		ps.Close()
		return nil, nil, s.wrap("subscribe to "+kind+" record changes", err)
	}
	out := make(chan struct{}, 1)
	msgs := ps.Channel()
	go func() {
		defer close(out)
		for range msgs { // closed by ps.Close
			select {
			case out <- struct{}{}:
			default: // a change is already pending
			}
		}
	}()
	return out, ps.Close, nil
}

// enableKeyspaceEvents makes sure notify-keyspace-events includes
// keyspaceFlags, keeping the classes already set.
func (s *Store) enableKeyspaceEvents(ctx context.Context) error {
	cur, err := s.c.ConfigGet(ctx, "notify-keyspace-events").Result()
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
	if err := s.c.ConfigSet(ctx, "notify-keyspace-events", want).Err(); err != nil {
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
