package serve

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/tabforge/tabforge/store/storetest"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
)

func testdata(name string) string { return filepath.Join("..", "testdata", name) }

// fixture is a real SQLite registry with trained, registered models and
// a server of it on a loopback port.
type fixture struct {
	t   testing.TB
	reg *registry.Registry
	srv *Server
	url string
}

// trainModel trains family on data (no cross-validation) and registers it
// under name; seed changes the version.
func trainModel(t testing.TB, reg *registry.Registry, arts *artifact.Store, data, target, family, name string, seed uint64) *registry.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name, cfg.Seed = testdata(data), target, name, seed
	cfg.Models, cfg.CVFolds, cfg.Out = []string{family}, 0, t.TempDir()
	cfg.ForceProductionQuality = false
	return trainConfig(t, reg, arts, cfg)
}

// trainConfig trains cfg and registers the result.
func trainConfig(t testing.TB, reg *registry.Registry, arts *artifact.Store, cfg *config.Config) *registry.Model {
	t.Helper()
	ctx := context.Background()
	res, err := pipeline.Train(ctx, cfg, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := pipeline.Register(ctx, reg, arts, cfg, res, "serve-test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newRegistry opens a fresh SQLite registry and artifact directory.
func newRegistry(t testing.TB) (*registry.Registry, *artifact.Store) {
	t.Helper()
	st, arts := storetest.Local(t, t.TempDir())
	return registry.New(st), arts
}

func promote(t testing.TB, reg *registry.Registry, version string) {
	t.Helper()
	if _, err := reg.Promote(context.Background(), version, registry.Production, registry.PromoteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
}

// serveChurn registers a logistic churn model, promotes it to production
// and serves it with o: the server most request tests need.
func serveChurn(t testing.TB, o Options) (*fixture, *registry.Model) {
	t.Helper()
	reg, arts := newRegistry(t)
	churn := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, churn.Version)
	return start(t, reg, o), churn
}

// start serves reg on 127.0.0.1:0 until the test ends, checking that
// Serve returns nil after the drain.
func start(t testing.TB, reg *registry.Registry, o Options) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, reg, o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve after shutdown = %v", err)
		}
	})
	return &fixture{t: t, reg: reg, srv: srv, url: "http://" + ln.Addr().String()}
}

// post sends body to path and returns the status, body and model version.
func (f *fixture) post(path, contentType string, body []byte, header ...string) (int, []byte, string) {
	f.t.Helper()
	resp, b := f.do(http.MethodPost, path, body, append([]string{"Content-Type", contentType}, header...)...)
	return resp.StatusCode, b, resp.Header.Get("X-Model-Version")
}

// do sends a method request with body (none when nil) and the header
// name, value pairs to path and returns the response, its body read.
func (f *fixture) do(method, path string, body []byte, header ...string) (*http.Response, []byte) {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, r)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, b
}

func (f *fixture) postJSON(path string, v any, header ...string) (int, []byte, string) {
	f.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.post(path, "application/json", b, header...)
}

// csvRows returns the header and the first n data rows of a testdata CSV
// file, as text.
func csvRows(t testing.TB, name string, n int) ([]string, [][]string) {
	t.Helper()
	fh, err := os.Open(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1 : 1+n]
}

// jsonCell is how a JSON client sends a CSV cell: numbers as numbers,
// empty and NA as null, everything else as a string.
func jsonCell(s string) any {
	switch s {
	case "", "NA":
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return json.Number(s)
	}
	return s
}

// writeCSV writes header and rows to a file in dir and returns its path.
func writeCSV(t testing.TB, dir string, header []string, rows [][]string) string {
	t.Helper()
	path := filepath.Join(dir, "rows.csv")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	w.WriteAll(rows)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantPredictions predicts the rows at path as `tabforge predict` does:
// the predictor read from the registry, its own reader, Predict.
func wantPredictions(t testing.TB, reg *registry.Registry, version, path string) (*pipeline.Predictor, *pipeline.Prediction) {
	t.Helper()
	p, _, err := pipeline.LoadModel(context.Background(), version, func(context.Context) (*registry.Registry, error) { return reg, nil })
	if err != nil {
		t.Fatal(err)
	}
	x, rep, err := p.ReadInput(path, frame.ReadOptions{})
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("read %s: %v %v", path, err, rep.Err(false))
	}
	pred, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return p, pred
}
