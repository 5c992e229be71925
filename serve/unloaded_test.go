package serve

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/internal/syncbuf"
	"github.com/tabforge/tabforge/registry"
)

// TestUnloadedProduction: a server started while a name's production
// version cannot load (its artifact is corrupt) answers that name's
// requests 503 saying the version failed to load and is retried, and
// serves it once the artifact is mended. It answered 404 "model is not
// served", /ping said "promote a version to production" of a name that
// had one, and the log said it kept a deployment it never had.
func TestUnloadedProduction(t *testing.T) {
	ctx := context.Background()
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, v1.Version)
	good := corrupt(t, arts, v1.Artifact.Key)
	var logs syncbuf.Buffer
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	split := mustJSON(map[string]any{"dataframe_split": map[string]any{"columns": header, "data": rows}})
	v2 := mustJSON(v2Body(header, rows))
	for _, tc := range []struct{ method, path, contentType string }{
		{http.MethodPost, "/invocations", "application/json"},
		{http.MethodPost, "/v1/models/churn/invocations", "application/json"},
		{http.MethodPost, "/v2/models/churn/infer", "application/json"},
		{http.MethodGet, "/v2/models/churn", ""},
		{http.MethodGet, "/v2/models/churn/ready", ""},
		{http.MethodGet, "/ping", ""},
	} {
		var body []byte
		switch {
		case strings.HasPrefix(tc.path, "/v2/") && tc.method == http.MethodPost:
			body = v2
		case tc.method == http.MethodPost:
			body = split
		}
		resp, out := f.do(tc.method, tc.path, body, "Content-Type", tc.contentType)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(string(out), "production version "+v1.Version+" failed to load") {
			t.Errorf("%s %s with production unloadable = %d (Retry-After %q) %s; want 503 naming the failed version",
				tc.method, tc.path, resp.StatusCode, resp.Header.Get("Retry-After"), out)
		}
		if strings.Contains(string(out), "checksum") || strings.Contains(string(out), "file://") {
			t.Errorf("%s %s: %s; the artifact's path and checksum are for the log, not clients", tc.method, tc.path, out)
		}
	}
	if l := grep(logs.String(), "load failed"); !strings.Contains(l, "keeping=\"nothing") {
		t.Errorf("load failure logged as %q; want it to say nothing is kept", l)
	}
	if _, err := arts.Put(ctx, v1.Artifact.Key, good); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if code, out, version := f.post("/invocations", "application/json", split); code != http.StatusOK || version != v1.Version {
		t.Errorf("after the artifact was mended: %d %s (version %q); want 200 from %s", code, out, version, v1.Version)
	}
}

// TestLoadBackoff: the watcher's polls retry a plan that failed to load
// at doubling intervals (each retry reads and checksums its artifacts
// again, four times a second by default), while an explicit Refresh
// retries at once.
func TestLoadBackoff(t *testing.T) {
	ctx := context.Background()
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, v1.Version)
	good := corrupt(t, arts, v1.Artifact.Key)
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	split := mustJSON(map[string]any{"dataframe_split": map[string]any{"columns": header, "data": rows}})
	if _, err := arts.Put(ctx, v1.Artifact.Key, good); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.refreshNames(ctx, true); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := f.post("/invocations", "application/json", split); code != http.StatusServiceUnavailable {
		t.Errorf("a poll within the backoff: %d %s; want 503 still (not retried yet)", code, out)
	}
	if err := f.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if code, out, version := f.post("/invocations", "application/json", split); code != http.StatusOK || version != v1.Version {
		t.Errorf("after an explicit Refresh: %d %s (version %q); want 200 from %s", code, out, version, v1.Version)
	}
	if b := f.srv.backoff["churn"]; b != nil {
		t.Errorf("backoff kept after the plan loaded: %+v", b)
	}
}

func TestBackOffDoubles(t *testing.T) {
	s := &Server{o: Options{PollInterval: 250 * time.Millisecond}}
	plan := &registry.Plan{Production: "v1"}
	var waits []time.Duration
	for range 9 {
		s.backOff("m", plan, "")
		waits = append(waits, s.backoff["m"].wait)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v; want %v", waits, want)
	}
	s.backOff("m", &registry.Plan{Production: "v2"}, "")
	if w := s.backoff["m"].wait; w != 250*time.Millisecond {
		t.Errorf("another plan waits %v; want the poll interval again", w)
	}
	if b := s.backoff["m"]; !b.waiting(&registry.Plan{Production: "v2"}, time.Now()) || b.waiting(plan, time.Now()) ||
		b.waiting(&registry.Plan{Production: "v2"}, time.Now().Add(time.Second)) {
		t.Error("waiting: want true for the failed plan before its retry only")
	}
}

// TestServerReadiness: /v2/health/ready is the V2 protocol's server
// readiness, every served model ready; one model that cannot load makes
// it 503 naming that model, while /ping stays 200 and ReadyWhenAny
// restores "any model loaded".
func TestServerReadiness(t *testing.T) {
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	other := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn2", 2)
	promote(t, reg, other.Version)
	corrupt(t, arts, other.Artifact.Key)
	for _, tc := range []struct {
		any                 bool
		wantReady, wantPing int
	}{{false, http.StatusServiceUnavailable, http.StatusOK}, {true, http.StatusOK, http.StatusOK}} {
		f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour, ReadyWhenAny: tc.any})
		resp, out := f.do(http.MethodGet, "/v2/health/ready", nil)
		if resp.StatusCode != tc.wantReady || (tc.wantReady != http.StatusOK && !strings.Contains(string(out), "churn2")) {
			t.Errorf("ReadyWhenAny %v: /v2/health/ready = %d %s; want %d naming churn2", tc.any, resp.StatusCode, out, tc.wantReady)
		}
		if resp, out := f.do(http.MethodGet, "/version", nil); resp.StatusCode != http.StatusOK ||
			!strings.Contains(string(out), `"churn2":{"unloaded":"its production version `+other.Version+` failed to load`) {
			t.Errorf("/version = %d %s; want churn2 listed as unloaded", resp.StatusCode, out)
		}
		if resp, out := f.do(http.MethodGet, "/ping", nil); resp.StatusCode != tc.wantPing {
			t.Errorf("ReadyWhenAny %v: /ping = %d %s; want %d", tc.any, resp.StatusCode, out, tc.wantPing)
		}
	}
}
