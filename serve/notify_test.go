package serve

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// redisRegistry opens a registry on the Redis database at url and a
// fresh artifact directory, with two ridge versions of "houses" (seeds 1
// and 2), the first in production.
func redisRegistry(t *testing.T, url string) (reg *registry.Registry, v1, v2 string) {
	t.Helper()
	ctx := context.Background()
	st, err := redis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	arts, err := artifact.Open(ctx, filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arts.Close() })
	reg = registry.New(st)
	v1 = trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1).Version
	v2 = trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 2).Version
	promote(t, reg, v1)
	return reg, v1, v2
}

// swapLatencies alternates n promotions of v2 and rollbacks to v1 and
// returns, for each, the time from just before the registry call to the
// first answer naming the new version; a swap not served within limit
// fails t.
func swapLatencies(t *testing.T, f *fixture, v1, v2 string, n int, limit time.Duration) []time.Duration {
	t.Helper()
	header, rows := csvRows(t, "ames.csv", 1)
	body := mlflowBodies(header, rows)["dataframe_split"]
	var out []time.Duration
	for i := range n {
		want, began := v2, time.Now()
		if i%2 == 0 {
			promote(t, f.reg, v2)
		} else {
			want = v1
			if _, err := f.reg.Rollback(context.Background(), "houses", registry.PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for {
			code, msg, version := f.post("/invocations", "application/json", body)
			if code != 200 {
				t.Fatalf("swap %d: %d %s", i, code, msg)
			}
			if version == want {
				break
			}
			if time.Since(began) > limit {
				t.Fatalf("swap %d: still serving %s %s after %s went to production", i, version, limit, want)
			}
			time.Sleep(time.Millisecond)
		}
		out = append(out, time.Since(began))
	}
	slices.Sort(out)
	return out
}

// TestHotSwapRedisNotifications serves a Redis registry with polling
// turned down to once an hour, so only keyspace notifications can make
// the server see a change: 10 alternating promotions and rollbacks must
// each be served within a second.
func TestHotSwapRedisNotifications(t *testing.T) {
	redistest.Binary(t)
	reg, v1, v2 := redisRegistry(t, redistest.URL(t))
	var logs syncBuffer
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	lat := swapLatencies(t, f, v1, v2, 10, time.Second)
	t.Logf("promote→served through keyspace notifications: median %s, max %s over %d swaps", lat[len(lat)/2], lat[len(lat)-1], len(lat))
	if !strings.Contains(logs.String(), "keyspace notifications") {
		t.Errorf("no notification line in the server log:\n%s", logs.String())
	}
}

// TestRedisNotificationsRefused connects as a Redis user that may not
// run CONFIG, on a private server with notifications off: the server
// logs that it polls instead and still follows a promotion.
func TestRedisNotificationsRefused(t *testing.T) {
	redistest.Binary(t)
	srv := redistest.Start(t)
	ctx := context.Background()
	c, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do(ctx, "ACL", "SETUSER", "app", "on", ">pw", "~*", "&*", "+@all", "-config"); err != nil {
		t.Fatal(err)
	}
	reg, v1, v2 := redisRegistry(t, "redis://app:pw@"+srv.Addr+"/0")
	var logs syncBuffer
	f := start(t, reg, Options{PollInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	lat := swapLatencies(t, f, v1, v2, 2, time.Second)
	t.Logf("promote→served by polling every 100ms: max %s", lat[len(lat)-1])
	if got := logs.String(); !strings.Contains(got, "no registry change notifications; polling") || !strings.Contains(got, "CONFIG") {
		t.Errorf("server log does not say it polls because CONFIG was refused:\n%s", got)
	}
	if v, _ := c.Do(ctx, "CONFIG", "GET", "notify-keyspace-events"); fmt.Sprintf("%s", v) != "[notify-keyspace-events ]" {
		t.Errorf("notify-keyspace-events = %s; the restricted user changed it", v)
	}
}
