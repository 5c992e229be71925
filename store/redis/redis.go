// Package redis implements tabforge's store on a Redis server (through
// redigo, whose small API keeps the binary lean): runs, the keyed record
// space, studies and trials. Writes that touch several keys run in
// MULTI/EXEC transactions or Lua scripts, so they are atomic and safe for
// several processes; ids come from INCR. Records of kind store.CacheKind
// may expire (a TTL) and are bounded in number (oldest evicted first);
// nothing else ever expires.
//
// Key layout, below a prefix (default "tabforge:"):
//
//	run:ID          hash {doc: run JSON, created: unix ns}
//	runs            zset of run ids by creation time (µs)
//	runids          zset of run ids, score 0, for prefix lookups
//	rec:KIND\0KEY   hash {v: value, u: updated unix ns}
//	reck:KIND       zset of the kind's keys, score 0, for ordered prefix lists
//	rect:KIND       zset of cache keys by update time, for the size bound
//	kinds           zset of record kinds, score 0
//	studies         hash study name → id
//	study:ID        hash {name, direction, created}
//	trials:SID      hash trial number → trial id
//	tnext:SID       next trial number of the study
//	trial:ID        hash {study, number, state, value, retry_of, error, start, finish}
//	tparams:ID      hash parameter name → {"v": value, "d": distribution}
//	tvals:ID        hash step → intermediate value
//	seq:study, seq:trial  id counters
//	epoch           a random marker of the data set (see Epoch)
package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

// Options are the store's own settings, beside the connection's.
type Options struct {
	// Prefix starts every key, so several tabforge deployments can share
	// one database. "" means "tabforge:".
	Prefix string
	// CacheTTL is how long a cache record lives after its last write; 0
	// means it does not expire.
	CacheTTL time.Duration
	// CacheMax bounds the number of cache records; the oldest are evicted
	// beyond it. 0 means no bound.
	CacheMax int
}

// Store is a Redis-backed store. It is safe for concurrent use.
type Store struct {
	pool *redigo.Pool
	db   int
	p    string
	o    Options
	name string
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// Open connects to the server raw names and pings it. A server that
// cannot be reached gives an error wrapping store.ErrUnavailable; a
// wrong password or database gives a plain one.
func Open(ctx context.Context, raw string) (*Store, error) {
	cfg, o, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	s := New(cfg, o)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// New returns a store on the server cfg names; it does not connect.
func New(cfg Conn, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "tabforge:"
	}
	return &Store{pool: cfg.pool(), db: cfg.DB, p: o.Prefix, o: o, name: cfg.String()}
}

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.p }

// URL implements store.Store.
func (s *Store) URL() string { return s.name }

// Close closes the connections.
func (s *Store) Close() error { return s.pool.Close() }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.Do(ctx, "PING"); err != nil {
		return s.wrap("ping "+s.name, err)
	}
	return nil
}

// Do runs one command and returns its reply, for what the store's own
// methods do not cover (CONFIG SET in tests, keyspace notifications).
func (s *Store) Do(ctx context.Context, cmd string, args ...any) (any, error) {
	var reply any
	err := s.with(ctx, func(c redigo.Conn) (err error) {
		reply, err = redigo.DoContext(c, ctx, cmd, args...)
		return err
	})
	return reply, err
}

// with runs fn on a pooled connection, and once more on a new one if the
// first was broken: a restarted server leaves broken idle connections
// behind, and the failover store must not take one for a dead server.
func (s *Store) with(ctx context.Context, fn func(redigo.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := s.pool.GetContext(ctx)
		if err != nil {
			return err
		}
		err = fn(c)
		c.Close()
		if err == nil || attempt > 0 || !unavailable(err) || ctx.Err() != nil {
			return err
		}
	}
}

// command is one Redis command of a pipeline or transaction.
type command struct {
	name string
	args []any
}

func cmd(name string, args ...any) command { return command{name, args} }

// pipeline sends cmds in one round trip and returns their replies; the
// first error reply becomes the error.
func (s *Store) pipeline(ctx context.Context, cmds []command) ([]any, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	var out []any
	err := s.with(ctx, func(c redigo.Conn) error {
		for _, k := range cmds {
			if err := c.Send(k.name, k.args...); err != nil {
				return err
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		out = make([]any, len(cmds))
		var first error
		for i := range cmds {
			r, err := redigo.ReceiveContext(c, ctx)
			if err != nil {
				var re redigo.Error
				if !errors.As(err, &re) {
					return err // the connection is gone
				}
				if first == nil {
					first = err
				}
			}
			out[i] = r
		}
		return first
	})
	return out, err
}

// tx runs cmds in one MULTI/EXEC transaction.
func (s *Store) tx(ctx context.Context, cmds []command) error {
	return s.with(ctx, func(c redigo.Conn) error {
		if err := c.Send("MULTI"); err != nil {
			return err
		}
		for _, k := range cmds {
			if err := c.Send(k.name, k.args...); err != nil {
				return err
			}
		}
		replies, err := redigo.Values(redigo.DoContext(c, ctx, "EXEC"))
		if err != nil {
			return err
		}
		for _, r := range replies {
			if re, ok := r.(redigo.Error); ok {
				return re
			}
		}
		return nil
	})
}

// script runs a Lua script with arguments (no keys: the prefix is an
// argument).
func (s *Store) script(ctx context.Context, sc *redigo.Script, args ...any) (any, error) {
	var reply any
	err := s.with(ctx, func(c redigo.Conn) (err error) {
		reply, err = sc.DoContext(ctx, c, args...)
		return err
	})
	return reply, err
}

// unavailable reports whether err means the server cannot be reached or
// cannot serve now, as opposed to a refused command.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, redigo.ErrNil) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redigo.ErrPoolExhausted) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"LOADING", "MISCONF", "READONLY", "MASTERDOWN", "TRYAGAIN"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "closed pool") || strings.Contains(msg, "connection closed")
}

// wrap adds context to err, marking it store.ErrUnavailable when the
// server could not be reached.
func (s *Store) wrap(what string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, store.ErrUnavailable, err)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOAUTH") {
		return fmt.Errorf("%s: authentication failed (check the password in the store URL): %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func nanos(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func fromNanos(v string) time.Time {
	n, _ := strconv.ParseInt(v, 10, 64)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func fstr(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fparse(v string) float64 {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nanValue
	}
	return f
}

var nanValue = func() float64 { f, _ := strconv.ParseFloat("NaN", 64); return f }()
