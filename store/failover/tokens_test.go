package failover_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestTokensAcrossFailover: process A holds a lease taken on Redis;
// redis-server is killed and process B, sharing the fallback file, takes
// the same lease there (the fallback never saw A's). B's token must
// follow A's, so that A's next renewal, which compares tokens, finds the
// lease lost instead of taking B's for its own. After the restart and
// replay, a lease taken on Redis must follow every token handed out on
// the fallback, though Redis's own counter never saw them and moved on
// meanwhile.
func TestTokensAcrossFailover(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	fb := filepath.Join(t.TempDir(), "fallback.db")
	a, b := openOnRedis(t, srv, fb), openOnRedis(t, srv, fb)
	defer a.Close()
	defer b.Close()
	_, la, err := store.Claim(ctx, a, store.ClaimKind, "x", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release()
	srv.Kill()
	_, lb, err := store.Claim(ctx, b, store.ClaimKind, "x", time.Hour, quiet())
	if err != nil {
		t.Fatalf("claim on the fallback: %v", err)
	}
	defer lb.Release()
	if lb.Token <= la.Token {
		t.Errorf("token on the fallback %d; want more than %d, handed out on redis before the kill", lb.Token, la.Token)
	}
	if err := la.Renew(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renewal by the holder from before the kill: %v; want it lost to the fallback's claim", err)
	}
	_, lz, err := store.Claim(ctx, b, store.ClaimKind, "z", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer lz.Release()

	srv.Restart(t)
	// A process without this fallback takes a lease on Redis before the
	// replay: Redis's counter moves on from the state the fallback's
	// tokens were counted from, though less far.
	other, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, lw, err := store.Claim(ctx, other, store.ClaimKind, "w", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer lw.Release()
	c := openOnRedis(t, srv, fb) // replays the journal, the token counter with it
	defer c.Close()
	_, lc, err := store.Claim(ctx, c, store.ClaimKind, "y", time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Release()
	if lc.Token <= lz.Token {
		t.Errorf("token on redis after the replay %d; want more than %d, handed out on the fallback", lc.Token, lz.Token)
	}
}
