package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestGarbageCollection trains four versions of one name (seeds 1 to 4),
// puts the first in production, then the second (so a rollback returns to
// the first), aliases none, and collects with --keep-last 1: the two
// protected runs and the newest stay, the third run goes with its model
// directory, version and artifact. runs rm of a protected run is refused
// naming its use, a dry run removes nothing, and on SQLite the store file
// shrinks. Both backends.
func TestGarbageCollection(t *testing.T) {
	for _, b := range storeBackends {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			cli := backendCLI(t, dir, b.url(t, dir))
			type trained struct{ run, version, path string }
			var runs []trained
			for _, seed := range []string{"1", "2", "3", "4"} {
				code, out, errs := cli("train", "--data", testdata("credit_data.csv"), "--target", "Status", "--models", "tree",
					"--cv-folds", "0", "--profile", "development", "--seed", seed, "--name", "credit", "--out", filepath.Join(dir, "models"), "--json")
				var res struct {
					RunID        string `json:"run_id"`
					ModelVersion string `json:"model_version"`
					ModelPath    string `json:"model_path"`
				}
				if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
					t.Fatalf("train seed %s: exit %d\n%s", seed, code, errs)
				}
				runs = append(runs, trained{res.RunID, res.ModelVersion, res.ModelPath})
			}
			for _, i := range []int{0, 1} {
				if code, _, errs := cli("models", "promote", runs[i].version, "--stage", "production"); code != 0 {
					t.Fatalf("promote: %s", errs)
				}
			}
			if code, _, errs := cli("runs", "rm", runs[0].run); code != 1 || !strings.Contains(errs, "credit@production~1") {
				t.Errorf("runs rm of the rollback target: exit %d, %q; want a refusal naming credit@production~1", code, errs)
			}
			// A prefix of every run id names no run: nothing is removed.
			if code, _, errs := cli("runs", "rm", runs[2].run[:8]); code != 1 || !strings.Contains(errs, "ambiguous") {
				t.Errorf("runs rm of an ambiguous prefix: exit %d, %q; want a refusal", code, errs)
			}
			// A run named twice is one run.
			if code, out, _ := cli("runs", "rm", runs[2].run, runs[2].run, "--dry-run", "--json"); code != 0 || strings.Count(out, runs[2].run) != 1 {
				t.Errorf("runs rm of one run named twice: exit %d\n%s\nwant it once", code, out)
			}
			if code, out, errs := cli("gc", "--keep-last", "1", "--dry-run", "--json"); code != 0 || !strings.Contains(out, runs[2].run) {
				t.Fatalf("gc --dry-run: exit %d\n%s\n%s", code, out, errs)
			}
			if _, err := os.Stat(runs[2].path); err != nil {
				t.Fatalf("a dry run removed %s: %v", runs[2].path, err)
			}
			db := filepath.Join(dir, "tf.db")
			before := fileSize(db)
			code, out, errs := cli("gc", "--keep-last", "1", "--json")
			var rep struct {
				Runs     []string          `json:"runs"`
				Versions []string          `json:"versions"`
				Kept     map[string]string `json:"kept"`
				DryRun   *bool             `json:"dry_run"`
			}
			if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
				t.Fatalf("gc: exit %d\n%s\n%s", code, out, errs)
			}
			// Written false too: it was left out unless true.
			if rep.DryRun == nil || *rep.DryRun {
				t.Errorf("gc --json: dry_run = %v; want false, present\n%s", rep.DryRun, out)
			}
			if !slices.Equal(rep.Runs, []string{runs[2].run}) || !slices.Equal(rep.Versions, []string{runs[2].version}) {
				t.Errorf("gc removed runs %v and versions %v; want only run 3 (%s) and its version", rep.Runs, rep.Versions, runs[2].run)
			}
			for _, i := range []int{0, 1, 3} {
				if rep.Kept[runs[i].run] == "" {
					t.Errorf("run %d is not reported kept: %v", i+1, rep.Kept)
				}
				if code, _, _ := cli("runs", "show", runs[i].run); code != 0 {
					t.Errorf("kept run %d is gone", i+1)
				}
			}
			if _, err := os.Stat(filepath.Dir(runs[2].path)); !os.IsNotExist(err) {
				t.Errorf("the removed run's model directory is still there: %v", err)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "artifacts", "models", runs[2].version)); len(entries) != 0 {
				t.Errorf("the removed version's artifact is still stored: %v", entries)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "artifacts", "models", runs[3].version)); len(entries) == 0 {
				t.Error("the newest version's artifact is gone")
			}
			if code, _, _ := cli("runs", "show", runs[2].run); code == 0 {
				t.Error("the removed run is still listed")
			}
			if code, _, _ := cli("predict", "--model", runs[2].version, "--data", testdata("credit_data.csv"), "--out", filepath.Join(dir, "p.csv")); code == 0 {
				t.Error("the removed version still resolves")
			}
			if code, _, errs := cli("predict", "--model", "credit@production", "--data", testdata("credit_data.csv"), "--out", filepath.Join(dir, "p.csv")); code != 0 {
				t.Errorf("production no longer predicts after gc: %s", errs)
			}
			if b.name == "sqlite" && fileSize(db) >= before {
				t.Errorf("store file %d bytes after gc, %d before: VACUUM did not shrink it", fileSize(db), before)
			}
		})
	}
}

// TestVacuumOnlyWhenWorthIt: gc rewrites an SQLite store only when at
// least a quarter of its pages are free. It used to VACUUM after every
// collection, rewriting a large store whole (and holding off other
// processes' writes meanwhile) even when nothing was removed.
func TestVacuumOnlyWhenWorthIt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tf.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 10 {
		if err := st.PutRecord(ctx, store.CacheKind, fmt.Sprint(i), make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		delete  []string
		wantRan bool
	}{
		{"a tenth freed", []string{"0"}, false},
		{"more than half freed", []string{"1", "2", "3", "4", "5"}, true},
	}
	for _, s := range steps {
		for _, k := range s.delete {
			if err := st.DeleteRecord(ctx, store.CacheKind, k); err != nil {
				t.Fatal(err)
			}
		}
		before, err := st.FreeShare(ctx)
		if err != nil {
			t.Fatal(err)
		}
		freed, err := vacuum(ctx, st, "sqlite://"+path, false)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		after, err := st.FreeShare(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ran := after < before; ran != s.wantRan || (freed > 0) != s.wantRan {
			t.Errorf("%s: free share %.2f → %.2f, %d bytes freed; want VACUUM run %v", s.name, before, after, freed, s.wantRan)
		}
	}
}
