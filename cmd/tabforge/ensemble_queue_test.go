package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// ensembleJSON is the part of an ensemble's leaderboard line a queued
// run must reproduce, as raw JSON, and where it ran.
type ensembleJSON struct {
	Model  string          `json:"model"`
	Params json.RawMessage `json:"params"`
	CV     json.RawMessage `json:"cv"`
	CVStd  json.RawMessage `json:"cv_std"`
	Test   json.RawMessage `json:"test"`
	Ran    *struct {
		Worker   string  `json:"worker"`
		QueuedMS float64 `json:"queued_ms"`
		RunMS    float64 `json:"run_ms"`
	} `json:"ran"`
}

// ensembles returns the ensemble lines of a train --json output.
func ensembles(t *testing.T, out string) (best string, ens []ensembleJSON) {
	t.Helper()
	var res struct {
		Best        string         `json:"best"`
		Leaderboard []ensembleJSON `json:"leaderboard"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	for _, e := range res.Leaderboard {
		if strings.HasPrefix(e.Model, "ensemble:") {
			ens = append(ens, e)
		}
	}
	return res.Best, ens
}

// TestEnsembleUnitsOnWorker trains with every advanced ensemble through
// the embedded JetStream server and a worker process: the ensembles'
// fits run on the worker as units (it fetches the candidates'
// predictions the driver shared) and give the ensembles of the same run
// in this process: members, weights or meta-learner coefficients, CV
// and test scores, byte for byte in the JSON.
func TestEnsembleUnitsOnWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a worker process")
	}
	srv := startQueue(t)
	args := func(dir string) []string {
		return []string{"train", "--data", testdata("credit_data.csv"), "--target", "Status", "--models", "logistic,tree", "--cv-folds", "3",
			"--set", "enable_advanced_ensemble=true", "--json", "--store", "sqlite://" + filepath.Join(dir, "tf.db"),
			"--set", "artifacts=" + filepath.Join(dir, "artifacts"), "--set", "force_production_quality=false", "--out", filepath.Join(dir, "models")}
	}
	ref := t.TempDir()
	code, refOut, refErr := cli(t, ref, args(ref)...)
	if code != 0 {
		t.Fatalf("local train: exit %d\n%s", code, refErr)
	}
	wantBest, want := ensembles(t, refOut)
	if len(want) != 3 {
		t.Fatalf("local train has ensembles %+v; want voting, stacking and selection", want)
	}

	dir := t.TempDir()
	_, wlog := startWorker(t, srv.URL(), "sqlite://"+filepath.Join(dir, "tf.db"))
	waitWorkers(t, srv.URL(), 1, wlog)
	driver := tabforgeProc(t, append(args(dir), "--queue", srv.URL())...)
	var out, errb bytes.Buffer
	driver.Stdout, driver.Stderr = &out, &errb
	if err := driver.Run(); err != nil {
		t.Fatalf("queued train: %v\n%s\nworker:\n%s", err, errb.String(), wlog.String())
	}
	gotBest, got := ensembles(t, out.String())
	if gotBest != wantBest || len(got) != len(want) {
		t.Fatalf("queued train: best %s, ensembles %d; want %s, %d", gotBest, len(got), wantBest, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Model != w.Model || !bytes.Equal(g.Params, w.Params) || !bytes.Equal(g.CV, w.CV) || !bytes.Equal(g.CVStd, w.CVStd) || !bytes.Equal(g.Test, w.Test) {
			t.Errorf("queued %s: params %s cv %s test %s\nwant %s: params %s cv %s test %s", g.Model, g.Params, g.CV, g.Test, w.Model, w.Params, w.CV, w.Test)
		}
		if g.Ran == nil || g.Ran.Worker == "" || w.Ran != nil {
			t.Errorf("%s ran on %+v (local run: %+v); want a worker named in the queued run only", g.Model, g.Ran, w.Ran)
		} else {
			t.Logf("%s on %s: queued %.2f ms, ran %.2f ms", g.Model, g.Ran.Worker, g.Ran.QueuedMS, g.Ran.RunMS)
		}
	}
	if n := strings.Count(wlog.String(), "kind=ensemble"); n != 2*len(want) { // "unit start" and "unit done" each
		t.Errorf("the worker logged %d ensemble unit lines; want %d\n%s", n, 2*len(want), wlog.String())
	}
}
