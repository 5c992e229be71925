package serve

import (
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// panicModel is a model whose prediction panics.
type panicModel struct{ model.Model }

func (panicModel) Predict([]float64, *model.Matrix) error { panic("model bug") }

// TestPredictionPanics: a model that panics is a 500 with the request id
// for the request it served, and a shadow that panics leaves the
// production answer alone. A shadow's panic, on a goroutine of its own,
// used to end the server's process.
func TestPredictionPanics(t *testing.T) {
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, v1.Version)
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour})
	d := f.srv.set.Load().names["churn"]
	prod := d.production()
	broken := *prod.p
	broken.Model = panicModel{prod.p.Model}
	bad := &variant{m: prod.m, p: &broken}
	use := func(split []share, shadows []*variant) {
		nd := *d
		nd.split, nd.shadows, nd.total = split, shadows, len(split)
		names := maps.Clone(f.srv.set.Load().names)
		names["churn"] = &nd
		f.srv.set.Store(&modelSet{names: names})
	}
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	body := mlflowBodies(header, rows)["dataframe_split"]

	use(nil, []*variant{bad, bad})
	for range 3 {
		if code, out, _ := f.post("/invocations", "application/json", body); code != http.StatusOK {
			t.Fatalf("production beside a panicking shadow: %d %s; want 200", code, out)
		}
	}
	f.srv.shadows.Wait()
	if m := f.get("/metrics"); !strings.Contains(m, `code="500",model="churn",variant="shadow"`) {
		t.Errorf("metrics do not count the shadow's failures:\n%s", grep(m, "tabforge_requests_total"))
	}

	use([]share{{label: "broken", v: bad, cum: 1}}, nil)
	code, out, _ := f.post("/invocations", "application/json", body)
	var e apiError
	if code != http.StatusInternalServerError || json.Unmarshal(out, &e) != nil || e.RequestID == "" || !strings.Contains(e.Message, e.RequestID) {
		t.Fatalf("request to a panicking model: %d %s; want 500 naming the request id", code, out)
	}
}

// workerPanicModel is a model whose prediction panics on one of the
// worker goroutines it predicts on, as a model's own parallel loop would.
type workerPanicModel struct{ model.Model }

func (workerPanicModel) Predict([]float64, *model.Matrix) error {
	par.Tasks(4, 8, func(i int) {
		if i == 5 {
			panic("worker bug")
		}
	})
	return nil
}

// TestWorkerPanicIs500: a model panicking on a goroutine of its own
// worker pool, in a prediction or an explanation, fails that request
// with a 500 naming the request id (the stack goes to the log), and the
// server answers the next request. The panic used to end the serve
// process: net/http's recover covers only the handler's goroutine.
func TestWorkerPanicIs500(t *testing.T) {
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, v1.Version)
	var log syncBuffer
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	d := f.srv.set.Load().names["churn"]
	prod := d.production()
	broken := *prod.p
	broken.Model = workerPanicModel{prod.p.Model}
	names := maps.Clone(f.srv.set.Load().names)
	nd := *d
	nd.variants = maps.Clone(d.variants) // production serves both routes
	nd.variants[d.plan.Production] = &variant{m: prod.m, p: &broken}
	names["churn"] = &nd
	f.srv.set.Store(&modelSet{names: names})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	body := mlflowBodies(header, rows)["dataframe_split"]
	for _, path := range []string{"/invocations", "/v1/models/churn/explain"} {
		code, out, _ := f.post(path, "application/json", body)
		var e apiError
		if code != http.StatusInternalServerError || json.Unmarshal(out, &e) != nil || e.RequestID == "" ||
			!strings.Contains(e.Message, e.RequestID) || strings.Contains(e.Message, "worker bug") {
			t.Errorf("%s on a model panicking in a worker: %d %s; want 500 naming the request id, not the panic", path, code, out)
		}
	}
	if !strings.Contains(log.String(), "worker bug") || !strings.Contains(log.String(), "panic_test.go") {
		t.Errorf("log has no panic with the worker's stack:\n%s", log.String())
	}
	names["churn"] = d
	f.srv.set.Store(&modelSet{names: names})
	if code, out, _ := f.post("/invocations", "application/json", body); code != http.StatusOK {
		t.Errorf("next request to a sound model: %d %s; want 200", code, out)
	}
}

// errModel is a model whose prediction fails with an internal error.
type errModel struct{ model.Model }

func (errModel) Predict([]float64, *model.Matrix) error {
	return errors.New("design matrix 2x19: internal detail")
}

// TestFailuresKeepInternalsInLog: a prediction or an explanation that
// fails inside the server is a 500 naming the request id, the error
// itself only in the log with that id. The explanation's 500 carried the
// error ("explain failed: ...") and logged nothing.
func TestFailuresKeepInternalsInLog(t *testing.T) {
	reg, arts := newRegistry(t)
	v1 := trainModel(t, reg, arts, "mlc_churn.csv", "churn", "logistic", "churn", 1)
	promote(t, reg, v1.Version)
	var log syncBuffer
	f := start(t, reg, Options{PollInterval: time.Hour, SafetyPollInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	d := f.srv.set.Load().names["churn"]
	prod := d.production()
	broken := *prod.p
	broken.Model = errModel{prod.p.Model}
	names := maps.Clone(f.srv.set.Load().names)
	nd := *d
	nd.variants = maps.Clone(d.variants)
	nd.variants[d.plan.Production] = &variant{m: prod.m, p: &broken}
	names["churn"] = &nd
	f.srv.set.Store(&modelSet{names: names})
	header, rows := csvRows(t, "mlc_churn.csv", 2)
	body := mlflowBodies(header, rows)["dataframe_split"]
	for _, path := range []string{"/invocations", "/v1/models/churn/explain"} {
		code, out, _ := f.post(path, "application/json", body)
		var e apiError
		if code != http.StatusInternalServerError || json.Unmarshal(out, &e) != nil || e.RequestID == "" ||
			!strings.Contains(e.Message, e.RequestID) || strings.Contains(string(out), "internal detail") {
			t.Errorf("%s on a failing model: %d %s; want 500 naming the request id, not the error", path, code, out)
			continue
		}
		logged := false
		for l := range strings.Lines(log.String()) {
			logged = logged || strings.Contains(l, "request="+e.RequestID) && strings.Contains(l, "internal detail")
		}
		if !logged {
			t.Errorf("%s: no log line with request %s and the error:\n%s", path, e.RequestID, log.String())
		}
	}
}
