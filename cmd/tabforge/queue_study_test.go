package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/dist"
)

// tunedTrainArgs is a gbdt study of 6 trials on 3 folds of ames.
func tunedTrainArgs(dir string) []string {
	return []string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "gbdt", "--cv-folds", "3",
		"--set", "enable_hyperparameter_tuning=true", "--max-evals", "6", "--json",
		"--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--set", "artifacts=" + filepath.Join(dir, "artifacts"),
		"--set", "force_production_quality=false", "--out", filepath.Join(dir, "models")}
}

// shownStudies runs studies show RUN --json in dir's store.
func shownStudies(t *testing.T, dir, run string) []studyView {
	t.Helper()
	code, out, errs := cli(t, dir, "studies", "show", run, "--json")
	var views []studyView
	if code != 0 || json.Unmarshal([]byte(out), &views) != nil || len(views) == 0 {
		t.Fatalf("studies show %s --json: exit %d\n%s%s", run, code, out, errs)
	}
	return views
}

// trialsText renders a study's trials for comparison: number, state,
// value and parameters.
func trialsText(v studyView) string {
	var b strings.Builder
	for _, tr := range v.Trials {
		val := "-"
		if tr.Value != nil {
			val = fmt.Sprint(*tr.Value)
		}
		fmt.Fprintf(&b, "%d %s %s %v\n", tr.Number, tr.State, val, tr.Params)
	}
	return b.String()
}

func runID(t *testing.T, out string) string {
	t.Helper()
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.RunID == "" {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	return res.RunID
}

// waitWorkers waits until n workers announce themselves on the queue.
func waitWorkers(t *testing.T, url string, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		st, err := dist.QueueStatus(t.Context(), url)
		if err == nil && len(st.Workers) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers never joined %s (%v, %+v)", n, url, err, st)
		}
	}
}

// TestQueuedStudyMatchesLocal tunes on a queue served by two worker
// processes with tune_batch auto (so batches of 2, the workers' total
// concurrency) and checks that the study has the trials, parameters and
// values of the same study run in this process with tune_batch=2, and
// that studies show says which workers ran each queued trial.
func TestQueuedStudyMatchesLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	url := natsServer(t)
	ref := t.TempDir()
	code, refOut, refErr := cli(t, ref, append(tunedTrainArgs(ref), "--set", "tune_batch=2")...)
	if code != 0 {
		t.Fatalf("local train: exit %d\n%s", code, refErr)
	}
	want := shownStudies(t, ref, runID(t, refOut))

	dir := t.TempDir()
	storeURL := "sqlite://" + filepath.Join(dir, "tf.db")
	_, log1 := startWorker(t, url, storeURL)
	_, log2 := startWorker(t, url, storeURL)
	waitWorkers(t, url, 2)
	code, out, errs := cli(t, dir, append(tunedTrainArgs(dir), "--queue", url)...)
	if code != 0 {
		t.Fatalf("queued train: exit %d\n%s\nworkers:\n%s\n%s", code, errs, log1.String(), log2.String())
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if tun := res.Leaderboard[0].Tuning; tun == nil || tun.Batch != 2 {
		t.Errorf("queued study tuning %+v; want batches of 2 (two workers of concurrency 1)", tun)
	}
	got := shownStudies(t, dir, res.RunID)
	if len(got) != len(want) {
		t.Fatalf("queued run has %d studies, the local one %d", len(got), len(want))
	}
	for i := range want {
		if g, w := trialsText(got[i]), trialsText(want[i]); g != w {
			t.Errorf("study %s on the queue:\n%s\nwant the local batched study:\n%s", got[i].Study.Name, g, w)
		}
	}
	workers := map[string]bool{}
	for _, tr := range got[0].Trials {
		if tr.State != "complete" {
			continue
		}
		if tr.Worker == "" || tr.QueuedMS == nil || tr.RunMS == nil || len(tr.Units) != 3 {
			t.Errorf("queued trial %d: worker %q queued %v run %v units %v; want the workers and times of its 3 folds", tr.Number, tr.Worker, tr.QueuedMS, tr.RunMS, tr.Units)
		}
		for _, u := range tr.Units {
			workers[u.Worker] = true
		}
	}
	if len(workers) != 2 {
		t.Errorf("trials ran on workers %v; want both", workers)
	}
	if code, text, _ := cli(t, dir, "studies", "show", res.RunID); code != 0 || !strings.Contains(text, "WORKER") || !strings.Contains(text, "QUEUED MS") {
		t.Errorf("studies show RUN: exit %d\n%s\nwant worker and timing columns", code, text)
	}
}
