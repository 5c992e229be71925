package ui

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/sqlite"
)

// FuzzWriteForms posts arbitrary promote, rollback and route forms (any
// path segment, body and content type) to a dashboard with an admin
// token, on a real SQLite registry behind a loopback listener: no
// request is answered 500 (a bad form or reference is the client's
// error, a 4xx saying why), a redirect stays on the dashboard, and
// churn keeps a production version that resolves.
func FuzzWriteForms(f *testing.F) {
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "tf.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	fx := newFixture(f, st, 3)
	ts := serve(f, fx.st, Options{AdminToken: "s3cret"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ok := "token=s3cret&confirm=yes"
	for _, s := range []struct {
		action uint8
		seg    string
		form   string
		ctype  uint8
	}{
		{0, fx.v2, "stage=staging&" + ok, 0}, {0, fx.v2, "stage=production&reason=r&" + ok, 0}, {0, "churn@staging", "stage=archived&" + ok, 0},
		{0, "churn@production", "stage=archived&" + ok, 0}, {0, "churn/" + fx.v1[:3], "stage=Staging&" + ok, 0}, {0, "nope", "stage=staging&" + ok, 0},
		{0, fx.v1, "stage=" + ok, 0}, {0, "churn@archived", "stage=staging&" + ok, 0}, {0, fx.v2, "stage=staging&token=s3cret", 0},
		{0, fx.v2, "stage=staging&" + ok + "&force=yes", 1}, {0, fx.v2, "%zz", 0}, {0, fx.v2, "stage=staging&" + ok, 2},
		{1, "churn", ok, 0}, {1, "nope", ok, 0}, {1, "", ok, 0}, {1, "churn@production", ok, 0},
		{2, "churn", "split=production=90,staging=10&" + ok, 0}, {2, "churn", "split=production=90,nope=10&" + ok, 0},
		{2, "churn", "shadow=staging,x&key=k&version=" + fx.v1 + "&" + ok, 0}, {2, "churn", "split=a=1,a=2&" + ok, 0}, {2, "churn", ok, 0},
		{2, "nope", "split=production=1&" + ok, 0}, {2, "churn", "version=//evil.example/&" + ok, 0}, {2, "churn", "split=@" + fx.v2[:4] + "=5,production=5&" + ok, 0},
	} {
		f.Add(s.action, s.seg, s.form, s.ctype)
	}
	f.Fuzz(func(t *testing.T, action uint8, seg, form string, ctype uint8) {
		path := []string{"/models/%s/promote", "/names/%s/rollback", "/names/%s/route"}[int(action)%3]
		u := ts.URL + strings.Replace(path, "%s", url.PathEscape(seg), 1)
		ct := []string{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "text/plain"}[int(ctype)%3]
		resp, err := client.Post(u, ct, strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s (%s) %q = %d", u, ct, form, resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusSeeOther {
			l, err := url.Parse(loc)
			if err != nil || l.Host != "" || !strings.HasPrefix(l.Path, "/models/") || strings.HasPrefix(loc, "//") {
				t.Fatalf("POST %s %q redirects to %q, off the dashboard", u, form, loc)
			}
		}
		if _, err := registry.New(fx.st).Resolve(context.Background(), "churn@production"); err != nil {
			t.Fatalf("after POST %s %q: churn@production: %v", u, form, err)
		}
	})
}
