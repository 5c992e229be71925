package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
)

// TestPutRunFencedWritesAsPutRun: a run written twice under its lease
// leaves in Redis what PutRun leaves (the run's hash, whose creation time
// the first write set, and its places in both indexes), key for key.
func TestPutRunFencedWritesAsPutRun(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	first := &store.Run{ID: "r1", Created: created, Status: store.Running, Config: json.RawMessage(`{"target":"price"}`), Target: "price"}
	second := *first
	second.Created, second.Status, second.Best = created.Add(time.Hour), store.Succeeded, "gbdt"
	var states []map[string]string
	for _, fenced := range []bool{false, true} {
		u := redistest.URL(t)
		s, err := redis.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, l, err := store.Claim(ctx, s, store.LeaseKind, first.ID, time.Hour, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		for _, r := range []*store.Run{first, &second} {
			if fenced {
				err = s.PutRunFenced(ctx, r, l.Fence())
			} else {
				err = s.PutRun(ctx, r)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		states = append(states, runState(t, u, first.ID))
	}
	if fmt.Sprint(states[0]) != fmt.Sprint(states[1]) {
		t.Errorf("redis after PutRunFenced:\n%v\nafter PutRun:\n%v", states[1], states[0])
	}
	if states[0]["created"] != fmt.Sprint(created.UnixNano()) {
		t.Errorf("run hash created = %q; want the first write's %d", states[0]["created"], created.UnixNano())
	}
}

// runState reads, under the key prefix of the store URL u, run id's hash
// and its scores in the run indexes.
func runState(t *testing.T, u, id string) map[string]string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p := parsed.Query().Get("prefix")
	c, err := redigo.Dial("tcp", parsed.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	state, err := redigo.StringMap(c.Do("HGETALL", p+"run:"+id))
	if err != nil {
		t.Fatal(err)
	}
	for _, index := range []string{"runs", "runids"} {
		score, err := redigo.String(c.Do("ZSCORE", p+index, id))
		if err != nil {
			t.Fatalf("%s score of %s: %v", index, id, err)
		}
		state["index "+index] = score
	}
	return state
}

// BenchmarkPutRun writes a run's record as a pipeline does at each
// stage: unfenced (PutRun) and fenced by its lease (PutRunFenced).
func BenchmarkPutRun(b *testing.B) {
	ctx := context.Background()
	s, err := redis.Open(ctx, redistest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// A leaderboard of 20 candidates, about the size of a real result.
	result, _ := json.Marshal(map[string]any{"leaderboard": strings.Repeat(`{"name":"gbdt","cv":{"rmse":0.123}},`, 20)})
	r := &store.Run{ID: "bench-run", Created: time.Now(), Status: store.Running, DatasetPath: "data/houses.csv",
		Config: json.RawMessage(`{"target":"price"}`), Task: "regression", Target: "price", Result: result}
	_, l, err := store.Claim(ctx, s, store.LeaseKind, r.ID, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Release()
	for _, fenced := range []bool{false, true} {
		b.Run(fmt.Sprint("fenced=", fenced), func(b *testing.B) {
			for b.Loop() {
				var err error
				if fenced {
					err = s.PutRunFenced(ctx, r, l.Fence())
				} else {
					err = s.PutRun(ctx, r)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
