package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/cache"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
)

func TestKey(t *testing.T) {
	type cfg struct {
		Eta    float64 `json:"eta"`
		Rounds int     `json:"rounds"`
	}
	base := cache.Key("datahash", cfg{0.1, 100}, "gbdt/v1")
	if len(base) != 64 {
		t.Fatalf("Key length %d; want 64 hex digits", len(base))
	}
	tests := []struct {
		name  string
		parts []any
		same  bool
	}{
		{"same parts", []any{"datahash", cfg{0.1, 100}, "gbdt/v1"}, true},
		{"map of the same fields", []any{"datahash", map[string]any{"rounds": 100, "eta": 0.1}, "gbdt/v1"}, true},
		{"dataset changed", []any{"datahash2", cfg{0.1, 100}, "gbdt/v1"}, false},
		{"config changed", []any{"datahash", cfg{0.1, 101}, "gbdt/v1"}, false},
		{"code version changed", []any{"datahash", cfg{0.1, 100}, "gbdt/v2"}, false},
		{"parts run together", []any{"datahashgbdt/v1", cfg{0.1, 100}}, false},
	}
	for _, tt := range tests {
		if got := cache.Key(tt.parts...) == base; got != tt.same {
			t.Errorf("%s: key equal = %v; want %v", tt.name, got, tt.same)
		}
	}
	if cache.Key("a", "bc") == cache.Key("ab", "c") {
		t.Error(`Key("a", "bc") == Key("ab", "c")`)
	}
}

func TestDoHitsAndMisses(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	calls := 0
	compute := func(context.Context) ([]byte, error) { calls++; return []byte(fmt.Sprint("v", calls)), nil }
	c := cache.New(s, nil)
	for i, want := range []struct {
		key string
		val string
		hit bool
	}{{"a", "v1", false}, {"a", "v1", true}, {"b", "v2", false}, {"a", "v1", true}} {
		v, hit, err := c.Do(ctx, want.key, compute)
		if err != nil || string(v) != want.val || hit != want.hit {
			t.Errorf("lookup %d: Do(%s) = %s, %v, %v; want %s, %v", i, want.key, v, hit, err, want.val, want.hit)
		}
	}
	if st := c.Stats(); st != (cache.Stats{Hits: 2, Misses: 2}) || st.HitRate() != 0.5 {
		t.Errorf("Stats = %+v (rate %v); want 2 hits, 2 misses", st, st.HitRate())
	}
	// A new cache (the next run) on the same store hits at once.
	c2 := cache.New(s, nil)
	if _, hit, _ := c2.Do(ctx, "b", compute); !hit || calls != 2 {
		t.Errorf("second run: hit %v after %d computations; want a hit", hit, calls)
	}
	boom := errors.New("boom")
	if _, _, err := c2.Do(ctx, "c", func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("compute error = %v; want boom", err)
	}
	if _, err := s.GetRecord(ctx, store.CacheKind, "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed computation was cached: %v", err)
	}
}

// TestStoreFailureIsNotFatal closes the store under the cache: lookups
// warn, compute and succeed.
func TestStoreFailureIsNotFatal(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var logs bytes.Buffer
	c := cache.New(s, slog.New(slog.NewTextHandler(&logs, nil)))
	v, hit, err := c.Do(ctx, "k", func(context.Context) ([]byte, error) { return []byte("fresh"), nil })
	if err != nil || hit || string(v) != "fresh" {
		t.Errorf("Do on a closed store = %s, %v, %v; want fresh, computed", v, hit, err)
	}
	if st := c.Stats(); st.Errors != 2 || st.Misses != 1 {
		t.Errorf("Stats = %+v; want 2 errors (read, write), 1 miss", st)
	}
	if !strings.Contains(logs.String(), "cache: read failed") || !strings.Contains(logs.String(), "cache: write failed") {
		t.Errorf("no warnings logged: %q", logs.String())
	}
}

// TestCacheWriteOutlivesContext: a value whose computation ended after
// the caller's context did (the last fold of a tuning trial finishing past
// the deadline) is still stored.
func TestCacheWriteOutlivesContext(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := cache.New(s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := c.Do(ctx, "k", func(context.Context) ([]byte, error) {
		cancel()
		return []byte("late"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Errors != 0 {
		t.Fatalf("Stats = %+v; want no write error", st)
	}
	v, hit, err := c.Do(context.Background(), "k", func(context.Context) ([]byte, error) { return []byte("recomputed"), nil })
	if err != nil || !hit || string(v) != "late" {
		t.Errorf("second Do = %s, %v, %v; want the late value from the cache", v, hit, err)
	}
}

func ExampleCache_Do() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "cache-example")
	defer os.RemoveAll(dir)
	s, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	c := cache.New(s, nil)
	key := cache.Key("dataset-hash", map[string]any{"model": "ridge", "alpha": 1.0}, "ridge/v1")
	fit := func(ctx context.Context) ([]byte, error) { return []byte(`{"r2":0.88}`), nil }
	for range 2 {
		v, hit, err := c.Do(ctx, key, fit)
		fmt.Println(string(v), hit, err)
	}
	st := c.Stats()
	fmt.Printf("hits %d misses %d rate %.2f\n", st.Hits, st.Misses, st.HitRate())
	// Output:
	// {"r2":0.88} false <nil>
	// {"r2":0.88} true <nil>
	// hits 1 misses 1 rate 0.50
}

func BenchmarkDoHit(b *testing.B) {
	ctx := context.Background()
	c := cache.New(storetest.SQLite(b), nil)
	key := cache.Key("bench")
	c.Do(ctx, key, func(context.Context) ([]byte, error) { return make([]byte, 1024), nil })
	for b.Loop() {
		if _, hit, _ := c.Do(ctx, key, nil); !hit {
			b.Fatal("miss")
		}
	}
}

// TestDoCancelledBeforeRead: a lookup whose context is already cancelled
// (the other folds of a pruned trial) returns the context's error without
// computing, counting or warning of a store failure; it used to log
// "cache: read failed; computing instead" in a run that went well.
func TestDoCancelledBeforeRead(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var logs bytes.Buffer
	c := cache.New(s, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	computed := false
	_, _, err = c.Do(ctx, "k", func(context.Context) ([]byte, error) { computed = true; return []byte("v"), nil })
	if !errors.Is(err, context.Canceled) || computed {
		t.Errorf("Do on a cancelled context: err %v, computed %v; want context.Canceled, not computed", err, computed)
	}
	if st := c.Stats(); st.Errors != 0 || logs.Len() != 0 {
		t.Errorf("Stats = %+v, logs %q; want no store failure", st, logs.String())
	}
}

// TestDamagedRecordIsRecomputed: a cache record that is not what Do wrote
// (cut short, a byte changed, empty, or written raw by an older build) is
// a miss: the value is computed, counted as a miss and an error, and the
// record is written afresh, so the next lookup hits the good value. A
// damaged record used to be served as a hit run after run: a truncated
// chart went into every report, and "7 hits (hit rate 100%)" was printed
// while every step recomputed.
func TestDamagedRecordIsRecomputed(t *testing.T) {
	ctx := context.Background()
	damage := []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"cut short", func(b []byte) []byte { return b[:len(b)-3] }},
		{"byte changed", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"empty", func([]byte) []byte { return []byte{} }},
		{"raw value", func([]byte) []byte { return []byte("fresh value") }},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			s := storetest.SQLite(t)
			compute := func(context.Context) ([]byte, error) { return []byte("fresh value"), nil }
			if _, _, err := cache.New(s, nil).Do(ctx, "k", compute); err != nil {
				t.Fatal(err)
			}
			r, err := s.GetRecord(ctx, store.CacheKind, "k")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutRecord(ctx, store.CacheKind, "k", d.edit(r.Value)); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			c := cache.New(s, slog.New(slog.NewTextHandler(&logs, nil)))
			for i, wantHit := range []bool{false, true} {
				v, hit, err := c.Do(ctx, "k", compute)
				if err != nil || hit != wantHit || string(v) != "fresh value" {
					t.Errorf("lookup %d = %q, hit %v, %v; want %q, hit %v", i+1, v, hit, err, "fresh value", wantHit)
				}
			}
			if st := c.Stats(); st.Hits != 1 || st.Misses != 1 || st.Errors != 1 {
				t.Errorf("stats %+v; want 1 hit, 1 miss, 1 error", st)
			}
			if !strings.Contains(logs.String(), "checksum") {
				t.Errorf("log %q does not say the record was damaged", logs.String())
			}
		})
	}
}
