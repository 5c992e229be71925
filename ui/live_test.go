package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/progress"
)

// TestBrowserLiveProgress runs a real, small tuned train into a SQLite
// store while headless Chromium shows the runs page: the page's
// Server-Sent Events show the run's stage, its trials and best value so
// far, and once the run ends the page reloads to show it finished. The
// train is held at its ensemble stage (through its progress callback)
// until the browser has seen the update, so the test does not depend on
// how fast the machine trains.
func TestBrowserLiveProgress(t *testing.T) {
	b := newBrowser(t)
	st := openSQLite(t)
	ts := serve(t, st, Options{})

	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "mlc_churn.csv"), "churn"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 2, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.ForceProductionQuality = true, 3, false
	reached, release := make(chan struct{}), make(chan struct{})
	held := false
	o := pipeline.Options{Runs: st, Studies: st, Profile: "default", Progress: func(e progress.Event) {
		if e.Stage == progress.Step && e.Name == "ensemble" && !held {
			held = true
			close(reached)
			<-release
		}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Train(ctx, cfg, o)
		done <- err
	}()
	released := false
	defer func() { // a failed check: let the train end before the store closes
		if !released {
			close(release)
			<-done
		}
	}()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("train ended before its ensemble stage: %v", err)
	case <-ctx.Done():
		t.Fatal("train did not reach its ensemble stage")
	}

	b.do(t, "runs page", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#runs td.status.running")))
	b.waitFor(t, `(document.querySelector("#runs .progress") || {}).textContent?.includes("ensemble")`)
	text := eval[string](t, b, `document.querySelector("#runs .progress").textContent`)
	if !strings.Contains(text, "trials (budget 3 per model)") || !strings.Contains(text, "best ") {
		t.Errorf("live progress %q; want the trials and best value so far", text)
	}
	b.shot(t, "live")

	close(release)
	released = true
	if err := <-done; err != nil {
		t.Fatalf("train: %v", err)
	}
	b.waitFor(t, `document.readyState === "complete" && document.querySelector("#runs td.status.succeeded") !== null && document.querySelector("#runs td.status.running") === null`)
	b.check(t)
}
