package redis

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/internal/redact"
)

// Conn says where a store's server is and how to talk to it.
type Conn struct {
	Addr     string // host:port
	DB       int
	Username string
	Password string
	TLS      bool
	// DialTimeout, ReadTimeout and WriteTimeout bound each connection
	// attempt and each reply; PoolSize bounds open connections.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	PoolSize                               int
}

// String is the server's URL without credentials.
func (c Conn) String() string {
	scheme := "redis"
	if c.TLS {
		scheme = "rediss"
	}
	return fmt.Sprintf("%s://%s/%d", scheme, c.Addr, c.DB)
}

// pool returns a connection pool for c. A connection idle for more than a
// second is pinged before use, so one broken by a server restart is
// replaced rather than failing a command.
func (c Conn) pool() *redigo.Pool {
	opts := []redigo.DialOption{
		redigo.DialConnectTimeout(c.DialTimeout), redigo.DialReadTimeout(c.ReadTimeout),
		redigo.DialWriteTimeout(c.WriteTimeout), redigo.DialDatabase(c.DB),
	}
	if c.Password != "" {
		opts = append(opts, redigo.DialPassword(c.Password))
	}
	if c.Username != "" {
		opts = append(opts, redigo.DialUsername(c.Username))
	}
	if c.TLS {
		host, _, _ := net.SplitHostPort(c.Addr)
		opts = append(opts, redigo.DialUseTLS(true), redigo.DialTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}))
	}
	return &redigo.Pool{
		MaxIdle:     c.PoolSize,
		MaxActive:   c.PoolSize,
		Wait:        true,
		IdleTimeout: 5 * time.Minute,
		DialContext: func(ctx context.Context) (redigo.Conn, error) {
			return redigo.DialContext(ctx, "tcp", c.Addr, opts...)
		},
		TestOnBorrowContext: func(ctx context.Context, conn redigo.Conn, lastUsed time.Time) error {
			if time.Since(lastUsed) < time.Second {
				return nil
			}
			_, err := redigo.DoContext(conn, ctx, "PING")
			return err
		},
	}
}

// ParseURL splits a store URL into connection settings and the store's
// own options:
//
//	redis://[[user]:password@]host:port/db?prefix=P&cache_ttl=168h&cache_max=100000
//	rediss://...   (TLS)
//
// Connection parameters: dial_timeout (default 2s, so an unreachable
// server is noticed quickly), read_timeout and write_timeout (5s),
// pool_size (10 per CPU). Any other parameter is an error.
func ParseURL(raw string) (Conn, Options, error) {
	var o Options
	c := Conn{DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, PoolSize: 10 * runtime.GOMAXPROCS(0)}
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error quotes the whole URL, password included; keep only
		// what is wrong with it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return c, o, fmt.Errorf("redis store URL %q: %w", redact.Userinfo(raw), err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return c, o, fmt.Errorf("redis store URL %q: scheme must be redis or rediss", redact.Userinfo(raw))
	}
	c.TLS = u.Scheme == "rediss"
	c.Addr = u.Host
	if u.Port() == "" {
		c.Addr = net.JoinHostPort(cmp.Or(u.Hostname(), "localhost"), "6379")
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			c.Username, c.Password = u.User.Username(), pw
		} else {
			c.Password = u.User.Username() // redis-cli's user-less form
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if c.DB, err = strconv.Atoi(db); err != nil || c.DB < 0 {
			return c, o, fmt.Errorf("redis store URL %q: database %q is not a number", redact.Userinfo(raw), db)
		}
	}
	for k, vs := range u.Query() {
		if err := c.set(&o, k, vs[len(vs)-1]); err != nil {
			return c, o, fmt.Errorf("redis store URL %q: %w", redact.Userinfo(raw), err)
		}
	}
	return c, o, nil
}

// set applies one URL query parameter.
func (c *Conn) set(o *Options, k, v string) error {
	var err error
	duration := func(d *time.Duration) {
		if *d, err = time.ParseDuration(v); err != nil || *d < 0 {
			err = fmt.Errorf("%s %q is not a duration like 24h", k, v)
		}
	}
	count := func(n *int) {
		if *n, err = strconv.Atoi(v); err != nil || *n < 0 {
			err = fmt.Errorf("%s %q is not a count >= 0", k, v)
		}
	}
	switch k {
	case "prefix":
		o.Prefix = v
	case "cache_ttl":
		duration(&o.CacheTTL)
	case "cache_max":
		count(&o.CacheMax)
	case "dial_timeout":
		duration(&c.DialTimeout)
	case "read_timeout":
		duration(&c.ReadTimeout)
	case "write_timeout":
		duration(&c.WriteTimeout)
	case "pool_size":
		count(&c.PoolSize)
		if err == nil && c.PoolSize == 0 {
			err = fmt.Errorf("pool_size must be at least 1")
		}
	default:
		return fmt.Errorf("unknown parameter %q (known: prefix, cache_ttl, cache_max, dial_timeout, read_timeout, write_timeout, pool_size)", k)
	}
	return err
}
