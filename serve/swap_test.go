package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/internal/syncbuf"
	"github.com/tabforge/tabforge/registry"
)

// TestHotSwapUnderLoad runs 4 clients against the server while another
// goroutine alternates 20 promotions and rollbacks of two versions in the
// registry (as another process would): no request may fail, every answer
// names one of the two versions, and after each change the server serves
// the new production version within a second.
func TestHotSwapUnderLoad(t *testing.T) {
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1)
	v2 := trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 2)
	promote(t, reg, v1.Version)
	f := start(t, reg, Options{PollInterval: 100 * time.Millisecond})
	header, rows := csvRows(t, "ames.csv", 1)
	body := mlflowBodies(header, rows)["dataframe_split"]

	var served sync.Map // version → count
	var failed, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(f.url+"/invocations", "application/json", bytes.NewReader(body))
				total.Add(1)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					if err == nil {
						resp.Body.Close()
					}
					continue
				}
				resp.Body.Close()
				n, _ := served.LoadOrStore(resp.Header.Get("X-Model-Version"), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}
	ctx := context.Background()
	var worst time.Duration
	for i := range 20 {
		var want string
		if i%2 == 0 {
			promote(t, reg, v2.Version)
			want = v2.Version
		} else {
			e, err := reg.Rollback(ctx, "houses", registry.PromoteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want = e.Version
		}
		changed := time.Now()
		for {
			_, _, version := f.post("/invocations", "application/json", body)
			if version == want {
				break
			}
			if time.Since(changed) > time.Second {
				t.Fatalf("swap %d: still serving %s a second after %s went to production", i, version, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
		worst = max(worst, time.Since(changed))
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during 20 swaps", failed.Load(), total.Load())
	}
	served.Range(func(k, _ any) bool {
		if k != v1.Version && k != v2.Version {
			t.Errorf("served version %q", k)
		}
		return true
	})
	t.Logf("20 swaps under 4 clients: %d requests, 0 failed, slowest swap seen after %s", total.Load(), worst)
	if m := f.get("/metrics"); !strings.Contains(m, `tabforge_model_swaps_total{model="houses"} 21`) {
		t.Errorf("swaps metric:\n%s", grep(m, "swaps"))
	}
}

// TestRoutes sets a split, a sticky key and a shadow through the admin
// endpoint: the same routing key always gets the same version, keyless
// traffic splits by weight, shadow answers go to the prediction log and
// never to the client, and the route change is in the history.
func TestRoutes(t *testing.T) {
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	v2 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 2)
	v3 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 3)
	promote(t, reg, v1.Version)
	if _, err := reg.SetAlias(context.Background(), "churn", "challenger", v2.Version, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	f := start(t, reg, Options{AdminToken: "s3cret", PredictionLog: &log, PollInterval: time.Hour})

	route := map[string]any{"split": "production=70,challenger=30", "shadow": []string{v3.Version[:8]}, "reason": "A/B test"}
	if code, out, _ := f.postJSON("/admin/models/churn/route", route); code != http.StatusUnauthorized {
		t.Fatalf("route without token: %d %s", code, out)
	}
	if code, out, _ := f.postJSON("/admin/models/churn/route", route, "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Fatalf("route with a wrong token: %d %s", code, out)
	}
	if code, out, _ := f.postJSON("/admin/models/churn/route", route, "Authorization", "Bearer s3cret"); code != http.StatusOK {
		t.Fatalf("route: %d %s", code, out)
	}
	waitFor(t, func() bool { d, _, _ := f.srv.deployment("churn"); return len(d.split) == 2 })

	header, rows := csvRows(t, "mlc_churn.csv", 1)
	body := mlflowBodies(header, rows)["dataframe_split"]
	counts := map[string]int{}
	for i := range 400 {
		key := fmt.Sprint("customer-", i%40)
		_, out, v := f.post("/invocations", "application/json", body, "X-Routing-Key", key)
		if strings.Contains(string(out), "shadow") || (v != v1.Version && v != v2.Version) {
			t.Fatalf("answer from %q: %s", v, out)
		}
		_, _, again := f.post("/invocations", "application/json", body, "X-Routing-Key", key)
		if again != v {
			t.Fatalf("routing key %s went to %s, then %s", key, v, again)
		}
		_, _, nokey := f.post("/invocations", "application/json", body)
		counts[nokey]++
	}
	// 400 keyless requests at 70/30: the share of v1 is 0.7 ± 0.07 with
	// overwhelming probability (over 3 standard deviations).
	if share := float64(counts[v1.Version]) / 400; share < 0.63 || share > 0.77 {
		t.Errorf("keyless split %v; want about 70/30", counts)
	}
	f.srv.shadows.Wait()
	lines := log.lines(t, f)
	shadows := 0
	for _, l := range lines {
		if l.Shadow {
			shadows++
			if l.Version != v3.Version || l.Variant != "shadow" {
				t.Fatalf("shadow line %+v", l)
			}
		}
	}
	if shadows == 0 || len(lines) < 1200 {
		t.Errorf("prediction log: %d lines, %d shadow", len(lines), shadows)
	}
	h, err := reg.History(context.Background(), "churn")
	if err != nil || h[len(h)-1].Action != "route" || !strings.Contains(h[len(h)-1].Reason, "split @production=70,@challenger=30") {
		t.Errorf("history: %+v %v", h[len(h)-1], err)
	}
	// A misspelt field used to read as an empty body, which removed the
	// route; an oversized body is a 413.
	if code, out, _ := f.postJSON("/admin/models/churn/route", map[string]any{"splits": "production=90,challenger=10"}, "Authorization", "Bearer s3cret"); code != http.StatusBadRequest || !strings.Contains(string(out), "splits") {
		t.Errorf("route with a misspelt field: %d %s; want 400 naming it", code, out)
	}
	if code, out, _ := f.postJSON("/admin/models/churn/route", map[string]any{"reason": strings.Repeat("x", 2<<20)}, "Authorization", "Bearer s3cret"); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized admin body: %d %.200s; want 413", code, out)
	}
	if rt, _ := reg.RouteOf(context.Background(), "churn"); len(rt.Split) != 2 {
		t.Errorf("refused admin bodies changed the route: %+v", rt)
	}
	// Admin rollback with no earlier production version is a conflict.
	if code, out, _ := f.postJSON("/admin/models/churn/rollback", nil, "Authorization", "Bearer s3cret"); code != http.StatusConflict {
		t.Errorf("rollback with nothing to roll back to: %d %s", code, out)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
	}
}

// syncBuffer is the server's log, safe for its writer and the test.
type syncBuffer struct{ syncbuf.Buffer }

// lines waits for the log writer's periodic flush and decodes the lines.
func (b *syncBuffer) lines(t *testing.T, _ *fixture) []logLine {
	t.Helper()
	time.Sleep(1200 * time.Millisecond)
	var out []logLine
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	for dec.More() {
		var l logLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// TestLoadFailureLoggedOnce: a promoted version whose artifact is corrupt
// keeps the name on the version it had; every refresh retries it and
// counts the failure, but the log says so once, not at every poll.
func TestLoadFailureLoggedOnce(t *testing.T) {
	ctx := context.Background()
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	v2 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 2)
	promote(t, reg, v1.Version)
	var logs syncBuffer
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	corrupt(t, arts, v2.Artifact.Key)
	promote(t, reg, v2.Version)
	for range 3 {
		if err := f.srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "load failed"); n != 1 {
		t.Errorf("%d load-failure lines after 3 refreshes; want 1:\n%s", n, logs.String())
	}
	if got := f.srv.set.Load().names["churn"].plan.Production; got != v1.Version {
		t.Errorf("serving %s; want %s kept", got, v1.Version)
	}
}

// TestBrokenArmLeftOut: a split arm or shadow whose artifact is corrupt
// used to fail the name's whole deployment, so a server started then did
// not serve the name at all although its production version was sound.
// Now production serves the traffic, the failure is logged and counted
// once, and the arm joins when its artifact is mended.
func TestBrokenArmLeftOut(t *testing.T) {
	ctx := context.Background()
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	v2 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 2)
	v3 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 3)
	promote(t, reg, v1.Version)
	good2, good3 := corrupt(t, arts, v2.Artifact.Key), corrupt(t, arts, v3.Artifact.Key)
	rt := registry.Route{Split: []registry.Share{{Target: "production", Weight: 50}, {Target: v2.Version, Weight: 50}}, Shadow: []string{v3.Version}}
	if _, err := reg.SetRoute(ctx, "churn", rt, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 3 {
		if err := f.srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d := f.srv.set.Load().names["churn"]
	if d == nil || len(d.split) != 1 || d.split[0].v.m.Version != v1.Version || len(d.shadows) != 0 {
		t.Fatalf("deployment with a corrupt arm = %+v; want production alone", d)
	}
	if n := strings.Count(logs.String(), "load failed"); n != 2 {
		t.Errorf("%d load-failure lines after 3 refreshes; want 2 (the arm and the shadow, once each):\n%s", n, logs.String())
	}
	if m := f.get("/metrics"); !strings.Contains(m, `tabforge_model_load_errors_total{model="churn"} 2`) {
		t.Errorf("metrics do not count each failure once:\n%s", m)
	}
	for key, good := range map[string][]byte{v2.Artifact.Key: good2, v3.Artifact.Key: good3} {
		if _, err := arts.Put(ctx, key, good); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d := f.srv.set.Load().names["churn"]; len(d.split) != 2 || len(d.shadows) != 1 || len(d.failed) != 0 {
		t.Errorf("after the artifact was mended: %d arms, %d shadows, failed %v; want 2, 1, none", len(d.split), len(d.shadows), d.failed)
	}
}

// corrupt flips a bit in the middle of the artifact at key, which its
// checksum then refuses, and returns the bytes it held.
func corrupt(t *testing.T, arts *artifact.Store, key string) []byte {
	t.Helper()
	good, err := arts.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/3] ^= 0x20
	if _, err := arts.Put(context.Background(), key, bad); err != nil {
		t.Fatal(err)
	}
	return good
}
