package redis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/storetest"
	"github.com/tabforge/tabforge/tune"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		addr    string
		db      int
		pass    string
		tls     bool
		o       redis.Options
		wantErr bool
	}{
		{url: "redis://127.0.0.1:6379/2", addr: "127.0.0.1:6379", db: 2},
		{url: "rediss://:s3cret@cache.example:6380/1?prefix=tf:&cache_ttl=24h&cache_max=1000", addr: "cache.example:6380", db: 1, pass: "s3cret", tls: true,
			o: redis.Options{Prefix: "tf:", CacheTTL: 24 * time.Hour, CacheMax: 1000}},
		{url: "redis://u:p@h:1/0", addr: "h:1", pass: "p"},
		{url: "redis://h:1/x", wantErr: true},
		{url: "redis://h:1/0?cache_ttl=-1h", wantErr: true},
		{url: "redis://h:1/0?cache_max=many", wantErr: true},
		{url: "redis://h:1/0?nonsense=1", wantErr: true},
		{url: "http://h:1/0", wantErr: true},
	}
	for _, tt := range tests {
		ro, o, err := redis.ParseURL(tt.url)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseURL(%q) succeeded; want error", tt.url)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.url, err)
			continue
		}
		if ro.Addr != tt.addr || ro.DB != tt.db || ro.Password != tt.pass || ro.TLS != tt.tls || o != tt.o {
			t.Errorf("ParseURL(%q) = %s db %d pass %q tls %v %+v", tt.url, ro.Addr, ro.DB, ro.Password, ro.TLS, o)
		}
	}
}

// TestParseURLHidesPassword: a store URL that does not parse or does not
// fit must not print its password in the error, whatever is wrong with it.
func TestParseURLHidesPassword(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis://:s3cretpw@h:12a/0", `"redis://:xxxxx@h:12a/0": invalid port`},
		{"redis://:s3cretpw@h%zz:1/0", `invalid URL escape "%zz"`},
		{"redis://:s3cr/etpw@h:1/0", `"redis://:xxxxx@h:1/0"`},
		{"redis://s3cretpw@h:1/x", `"redis://xxxxx@h:1/x": database "x" is not a number`},
		{"http://u:s3cretpw@h:1/0", `"http://u:xxxxx@h:1/0": scheme must be redis or rediss`},
		{"redis://:s3cretpw@h:1/0?nonsense=1", `unknown parameter "nonsense"`},
	}
	for _, tt := range tests {
		_, _, err := redis.ParseURL(tt.url)
		if err == nil || strings.Contains(err.Error(), "etpw") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseURL(%q) error = %v; want one containing %s and no password", tt.url, err, tt.want)
		}
	}
}

// TestAOFRestart kills redis-server with SIGKILL and restarts it on the
// same directory: everything written before the kill is still there.
func TestAOFRestart(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Fill(t, s)
	for i := range 200 {
		if err := s.PutRun(ctx, &store.Run{ID: fmt.Sprintf("bulk%03d", i), Created: time.Now(), Status: store.Succeeded, Config: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	dump := func(s store.Store) string {
		var b bytes.Buffer
		if _, err := store.Export(ctx, s, &b, true); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	before := dump(s)
	srv.Kill()
	if err := s.PutRun(ctx, &store.Run{ID: "lost"}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("PutRun on a killed server: %v; want ErrUnavailable", err)
	}
	s.Close()
	srv.Restart(t)
	s, err = redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if after := dump(s); after != before {
		t.Errorf("data changed across kill -9 and restart:\n%s\nvs\n%s", before, after)
	}
	// Counters survive too: new trials do not reuse ids or numbers.
	studies, _ := s.ListStudies(ctx)
	id, n, err := s.CreateTrial(ctx, studies[0].ID, tune.FrozenTrial{State: tune.Running, RetryOf: -1})
	if err != nil || n != 2 {
		t.Errorf("CreateTrial after restart: id %d number %d, %v; want number 2", id, n, err)
	}
}

// TestCachePolicy checks that cache records expire and are bounded in
// number, and that nothing else is.
func TestCachePolicy(t *testing.T) {
	ctx := context.Background()
	s, err := redis.Open(ctx, redistest.URL(t)+"&cache_ttl=300ms&cache_max=5")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 8 {
		if err := s.PutRecord(ctx, store.CacheKind, fmt.Sprintf("c%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRecord(ctx, "registry", fmt.Sprintf("r%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct update times
	}
	cache, _ := s.ListRecords(ctx, store.CacheKind, "")
	if len(cache) != 5 || cache[0].Key != "c3" {
		t.Errorf("cache after 8 writes with cache_max=5: %d records from %v; want c3..c7", len(cache), keys(cache))
	}
	pttl := func(key string) (time.Duration, error) {
		ms, err := s.Do(ctx, "PTTL", s.Prefix()+key)
		n, _ := ms.(int64)
		return time.Duration(n) * time.Millisecond, err
	}
	ttl, err := pttl("rec:cache\x00c7")
	if err != nil || ttl <= 0 || ttl > 300*time.Millisecond {
		t.Errorf("cache record TTL %v, %v; want (0, 300ms]", ttl, err)
	}
	if ttl, _ := pttl("rec:registry\x00r0"); ttl != -time.Millisecond {
		t.Errorf("registry record TTL %v; want none (-1)", ttl)
	}
	time.Sleep(400 * time.Millisecond)
	if cache, _ := s.ListRecords(ctx, store.CacheKind, ""); len(cache) != 0 {
		t.Errorf("cache records after their TTL: %v", keys(cache))
	}
	if _, err := s.GetRecord(ctx, store.CacheKind, "c7"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired cache record: %v; want ErrNotFound", err)
	}
	if reg, _ := s.ListRecords(ctx, "registry", ""); len(reg) != 8 {
		t.Errorf("registry records: %d; want all 8 (they never expire)", len(reg))
	}
}

func keys(rs []*store.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func TestUnreachable(t *testing.T) {
	_, err := redis.Open(context.Background(), "redis://127.0.0.1:1/0")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open on a closed port: %v; want ErrUnavailable", err)
	}
}
