package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestRegisteredNames trains two registered names through the CLI (ames
// as houses, twice, and mlc_churn as churn), promotes, aliases and rolls
// them back independently, and predicts, evaluates and exports through
// every form of model reference, checking that each gives the same
// predictions as the model file it stands for.
func TestRegisteredNames(t *testing.T) {
	for _, b := range storeBackends {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			testRegisteredNames(t, dir, backendCLI(t, dir, b.url(t, dir)))
		})
	}
}

// storeBackends are the stores CLI scenarios run on: the embedded SQLite
// file and a real Redis (skipped when the suite has none).
var storeBackends = []struct {
	name string
	url  func(t *testing.T, dir string) string
}{
	{"sqlite", func(t *testing.T, dir string) string { return "sqlite://" + filepath.Join(dir, "tf.db") }},
	{"redis", func(t *testing.T, _ string) string { return redistest.URL(t) }},
}

// backendCLI runs tabforge commands on the store at url, with artifacts
// under dir and no fallback, so a Redis scenario really runs on Redis.
func backendCLI(t *testing.T, dir, url string) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		args = append(args, "--store", url, "--set", "artifacts="+filepath.Join(dir, "artifacts"), "--set", "store_fallback=false")
		code := run(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
}

func testRegisteredNames(t *testing.T, dir string, cli func(args ...string) (int, string, string)) {
	type trained struct{ version, path string }
	train := func(data, target, model string, extra ...string) trained {
		t.Helper()
		args := append([]string{"train", "--data", testdata(data), "--target", target, "--models", model, "--cv-folds", "0",
			"--out", filepath.Join(dir, "models"), "--json"}, extra...)
		code, out, errs := cli(args...)
		var res struct {
			ModelVersion string `json:"model_version"`
			ModelPath    string `json:"model_path"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.ModelVersion == "" {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errs)
		}
		return trained{res.ModelVersion, res.ModelPath}
	}
	h1 := train("ames.csv", "Sale_Price", "ridge", "--name", "houses", "--seed", "1", "--time-column", "Year_Sold,Mo_Sold")
	h2 := train("ames.csv", "Sale_Price", "ridge", "--name", "houses", "--seed", "2", "--time-column", "Year_Sold,Mo_Sold", "--test-fraction", "0.3")
	c1 := train("mlc_churn.csv", "churn", "logistic", "--set", "name=churn")
	c2 := train("mlc_churn.csv", "churn", "logistic", "--seed", "7") // default name: the file's stem

	steps := []cliStep{
		{[]string{"models", "promote", h1.version, "--stage", "production"}, 0, "houses: promoted " + h1.version + " to production"},
		{[]string{"models", "promote", c1.version[:6], "--stage", "production"}, 0, "churn: promoted " + c1.version + " to production"},
		{[]string{"models", "promote", "houses/" + h2.version, "--stage", "production"}, 0, "(was " + h1.version + ")"},
		{[]string{"models", "promote", "mlc_churn/" + c2.version, "--stage", "staging"}, 0, "mlc_churn: promoted"},
		{[]string{"models", "alias", "set", "houses", "champion", h1.version}, 0, "houses: alias champion now points at " + h1.version},
		{[]string{"models", "alias", "set", "houses", "challenger", "houses@production"}, 0, "alias challenger now points at " + h2.version},
		{[]string{"models", "alias", "set", "houses", "champion", c1.version}, 1, `belongs to "churn"`},
		{[]string{"models", "alias", "set", "houses", "staging", h1.version}, 1, "is a stage name"},
		{[]string{"models", "alias", "rm", "houses", "challenger"}, 0, "removed alias challenger"},
		{[]string{"models", "alias", "rm", "houses", "challenger"}, 1, "unknown alias"},
		{[]string{"models", "rollback"}, 2, "names have a production version (churn, houses)"},
		{[]string{"models", "promote", "--stage", "rollback"}, 2, "say which"},
		{[]string{"models", "verify"}, 2, "say which"},
		{[]string{"models", "rollback", "churn"}, 1, "no previous production version"},
		{[]string{"models", "rollback", "houses"}, 0, "houses: rolled back production to " + h1.version + " (was " + h2.version + ")"},
		{[]string{"models", "rollback", "prices"}, 1, "unknown model"},
		{[]string{"models", "verify", "churn@production"}, 0, c1.version + " ok: logistic model of churn"},
		{[]string{"models", "verify", "houses@champion"}, 0, h1.version + " ok: ridge model of houses"},
		{[]string{"models", "verify", "houses@nope"}, 1, "houses has aliases champion"},
		{[]string{"models", "verify", "churn@staging"}, 1, "no model version is in staging"},
		{[]string{"models", "show", "houses@champion"}, 0, "name houses  stage production, @champion"},
		{[]string{"models", "history", "churn"}, 0, "churn"},
		{[]string{"models", "list", "--name", "nosuch"}, 1, "unknown model name"},
		{[]string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--name", "bad name"}, 2, "--name"},
	}
	runSteps(t, cli, steps)

	// Stages per name, after all of the above: churn's promotion never
	// archived houses' versions and the other way round.
	ms := map[string]modelJSON{}
	code, out, errs := cli("models", "list", "--json")
	var list []modelJSON
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("models list --json: exit %d: %s", code, errs)
	}
	for _, m := range list {
		ms[m.Version] = m
	}
	for v, want := range map[string]string{h1.version: "production", h2.version: "archived", c1.version: "production", c2.version: "staging"} {
		if ms[v].Stage != want {
			t.Errorf("%s: stage %q; want %s (list %+v)", v, ms[v].Stage, want, ms)
		}
	}
	code, out, _ = cli("models", "list", "--name", "houses")
	if code != 0 || strings.Count(out, "houses") != 1 || !strings.Contains(out, "champion") || strings.Contains(out, c1.version) {
		t.Errorf("models list --name houses (exit %d) is not houses' group:\n%s", code, out)
	}

	// Every reference form predicts exactly what the model file does.
	predict := func(ref string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "pred.csv")
		code, _, errs := cli("predict", "--model", ref, "--data", testdata("ames.csv"), "--out", out)
		if code != 0 {
			t.Fatalf("predict --model %s: exit %d: %s", ref, code, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want1, want2 := predict(h1.path), predict(h2.path)
	if want1 == want2 {
		t.Fatal("two seeds gave identical predictions; the test could not tell the versions apart")
	}
	for ref, want := range map[string]string{
		"houses@production": want1, "houses@champion": want1, "houses/" + h2.version[:5]: want2, h2.version: want2, h1.version[:6]: want1,
	} {
		if got := predict(ref); got != want {
			t.Errorf("predict --model %s differs from the file of its version", ref)
		}
	}
	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"evaluate", "--model", "houses@production", "--data", testdata("ames.csv"), "--json"}, 0, "r2"},
		{[]string{"export", "--model", "houses@champion", "--format", "xgboost-json", "--out", filepath.Join(dir, "x.json")}, 1, "this model is ridge"},
		{[]string{"predict", "--model", "houses@nope", "--data", testdata("ames.csv"), "--out", filepath.Join(dir, "p.csv")}, 1, "unknown alias"},
		{[]string{"predict", "--model", filepath.Join(dir, "no", "such.tfm"), "--data", testdata("ames.csv"), "--out", filepath.Join(dir, "p.csv")}, 1, "no such file, and not a registered model"},
	} {
		code, out, errs := cli(tc.args...)
		where := out
		if tc.code != 0 {
			where = errs
		}
		if code != tc.code || !strings.Contains(where, tc.contains) {
			t.Errorf("%v: exit %d; want %d with %q\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.contains, out, errs)
		}
	}
}

// TestMigrateOldStore turns a store into the layout written before names
// (a version without a name, one store-wide production record, events
// without names), then checks that the CLI migrates it when it opens it:
// the version is named after its data file and serves as ames@production.
func TestMigrateOldStore(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, dir, "train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--time-column", "Year_Sold,Mo_Sold",
		"--models", "ridge", "--cv-folds", "0", "--name", "temporary", "--out", filepath.Join(dir, "models"), "--json")
	var res struct {
		ModelVersion string `json:"model_version"`
		ModelPath    string `json:"model_path"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	if code, _, errs := cli(t, dir, "models", "promote", res.ModelVersion, "--stage", "production"); code != 0 {
		t.Fatalf("promote: exit %d: %s", code, errs)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(kind string, edit func(map[string]any)) {
		recs, err := st.ListRecords(ctx, kind, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			var v map[string]any
			if err := json.Unmarshal(rec.Value, &v); err != nil {
				t.Fatal(err)
			}
			edit(v)
			b, _ := json.Marshal(v)
			if err := st.PutRecord(ctx, kind, rec.Key, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	rewrite(registry.KindModel, func(m map[string]any) { delete(m, "name") })
	rewrite(registry.KindEvent, func(e map[string]any) { delete(e, "name") })
	old, _ := json.Marshal(map[string]any{"version": res.ModelVersion, "since": time.Now()})
	if err := st.PutRecord(ctx, registry.KindStage, "production", old); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRecord(ctx, registry.KindName, "temporary"); err != nil {
		t.Fatal(err)
	}
	// Nor did it record a layout, which Open reads to skip migrating.
	meta, err := st.ListRecords(ctx, registry.KindMeta, "")
	if err != nil || len(meta) == 0 {
		t.Fatalf("layout records: %d, %v; want the one Open wrote", len(meta), err)
	}
	for _, rec := range meta {
		if err := st.DeleteRecord(ctx, registry.KindMeta, rec.Key); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	code, out, errs = cli(t, dir, "models", "list")
	if lines := strings.Split(out, "\n"); code != 0 || len(lines) < 2 || len(strings.Fields(lines[1])) < 3 || strings.Join(strings.Fields(lines[1])[:3], " ") != "ames "+res.ModelVersion+" production" {
		t.Fatalf("models list on the old layout: exit %d\n%s\n%s", code, out, errs)
	}
	pred := filepath.Join(dir, "pred.csv")
	if code, _, errs := cli(t, dir, "predict", "--model", "ames@production", "--data", testdata("ames.csv"), "--out", pred); code != 0 {
		t.Fatalf("predict ames@production after migration: exit %d: %s", code, errs)
	}
	if code, out, _ := cli(t, dir, "models", "history", "ames"); code != 0 || !strings.Contains(out, "ames") {
		t.Errorf("history of the migrated name: exit %d\n%s", code, out)
	}
}
