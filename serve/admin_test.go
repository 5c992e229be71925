package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tabforge/tabforge/registry"
)

// TestAdminChangeServedOnAnswer: once an admin rollback or route change
// is answered, the server that answered serves it. The handler runs on
// a loopback test server without Serve, so no watcher reloads the
// registry behind the test's back: only the admin call can. (A rollback
// used to only wake the watcher, so the bad version kept answering until
// the reload, about half a second for the ames ensemble, and forever on a
// Handler run without Serve.)
func TestAdminChangeServedOnAnswer(t *testing.T) {
	ctx := context.Background()
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	v2 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 2)
	promote(t, reg, v1.Version)
	promote(t, reg, v2.Version)
	srv, err := New(ctx, reg, Options{AdminToken: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	f := &fixture{t: t, reg: reg, srv: srv, url: ts.URL}
	header, rows := csvRows(t, "mlc_churn.csv", 1)
	body := mlflowBodies(header, rows)["dataframe_split"]
	if _, _, v := f.post("/invocations", "application/json", body); v != v2.Version {
		t.Fatalf("before the rollback: served %s; want production %s", v, v2.Version)
	}

	// Each admin call changes what is served; each answer must come from
	// the new deployment.
	if _, err := reg.SetAlias(ctx, "churn", "challenger", v1.Version, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	auth := []string{"Authorization", "Bearer s3cret"}
	for _, step := range []struct {
		path string
		body map[string]any
		want string
	}{
		{"/admin/models/churn/route", map[string]any{"split": "challenger=100"}, v1.Version},
		{"/admin/models/churn/route", nil, v2.Version}, // no body: the route is removed
		{"/admin/models/churn/rollback", map[string]any{"reason": "bad release"}, v1.Version},
	} {
		if code, out, _ := f.postJSON(step.path, step.body, auth...); code != http.StatusOK {
			t.Fatalf("%s %v: %d %s", step.path, step.body, code, out)
		}
		if _, _, v := f.post("/invocations", "application/json", body); v != step.want {
			t.Errorf("after %s %v was answered: served %s; want %s", step.path, step.body, v, step.want)
		}
	}
}
