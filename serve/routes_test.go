package serve

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestUnroutedJSON: a path the server has no endpoint for, or an
// endpoint called with the wrong method, gets the JSON error body every
// other error has (it used to get ServeMux's plain text, which a client
// decoding errors as JSON cannot read), and a 405 keeps its Allow header.
func TestUnroutedJSON(t *testing.T) {
	f, _ := serveChurn(t, Options{})
	cases := []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, "/invocations", http.StatusMethodNotAllowed, "POST"},
		{http.MethodDelete, "/v2/models/churn/infer", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/v2/models/churn", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/predict", http.StatusNotFound, ""},
		{http.MethodGet, "/v3/models/churn", http.StatusNotFound, ""},
	}
	for _, c := range cases {
		resp, body := f.do(c.method, c.path, []byte("{}"))
		var e apiError
		if resp.StatusCode != c.code || json.Unmarshal(body, &e) != nil || e.Message == "" || e.Code == "" {
			t.Errorf("%s %s: %d %q; want %d with a JSON error", c.method, c.path, resp.StatusCode, body, c.code)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s %s: Content-Type %q; want application/json", c.method, c.path, got)
		}
		if got := resp.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q; want %q", c.method, c.path, got, c.allow)
		}
		if id := resp.Header.Get("X-Request-Id"); id == "" || e.RequestID != id {
			t.Errorf("%s %s: request_id %q, X-Request-Id %q; want both, equal", c.method, c.path, e.RequestID, id)
		}
	}
}

// TestErrorsCarryRequestID: every error body names its request, as the
// README says errors do: the metadata, readiness and admin endpoints'
// errors had no request_id, and an unrouted path had none at all. The
// client's X-Request-Id is echoed.
func TestErrorsCarryRequestID(t *testing.T) {
	f, _ := serveChurn(t, Options{AdminToken: "secret"})
	cases := []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/v2/models/nope", http.StatusNotFound},
		{http.MethodGet, "/v2/models/churn/versions/ffff", http.StatusNotFound},
		{http.MethodPost, "/admin/models/churn/rollback", http.StatusUnauthorized},
		{http.MethodGet, "/no-such-endpoint", http.StatusNotFound},
	}
	for _, c := range cases {
		resp, body := f.do(c.method, c.path, []byte("{}"), "X-Request-Id", "client-7")
		var e apiError
		if err := json.Unmarshal(body, &e); resp.StatusCode != c.code || err != nil {
			t.Errorf("%s %s: %d (%v); want %d with a JSON error", c.method, c.path, resp.StatusCode, err, c.code)
			continue
		}
		if e.RequestID != "client-7" || resp.Header.Get("X-Request-Id") != "client-7" {
			t.Errorf("%s %s: request_id %q, X-Request-Id %q; want the client's client-7 in both", c.method, c.path, e.RequestID, resp.Header.Get("X-Request-Id"))
		}
	}
}

// TestV2VersionReady: the V2 readiness of a version is 200 when this
// server has it loaded and 404 naming it when not, as infer and metadata
// take versions; the path had no endpoint (404 for every version), so a
// V2 client asking whether a version is ready never saw it ready.
func TestV2VersionReady(t *testing.T) {
	f, churn := serveChurn(t, Options{})
	cases := []struct {
		path    string
		code    int
		mention string
	}{
		{"/v2/models/churn/ready", http.StatusOK, ""},
		{"/v2/models/churn/versions/" + churn.Version + "/ready", http.StatusOK, ""},
		{"/v2/models/churn/versions/0123abcd/ready", http.StatusNotFound, "version 0123abcd of churn is not loaded"},
		{"/v2/models/nope/versions/" + churn.Version + "/ready", http.StatusNotFound, `\"nope\" is not served`},
	}
	for _, c := range cases {
		resp, body := f.do(http.MethodGet, c.path, nil)
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.mention) {
			t.Errorf("GET %s: %d %s; want %d mentioning %s", c.path, resp.StatusCode, body, c.code, c.mention)
		}
	}
}
