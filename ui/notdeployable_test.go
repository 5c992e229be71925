package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
)

// TestPromoteNotDeployable: promoting a version that failed its quality
// gates without force is refused with 409, and the message says how this
// page forces it (the force box), not the library's option.
func TestPromoteNotDeployable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, openSQLite(t), 3)
	arts, err := artifact.Open(ctx, filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	defer arts.Close()
	ref, err := arts.Put(ctx, "mbad", binaryModel(t))
	if err != nil {
		t.Fatal(err)
	}
	bad, _, err := registry.New(f.st).Register(ctx, registry.Model{Name: "churn", Identity: fixtureIdentity(2), RunID: "cmp-b",
		Task: "binary", Target: "churned", Family: "gbdt", Deployable: false, Artifact: ref})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(f.st, Options{AdminToken: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, err := http.PostForm(ts.URL+"/models/"+bad.Version+"/promote", url.Values{"stage": {"production"}, "token": {"s3cret"}, "confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "promote " + bad.Version + " (churn): model is not deployable (it failed its quality gates); tick force to promote it anyway"
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), want) || strings.Contains(string(body), "PromoteOptions") {
		t.Errorf("promote of a non-deployable version = %s, body %.2000s; want 409 saying %q", resp.Status, body, want)
	}
}
