package ui

import (
	"context"
	"encoding/json"
	"html/template"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/store"
)

// TestConfigAgainstProfile: the run page marks the keys that differ from
// its profile's defaults (research sets max_evals 100 and use_stacking
// true: the run's max_evals 100 is not a change, its use_stacking false
// is), and says "profile unknown" for a run recorded without one.
func TestConfigAgainstProfile(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	_, body := get(t, ts.URL, "/runs/cmp-a")
	changed := map[string]string{}
	for _, m := range regexp.MustCompile(`<tr class="changed"><th scope="row">([^<]+)</th><td><code>[^<]*</code></td><td><code>([^<]*)</code>`).FindAllStringSubmatch(body, -1) {
		changed[m[1]] = m[2]
	}
	if changed["use_stacking"] != "true" {
		t.Errorf("use_stacking not marked as changed from research's true: %v", changed)
	}
	if _, ok := changed["max_evals"]; ok {
		t.Errorf("max_evals 100 marked as changed; research sets 100: %v", changed)
	}
	if !strings.Contains(body, `<dd id="profile">research</dd>`) {
		t.Error("the run page does not name the profile")
	}
	_, old := get(t, ts.URL, "/runs/cmp-b")
	if !strings.Contains(old, "profile unknown") || strings.Contains(old, `class="changed"`) {
		t.Error("a run without a profile is not shown as profile unknown, or has changed keys")
	}
}

// TestDownloads: a run's model file and report download as attachments
// named after the run; missing files and unknown kinds are 404, and
// nothing but GET is served.
func TestDownloads(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	tests := []struct {
		path, ctype, file, body string
		code                    int
	}{
		{"/runs/cmp-a/download/model", "application/octet-stream", "cmp-a-model.tfm", "model bytes of cmp-a", 200},
		{"/runs/cmp-a/download/report", "text/html; charset=utf-8", "cmp-a-report.html", f.reportOK, 200},
		{"/runs/cmp-b/download/model", "", "", "", 404},
		{"/runs/cmp-a/download/secret", "", "", "", 404},
		{"/runs/no-such/download/model", "", "", "", 404},
	}
	for _, tt := range tests {
		resp, err := http.Get(ts.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s = %d; want %d", tt.path, resp.StatusCode, tt.code)
			continue
		}
		if tt.code != 200 {
			continue
		}
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != tt.file || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("GET %s: Content-Disposition %q; want an attachment named %s", tt.path, resp.Header.Get("Content-Disposition"), tt.file)
		}
		if ct := resp.Header.Get("Content-Type"); ct != tt.ctype || !strings.Contains(string(b), tt.body) {
			t.Errorf("GET %s: %s %.100q; want %s with %q", tt.path, ct, b, tt.ctype, tt.body)
		}
	}
	resp, err := http.Post(ts.URL+"/runs/cmp-a/download/model", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST download = %d; want 405", resp.StatusCode)
	}
	_, body := get(t, ts.URL, "/runs/cmp-a")
	if !strings.Contains(body, `href="runs/cmp-a/download/model"`) {
		t.Error("the run page has no model download link")
	}
}

// TestLeaderboardZeroMetric: a metric of exactly 0 (a perfect RMSE, the
// CV spread of folds that all scored the same) is a number on the run
// page; only a metric the entry lacks is "-". The template's `with`
// took 0 for missing.
func TestLeaderboardZeroMetric(t *testing.T) {
	st := openSQLite(t)
	res := `{"metric":"rmse","best":"tree","leaderboard":[` +
		`{"model":"tree","cv":{"rmse":0},"cv_std":{"rmse":0},"test":{"rmse":0}},` +
		`{"model":"linear","cv":{"rmse":0.25},"cv_std":{"rmse":null},"test":{}}]}`
	run := &store.Run{ID: "zero", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Status: store.Succeeded,
		Task: "regression", Target: "y", Best: "tree", Result: json.RawMessage(res)}
	if err := st.PutRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, st, Options{})
	_, body := get(t, ts.URL, "/runs/zero")
	cells := regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, c := range cells {
		got = append(got, c[1])
	}
	// Per entry: CV, ± std, test, fit seconds.
	want := []string{"0.0000", "0.0000", "0.0000", "0s", "0.2500", "-", "-", "0s"}
	if !slices.Equal(got, want) {
		t.Errorf("leaderboard cells %q; want %q", got, want)
	}
}

// TestConfigAsTyped: a config value with <, > or & reads as typed on the
// run page and in a comparison (both flatten the config to JSON text,
// which json.Marshal wrote as \u003cscript\u003e...), and stays escaped.
func TestConfigAsTyped(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	want := "<code>" + template.HTMLEscapeString(`"`+xss+`"`) + "</code>"
	for _, path := range []string{"/runs/xss-run", "/compare?runs=cmp-a,xss-run"} {
		_, body := get(t, ts.URL, path)
		if !strings.Contains(body, want) || strings.Contains(body, `\u003c`) {
			t.Errorf("GET %s does not show the config's target as %s:\n%s", path, want, regexp.MustCompile(`<code>[^<]*script[^<]*</code>`).FindString(body))
		}
	}
}

// TestTargetWithoutTask: a run that failed before its task was known (a
// missing target column) shows its target alone, not "y ()".
func TestTargetWithoutTask(t *testing.T) {
	st := openSQLite(t)
	created := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	for _, r := range []*store.Run{
		{ID: "early", Created: created, Status: store.Failed, Target: "churned", Error: `1 column(s) not found in the data: target "churned"`},
		{ID: "done", Created: created, Status: store.Succeeded, Target: "churned", Task: "binary"},
	} {
		if err := st.PutRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	ts := serve(t, st, Options{})
	for id, want := range map[string]string{"early": `<dd id="target">churned</dd>`, "done": `<dd id="target">churned (binary)</dd>`} {
		if _, body := get(t, ts.URL, "/runs/"+id); !strings.Contains(body, want) {
			t.Errorf("GET /runs/%s does not show %s:\n%s", id, want, regexp.MustCompile(`<dt>Target</dt><dd[^>]*>[^<]*</dd>`).FindString(body))
		}
	}
}
