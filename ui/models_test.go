package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

var versionRE = regexp.MustCompile(`<tr data-version="([0-9a-f]+)">`)

// TestModelsPaged: /models shows a name's newest versions and those with
// a stage or an alias, not all of them (a name retrained hourly made it
// a page of every version ever trained: 740 KB at 3,000), and links to
// /models?name=NAME, which pages through every version, from one
// version to the next older or newer (keyset), and by the offsets of
// links made before; every page says how many versions there are.
func TestModelsPaged(t *testing.T) {
	st := openSQLite(t)
	reg := registry.New(st)
	ctx := context.Background()
	const n = 2*versionsPerPage + 5
	newest := registerHourly(t, reg, n)
	oldest := newest[n-1]
	if _, err := reg.Promote(ctx, oldest, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, st, Options{})
	versions := func(path string) ([]string, string) {
		code, body := get(t, ts.URL, path)
		if code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		var out []string
		for _, m := range versionRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out, body
	}
	got, body := versions("/models")
	if want := append(slices.Clone(newest[:versionsShown]), oldest); !slices.Equal(got, want) {
		t.Errorf("/models versions %v; want the %d newest and the production one", got, versionsShown)
	}
	if !regexp.MustCompile(`href="models\?name=hourly"`).MatchString(body) {
		t.Error("/models has no link to all versions of hourly")
	}
	if total := totalRE.FindStringSubmatch(body); total == nil || total[1] != fmt.Sprint(n) {
		t.Errorf("/models gives hourly's total as %q; want %d", total, n)
	}
	// Links made before keyset paging still page by offset.
	var all []string
	for _, p := range []string{"/models?name=hourly", "/models?name=hourly&offset=100", "/models?name=hourly&offset=200"} {
		got, _ := versions(p)
		all = append(all, got...)
	}
	if !slices.Equal(all, newest) {
		t.Errorf("the offset pages of /models?name=hourly list %d versions; want all %d newest first", len(all), n)
	}
	// The pages' own links are keyset ones: older versions before the
	// page's last, newer ones after its first; each page gives the total
	// and its place in it.
	walk := func(from, rel string) (pages []string, seen []string) {
		for p := from; p != ""; {
			got, body := versions(p)
			pages, seen = append(pages, p), append(seen, got...)
			want := fmt.Sprintf(`<span class="total">%d</span> versions, showing %d–%d.`, n, len(seen)-len(got)+1, len(seen))
			if rel == "prev" {
				i := slices.Index(newest, got[0])
				want = fmt.Sprintf(`<span class="total">%d</span> versions, showing %d–%d.`, n, i+1, i+len(got))
			}
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: no %q", p, want)
			}
			m := regexp.MustCompile(`rel="` + rel + `" href="([^"]*)"`).FindStringSubmatch(body)
			if len(pages) > n || m == nil {
				break
			}
			p = "/" + strings.ReplaceAll(m[1], "&amp;", "&")
		}
		return pages, seen
	}
	pages, seen := walk("/models?name=hourly", "next")
	if !slices.Equal(seen, newest) || len(pages) != 3 || !strings.Contains(pages[2], "before="+newest[2*versionsPerPage-1]) {
		t.Errorf("following older-versions links: pages %v list %d versions; want 3 pages, keyset, of all %d newest first", pages, len(seen), n)
	}
	pages, seen = walk(pages[2], "prev")
	back := slices.Concat(newest[2*versionsPerPage:], newest[versionsPerPage:2*versionsPerPage], newest[:versionsPerPage])
	if !slices.Equal(seen, back) || len(pages) != 3 || !strings.Contains(pages[1], "after="+newest[2*versionsPerPage]) {
		t.Errorf("following newer-versions links back: pages %v list %d versions; want 3 pages, keyset, back to the newest", pages, len(seen))
	}
	for _, tt := range []struct {
		path string
		code int
	}{{"/models?name=nosuch", 404}, {"/models?name=hourly&offset=-1", 400},
		{"/models?name=hourly&offset=5&before=" + newest[3], 400}, {"/models?name=hourly&at=12", 400},
		{"/models?name=hourly&before=" + newest[3] + "&at=soon", 400}} {
		if code, _ := get(t, ts.URL, tt.path); code != tt.code {
			t.Errorf("GET %s = %d; want %d", tt.path, code, tt.code)
		}
	}
}

// registerHourly registers n versions of the name hourly, an hour
// apart, and returns them newest first, as the pages list them.
func registerHourly(t *testing.T, reg *registry.Registry, n int) []string {
	t.Helper()
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var newest []string
	for i := range n {
		m, _, err := reg.Register(context.Background(), registry.Model{Name: "hourly",
			Identity: registry.Identity{DatasetHash: "d", ConfigHash: fmt.Sprintf("cfg%d", i), CodeVersion: "test"},
			RunID:    fmt.Sprintf("run-%d", i), Task: "regression", Family: "gbdt", Deployable: true,
			Artifact: artifact.Ref{URL: "file:///nowhere", Key: fmt.Sprint(i), SHA256: "00", Size: 1},
			Created:  created.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		newest = slices.Insert(newest, 0, m.Version)
	}
	return newest
}

// pageVersions returns the versions a /models page lists and its link
// rel ("next", "prev"), as a path, or "".
func pageVersions(t *testing.T, base, path, rel string) (versions []string, link string) {
	t.Helper()
	code, body := get(t, base, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d", path, code)
	}
	for _, m := range versionRE.FindAllStringSubmatch(body, -1) {
		versions = append(versions, m[1])
	}
	if m := regexp.MustCompile(`rel="` + rel + `" href="([^"]*)"`).FindStringSubmatch(body); m != nil {
		link = "/" + strings.ReplaceAll(m[1], "&amp;", "&")
	}
	return versions, link
}

// TestModelsPagedPastGone: paging through a name's versions goes on past
// index entries whose versions are gone (a delete cut short), and a link
// to the next page still leads there once the version it names is
// deleted. A page of such entries showed nothing and no link on, so the
// listing stopped there; a link whose version was gone was a 404.
func TestModelsPagedPastGone(t *testing.T) {
	st := openSQLite(t)
	reg := registry.New(st)
	ctx := context.Background()
	newest := registerHourly(t, reg, 2*versionsPerPage+5)
	ts := serve(t, st, Options{})
	first, next := pageVersions(t, ts.URL, "/models?name=hourly", "next")
	if !slices.Equal(first, newest[:versionsPerPage]) || next == "" {
		t.Fatalf("first page: %d versions, link on %q; want the %d newest and a link", len(first), next, versionsPerPage)
	}
	// The version the link names is deleted, index entry and all: the
	// link starts where it was.
	if err := reg.Delete(ctx, newest[versionsPerPage-1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := pageVersions(t, ts.URL, next, "next"); !slices.Equal(got, newest[versionsPerPage:2*versionsPerPage]) {
		t.Errorf("GET %s once its version is deleted: %d versions from %v; want the %d after it", next, len(got), got[:min(1, len(got))], versionsPerPage)
	}
	// The whole second page's records vanish behind their index entries.
	for _, v := range newest[versionsPerPage : 2*versionsPerPage] {
		if err := st.DeleteRecord(ctx, registry.KindModel, v); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	pages := 0
	for p := "/models?name=hourly"; p != "" && pages <= len(newest); pages++ {
		var got []string
		got, p = pageVersions(t, ts.URL, p, "next")
		seen = append(seen, got...)
	}
	want := slices.Concat(newest[:versionsPerPage-1], newest[2*versionsPerPage:])
	if !slices.Equal(seen, want) {
		t.Errorf("following older-versions links over a page of versions gone: %d versions in %d pages; want all %d left", len(seen), pages, len(want))
	}
	// A link made before links carried a place, to a version gone: the
	// newest page, not a 404.
	if got, _ := pageVersions(t, ts.URL, "/models?name=hourly&before="+newest[versionsPerPage-1], "next"); !slices.Equal(got, want[:versionsPerPage]) {
		t.Errorf("a before= link to a deleted version without its place: %d versions; want the newest page", len(got))
	}
}

var totalRE = regexp.MustCompile(`<span class="total">(\d+)</span> versions`)

// TestDoneFromHistory: the status line after a write action comes from
// the registry's history, not from the URL: a crafted link names no
// promotion that did not happen, and a real promote, rollback and route
// change each announce what the history records.
func TestDoneFromHistory(t *testing.T) {
	f := newFixture(t, openSQLite(t), 5)
	admin := serve(t, f.st, Options{AdminToken: "s3cret"})
	status := func(path string) string {
		_, body := get(t, admin.URL, path)
		_, after, ok := strings.Cut(body, `<p class="done" role="status">`)
		if !ok {
			return ""
		}
		line, _, _ := strings.Cut(after, "</p>")
		return line
	}
	for _, crafted := range []string{"?done=promoted+" + f.v2 + "+to+production", "?done=promote", "?done=rollback", "?done=unchanged&stage=production", "?done=route"} {
		if got := status("/models/" + f.v2 + crafted); got != "" {
			t.Errorf("%s before any action shows %q; want nothing", crafted, got)
		}
	}
	form := url.Values{"token": {"s3cret"}, "confirm": {"yes"}, "reason": {"test"}}
	post := func(path string, more url.Values) string {
		v := url.Values{}
		for k, x := range form {
			v[k] = x
		}
		for k, x := range more {
			v[k] = x
		}
		resp, err := http.PostForm(admin.URL+path, v) // follows the redirect
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		return resp.Request.URL.Path + "?" + resp.Request.URL.RawQuery
	}
	if got, want := status(post("/models/"+f.v2+"/promote", url.Values{"stage": {"production"}})), "promoted "+f.v2+" to production"; got != want {
		t.Errorf("after promote %q; want %q", got, want)
	}
	if got, want := status(post("/models/"+f.v2+"/promote", url.Values{"stage": {"production"}})), "already production: nothing changed"; got != want {
		t.Errorf("after a second promote %q; want %q", got, want)
	}
	if got := status("/models/" + f.v1 + "?done=unchanged&stage=production"); got != "" {
		t.Errorf("unchanged on a version not in production shows %q", got)
	}
	if got, want := status(post("/names/churn/rollback", nil)), "rolled churn back from "+f.v2+" to "+f.v1; got != want {
		t.Errorf("after rollback %q; want %q", got, want)
	}
	got := status(post("/names/churn/route", url.Values{"split": {"production=90," + f.v2 + "=10"}, "version": {f.v2}}))
	if !strings.HasPrefix(got, "churn: ") || len(got) <= len("churn: ") {
		t.Errorf("after a route change %q; want the route's description", got)
	}
}

// modelLister is a real store that counts the listings of every model
// version: what made a page's time grow with the registry (0.4 s at
// 6,000 versions; BenchmarkModelPages).
type modelLister struct {
	store.Store
	lists atomic.Int64
}

func (c *modelLister) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	if kind == registry.KindModel && prefix == "" {
		c.lists.Add(1)
	}
	return c.Store.ListRecords(ctx, kind, prefix)
}

// TestPagesReadWhatTheyShow: /models, a name's page of versions and a
// run's page show their versions without listing every version of the
// registry.
func TestPagesReadWhatTheyShow(t *testing.T) {
	c := &modelLister{Store: openSQLite(t)}
	f := newFixture(t, c, 5)
	ts := serve(t, c, Options{})
	c.lists.Store(0)
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/models", []string{f.v1, f.v2, "production"}},
		{"/models?name=churn", []string{f.v1, f.v2}},
		{"/runs/cmp-a", []string{`href="models/` + f.v1 + `"`, `class="stage production"`}},
		{"/runs/cmp-b", []string{`href="models/` + f.v2 + `"`, `class="stage none"`}},
	} {
		code, body := get(t, ts.URL, tt.path)
		if code != 200 {
			t.Fatalf("GET %s = %d", tt.path, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tt.path, w)
			}
		}
	}
	if n := c.lists.Load(); n != 0 {
		t.Errorf("the pages listed every model version %d times; want none", n)
	}
}

// TestOldRunLineage: a run saved before results named their model
// version (the CLI registered after saving) still shows the version whose
// lineage names it, by reading every version.
func TestOldRunLineage(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	f := newFixture(t, st, 5)
	run, err := st.GetRun(ctx, "cmp-a")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	delete(res, "model_version")
	if run.Result, err = json.Marshal(res); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, st, Options{})
	code, body := get(t, ts.URL, "/runs/cmp-a")
	if code != 200 || !strings.Contains(body, `href="models/`+f.v1+`"`) {
		t.Errorf("GET /runs/cmp-a = %d without its version %s:\n%s", code, f.v1, body)
	}
}
