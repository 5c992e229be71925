package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

func get(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestPages renders every page against each store and checks what it
// must show, and that the hostile column name appears only escaped.
func TestPages(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t), 40)
			ts := serve(t, f.st, Options{})
			tests := []struct {
				path string
				code int
				want []string
			}{
				{"/", 200, []string{`id="runs"`, "cmp-a", "data/churn.csv", "0.8100", "&lt;script&gt;alert(1)&lt;/script&gt;"}},
				{"/?q=cmp-", 200, []string{"cmp-a", "cmp-b", `<span id="total">2</span>`}},
				{"/runs/cmp-a", 200, []string{`id="leaderboard"`, "0.8000", `href="studies/`, "feedfacecafe", "churn", "production", `src="runs/cmp-a/report/"`}},
				{"/runs/cmp-b", 200, []string{"CV roc_auc folds 2-3", "0.8234", "0.7123"}},
				{"/runs/xss-run", 200, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}},
				{"/runs/cmp-a/report/", 200, []string{"report of cmp-a"}},
				{"/compare?runs=cmp-a,cmp-b", 200, []string{`id="diff"`, "seed", "1 keys differ"}},
				{"/compare?runs=cmp-a,xss-run", 200, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}},
				{"/studies", 200, []string{"train/abc/def/gbdt"}},
				{"/studies/" + itoa(f.studyID), 200, []string{`class="best"`, "40 (36 complete, 4 pruned, 0 running)", "learning_rate"}},
				{"/models", 200, []string{"churn", f.v1, f.v2, "production"}},
				{"/models/" + f.v1, 200, []string{"production", "fixture", "Read-only"}},
				{"/static/style.css", 200, []string{"prefers-color-scheme"}},
				{"/runs/no-such-run", 404, []string{"not found"}},
				{"/no-such-page", 404, []string{`<p class="error" role="alert">no page at /no-such-page</p>`, `<nav aria-label="main">`}},
				{"/runs/", 404, []string{"no page at /runs/"}},
				{"/runs/cmp-a%00junk", 404, nil},         // SQLite cut ids at a NUL: the run cmp-a answered
				{"/models/churn", 404, []string{"name"}}, // a name, not a version (was 500)
				{"/models/churn@staging", 409, []string{"staging"}},
				{"/models/ffffffffffff", 404, nil},
				{"/studies/999", 404, nil},
				{"/?sort=bogus", 400, []string{"sort key"}},
				{"/?offset=-3", 400, nil},
				{"/?q=" + strings.Repeat("a", 60_000), 400, []string{"at most"}}, // past SQLite's LIKE pattern limit
				{"/runs/cmp-", 400, []string{"ambiguous"}},
				{"/compare?runs=cmp-,cmp-a", 400, []string{"ambiguous"}},
				{"/compare?runs=cmp-a", 400, []string{"2 to 8"}},
			}
			for _, tt := range tests {
				code, body := get(t, ts.URL, tt.path)
				if code != tt.code {
					t.Errorf("GET %s = %d; want %d\n%.400s", tt.path, code, tt.code, body)
				}
				for _, w := range tt.want {
					if !strings.Contains(body, w) {
						t.Errorf("GET %s: no %q in the page", tt.path, w)
					}
				}
				if strings.Contains(body, xss) {
					t.Errorf("GET %s: the hostile column name is in the page unescaped", tt.path)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var rowRE = regexp.MustCompile(`<tr data-run="([^"]+)">`)
var statusRE = regexp.MustCompile(`<td class="status [a-z]+">([a-z]+)</td>`)

// TestRunsQuery checks filters, sort and paging through the query
// string against the store's own answer.
func TestRunsQuery(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	ctx := context.Background()
	tests := []struct {
		query string
		q     store.RunQuery
	}{
		{"", store.RunQuery{}},
		{"status=failed", store.RunQuery{Status: store.Failed}},
		{"dataset=data%2Fb.csv&sort=cv&order=asc", store.RunQuery{Dataset: "data/b.csv", Sort: "cv", Asc: true}},
		{"model=gbdt&sort=duration", store.RunQuery{Best: "gbdt", Sort: "duration"}},
		{"limit=10&offset=10", store.RunQuery{Limit: 10, Offset: 10}},
	}
	for _, tt := range tests {
		_, body := get(t, ts.URL, "/?"+tt.query)
		var got []string
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		want, err := store.QueryRuns(ctx, f.st, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range want.Rows {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(got, ids) || len(got) == 0 {
			t.Errorf("/?%s rows %v; want %v", tt.query, got, ids)
		}
		if tt.q.Status != "" {
			for _, m := range statusRE.FindAllStringSubmatch(body, -1) {
				if m[1] != string(tt.q.Status) {
					t.Errorf("/?%s shows a %s run", tt.query, m[1])
				}
			}
		}
	}
	// The sorted column says so to assistive technology (aria-sort on
	// its header; an aria-label on a bare span is not announced).
	sortedRE := regexp.MustCompile(`<th scope="col" aria-sort="([a-z]+)"><a href="[^"]*sort=([a-z]+)`)
	for query, want := range map[string][]string{"": {"descending", "created"}, "sort=cv&order=asc": {"ascending", "cv"}} {
		_, body := get(t, ts.URL, "/?"+query)
		if m := sortedRE.FindAllStringSubmatch(body, -1); len(m) != 1 || !slices.Equal(m[0][1:], want) {
			t.Errorf("/?%s sorted headers %q; want one, %v", query, m, want)
		}
	}
	// The next-page link keeps the filters.
	_, body := get(t, ts.URL, "/?limit=5&status=succeeded")
	next := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next-page link")
	}
	u, _ := url.Parse(strings.ReplaceAll(next[1], "&amp;", "&"))
	if q := u.Query(); q.Get("status") != "succeeded" || q.Get("offset") != "5" || q.Get("limit") != "5" {
		t.Errorf("next link %s loses the filters", next[1])
	}
}

// TestCompareOnlyDiffers: the diff table lists exactly the keys whose
// values differ.
func TestCompareOnlyDiffers(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	_, body := get(t, ts.URL, "/compare?runs=cmp-a,cmp-b")
	diff := body[strings.Index(body, `id="diff"`):]
	diff = diff[:strings.Index(diff, "</table>")]
	keys := regexp.MustCompile(`<th scope="row">([^<]+)</th>`).FindAllStringSubmatch(diff, -1)
	if len(keys) != 1 || keys[0][1] != "seed" {
		t.Errorf("diff keys %v; want only seed", keys)
	}
	for _, m := range []string{"0.8000", "0.8100", "log_loss"} {
		if !strings.Contains(body, m) {
			t.Errorf("compare page has no metric %s", m)
		}
	}
}

// TestPromoteNeedsToken: promote and rollback are refused without the
// admin token (off, wrong, or without confirmation) and change nothing;
// with it they change the stage and are recorded in the history.
func TestPromoteNeedsToken(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	reg := registry.New(f.st)
	readOnly := serve(t, f.st, Options{})
	admin := serve(t, f.st, Options{AdminToken: "s3cret"})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(base, path string, form url.Values) int {
		resp, err := noRedirect.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	promote := "/models/" + f.v2 + "/promote"
	ok := url.Values{"stage": {"production"}, "token": {"s3cret"}, "confirm": {"yes"}, "reason": {"better auc"}}
	refused := []struct {
		base string
		path string
		form url.Values
		code int
	}{
		{readOnly.URL, promote, ok, 403},
		{readOnly.URL, "/names/churn/rollback", ok, 403},
		{admin.URL, promote, url.Values{"stage": {"production"}, "token": {"wrong"}, "confirm": {"yes"}}, 403},
		{admin.URL, promote, url.Values{"stage": {"production"}, "confirm": {"yes"}}, 403},
		{admin.URL, promote, url.Values{"stage": {"production"}, "token": {"s3cret"}}, 400},
		{admin.URL, promote, url.Values{"stage": {"moon"}, "token": {"s3cret"}, "confirm": {"yes"}}, 400},
		{admin.URL, "/names/churn/rollback", ok, 409}, // v1 has no previous production version
		// v1 is production: it cannot go to staging or the archive.
		{admin.URL, "/models/" + f.v1 + "/promote", url.Values{"stage": {"staging"}, "token": {"s3cret"}, "confirm": {"yes"}}, 409},
		{admin.URL, "/models/" + f.v1 + "/promote", url.Values{"stage": {"archived"}, "token": {"s3cret"}, "confirm": {"yes"}}, 409},
	}
	for _, tt := range refused {
		if code := post(tt.base, tt.path, tt.form); code != tt.code {
			t.Errorf("POST %s %v = %d; want %d", tt.path, tt.form, code, tt.code)
		}
	}
	if m, err := reg.Production(context.Background(), "churn"); err != nil || m.Version != f.v1 {
		t.Fatalf("after refused actions production = %v, %v; want %s", m, err, f.v1)
	}
	if code := post(admin.URL, promote, ok); code != http.StatusSeeOther {
		t.Fatalf("promote with the token = %d; want 303", code)
	}
	if m, err := reg.Production(context.Background(), "churn"); err != nil || m.Version != f.v2 {
		t.Fatalf("after promote production = %v, %v; want %s", m, err, f.v2)
	}
	h, err := reg.History(context.Background(), "churn")
	if err != nil || len(h) == 0 || h[len(h)-1].Reason != "better auc" || h[len(h)-1].Version != f.v2 {
		t.Errorf("history %+v, %v; want the promotion last with its reason", h, err)
	}
	if code := post(admin.URL, "/names/churn/rollback", ok); code != http.StatusSeeOther {
		t.Fatalf("rollback with the token = %d; want 303", code)
	}
	if m, err := reg.Production(context.Background(), "churn"); err != nil || m.Version != f.v1 {
		t.Errorf("after rollback production = %v, %v; want %s", m, err, f.v1)
	}
	_, body := get(t, admin.URL, "/models/"+f.v1)
	if !strings.Contains(body, `id="promote-form"`) || !strings.Contains(body, "rollback") || !strings.Contains(body, `id="route-form"`) {
		t.Error("the admin version page has no promote or route form, or no rollback in its history")
	}

	// A cut-over: all traffic to v2, the production version shadowed.
	route := url.Values{"split": {f.v2 + "=100"}, "shadow": {"production"}, "key": {"customer"},
		"token": {"s3cret"}, "confirm": {"yes"}, "reason": {"canary"}, "version": {f.v1}}
	for _, tt := range []struct {
		base string
		form url.Values
		code int
	}{
		{readOnly.URL, route, 403},
		{admin.URL, url.Values{"split": {"production=90"}, "token": {"s3cret"}}, 400},                  // no confirmation
		{admin.URL, url.Values{"split": {"production"}, "token": {"s3cret"}, "confirm": {"yes"}}, 400}, // no weight
	} {
		if code := post(tt.base, "/names/churn/route", tt.form); code != tt.code {
			t.Errorf("POST route %v = %d; want %d", tt.form, code, tt.code)
		}
	}
	if rt, err := reg.RouteOf(context.Background(), "churn"); err != nil || !rt.IsZero() {
		t.Fatalf("route after refused requests = %+v, %v; want none", rt, err)
	}
	if code := post(admin.URL, "/names/churn/route", route); code != http.StatusSeeOther {
		t.Fatalf("route with the token = %d; want 303", code)
	}
	rt, err := reg.RouteOf(context.Background(), "churn")
	if err != nil || len(rt.Split) != 1 || rt.Split[0].Weight != 100 || !slices.Equal(rt.Shadow, []string{"@production"}) || rt.Key != "customer" {
		t.Errorf("route = %+v, %v; want all traffic to v2, production shadowed and the key", rt, err)
	}
	// Shadowing a version that serves is refused as the request's fault.
	if code := post(admin.URL, "/names/churn/route", url.Values{"split": {f.v2 + "=100"}, "shadow": {f.v2}, "token": {"s3cret"}, "confirm": {"yes"}}); code != http.StatusBadRequest {
		t.Errorf("route shadowing a serving version = %d; want 400", code)
	}
	if h, _ := reg.History(context.Background(), "churn"); len(h) == 0 || h[len(h)-1].Action != "route" || !strings.Contains(h[len(h)-1].Reason, "canary") {
		t.Errorf("history does not end with the route and its reason: %+v", h)
	}
}

// TestReportConfined: the report's directory is served, nothing above it.
func TestReportConfined(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	for _, p := range []string{"/runs/cmp-a/report/..%2fsecret.txt", "/runs/cmp-a/report/%2e%2e/secret.txt", "/runs/xss-run/report/"} {
		code, body := get(t, ts.URL, p)
		if code != 404 || strings.Contains(body, "outside the report") {
			t.Errorf("GET %s = %d %.200q; want 404", p, code, body)
		}
	}
}

// TestEvents: the progress stream lists the running run.
func TestEvents(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	ts := serve(t, f.st, Options{})
	// FillRuns leaves its last run running.
	if line := firstEvent(t, ts.URL); !strings.Contains(line, `"id":"run-00029"`) {
		t.Errorf("event %s; want the running run-00029", line)
	}
}

// firstEvent reads the progress stream at base+"/events" up to its first
// event and returns that event's data.
func firstEvent(t *testing.T, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return line
		}
	}
	t.Fatalf("no event: %v", sc.Err())
	return ""
}

// TestWriteFormBounded: a write request's body is read only up to a
// small bound, before the token is checked: a 1 MiB multipart upload
// to promote is refused with 413 (it was read whole, spooled to disk,
// and then answered 403), and a normal form still works.
func TestWriteFormBounded(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	admin := serve(t, f.st, Options{AdminToken: "s3cret"})
	for _, token := range []string{"wrong", "s3cret"} {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range map[string]string{"stage": "staging", "token": token, "confirm": "yes"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "big.bin")
		fw.Write(make([]byte, 1<<20))
		mw.Close()
		resp, err := http.Post(admin.URL+"/models/"+f.v2+"/promote", mw.FormDataContentType(), &b)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST promote, 1 MiB multipart, token %s = %d; want 413", token, resp.StatusCode)
		}
	}
	// A URL-encoded body over the bound: ParseMultipartForm alone hid
	// the bound's error and the request read as one without a token.
	big := url.Values{"stage": {"staging"}, "token": {"s3cret"}, "confirm": {"yes"}, "pad": {strings.Repeat("x", 1<<20)}}
	resp, err := http.PostForm(admin.URL+"/models/"+f.v2+"/promote", big)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST promote, 1 MiB URL-encoded form = %d; want 413", resp.StatusCode)
	}
	if d, err := registry.New(f.st).Show(context.Background(), f.v2); err != nil || d.Model.Stage != registry.None {
		t.Fatalf("after the refused uploads %s: %v; want no stage", f.v2, err)
	}
	// A small multipart form (curl -F) is a form like any other.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range map[string]string{"stage": "staging", "token": "s3cret", "confirm": "yes"} {
		mw.WriteField(k, v)
	}
	mw.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Post(admin.URL+"/models/"+f.v2+"/promote", mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST promote, small multipart form = %d; want 303", resp.StatusCode)
	}
}

// TestRunIDsInFull: runs made in the same ten minutes (tabforge's run ids
// are YYYYMMDD-HHMMSS-hex) are told apart on the runs list, in a
// comparison and on the models page; the pages cut ids to 12 characters,
// "20261207-045" for all of them.
func TestRunIDsInFull(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	created := time.Date(2026, 12, 7, 4, 54, 25, 0, time.UTC)
	ids := []string{"20261207-045425-174bca", "20261207-045433-4b1280"}
	for i, id := range ids {
		run := &store.Run{ID: id, Created: created.Add(time.Duration(i) * 8 * time.Second), Status: store.Succeeded, DatasetPath: "data/churn.csv",
			DatasetHash: "feedface", ConfigHash: "c", Config: json.RawMessage(fmt.Sprintf(`{"seed":%d}`, i)), Task: "binary", Target: "churned"}
		if err := st.PutRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	arts, err := artifact.Open(ctx, filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arts.Close() })
	for _, id := range ids {
		ref, err := arts.Put(ctx, id, []byte("model of "+id))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = registry.New(st).Register(ctx, registry.Model{Name: "churn", Identity: registry.Identity{DatasetHash: "feedface", ConfigHash: id, CodeVersion: "test"},
			RunID: id, Task: "binary", Target: "churned", Family: "gbdt", Artifact: ref, Created: created})
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := serve(t, st, Options{})
	tests := []struct {
		path string
		re   string // what each id must appear in, in full
	}{
		{"/", `<a href="runs/%s">%[1]s</a>`},
		{"/compare?runs=" + ids[0] + "," + ids[1], `<th scope="col">%s</th>`},
		{"/models", `<a href="runs/%s">%[1]s</a>`},
	}
	for _, tt := range tests {
		_, body := get(t, ts.URL, tt.path)
		for _, id := range ids {
			if want := fmt.Sprintf(tt.re, id); !strings.Contains(body, want) {
				t.Errorf("GET %s does not show run %s in full (%s)", tt.path, id, want)
			}
		}
	}
}
