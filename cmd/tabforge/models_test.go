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
)

// cli runs tabforge with the store and artifact bucket of dir.
func cli(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--store", "sqlite://"+filepath.Join(dir, "tf.db"), "--set", "artifacts="+filepath.Join(dir, "artifacts"))
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

type modelJSON struct {
	Version    string `json:"version"`
	Stage      string `json:"stage"`
	RunID      string `json:"run_id"`
	Deployable bool   `json:"deployable"`
	Artifact   struct {
		URL, Key, SHA256 string
	} `json:"artifact"`
}

func listModels(t *testing.T, dir string) map[string]modelJSON {
	t.Helper()
	code, out, errs := cli(t, dir, "models", "list", "--json")
	if code != 0 {
		t.Fatalf("models list: exit %d: %s", code, errs)
	}
	var ms []modelJSON
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("models list --json: %v\n%s", err, out)
	}
	byVersion := map[string]modelJSON{}
	for _, m := range ms {
		byVersion[m.Version] = m
	}
	return byVersion
}

// TestModelsLifecycle trains three versions through the CLI (one failing
// its quality gates), then lists, shows, promotes, rolls back, verifies
// and corrupts them, checking exit codes and one-line errors.
func TestModelsLifecycle(t *testing.T) {
	dir := t.TempDir()
	train := func(seed string, extra ...string) (string, int) {
		args := append([]string{"train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--time-column", "Year_Sold,Mo_Sold",
			"--models", "ridge", "--cv-folds", "0", "--seed", seed, "--out", filepath.Join(dir, "models"), "--json"}, extra...)
		code, out, errs := cli(t, dir, args...)
		var res struct {
			RunID        string `json:"run_id"`
			ModelVersion string `json:"model_version"`
			Deployable   bool   `json:"deployable"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("train --json (exit %d): %v\n%s\n%s", code, err, out, errs)
		}
		if len(res.ModelVersion) != 16 {
			t.Fatalf("train --json model_version = %q", res.ModelVersion)
		}
		return res.ModelVersion, code
	}
	v1, code := train("1")
	if code != 0 {
		t.Fatalf("train exit %d", code)
	}
	v2, _ := train("2")
	// An impossible R² floor fails the gates: exit 1, registered all the same.
	vbad, code := train("3", "--set", "min_r2_threshold=0.999")
	if code != 1 {
		t.Fatalf("gated train exit %d; want 1", code)
	}
	again, _ := train("1")
	if again != v1 {
		t.Errorf("retraining the same identity gave version %s; want %s", again, v1)
	}

	ms := listModels(t, dir)
	if len(ms) != 3 || ms[v1].Stage != "none" || !ms[v1].Deployable || ms[vbad].Deployable {
		t.Fatalf("models list = %+v", ms)
	}

	// Human train output names the version too.
	code, out, _ := cli(t, dir, "train", "--data", testdata("ames.csv"), "--target", "Sale_Price", "--models", "ridge", "--cv-folds", "0",
		"--seed", "2", "--time-column", "Year_Sold,Mo_Sold", "--out", filepath.Join(dir, "models"))
	if code != 0 || !strings.Contains(out, "model version "+v2+" already registered") {
		t.Errorf("train output (exit %d) lacks the model version:\n%s", code, out)
	}

	steps := []cliStep{
		// The time is the registry write's, not a server's switch.
		{[]string{"models", "promote", v1, "--stage", "production"}, 0, "promoted " + v1 + " to production; recorded in "},
		{[]string{"models", "promote", v2[:8], "--stage", "staging"}, 0, "promoted " + v2 + " to staging"},
		{[]string{"models", "promote", v2, "--stage", "production", "--reason", "better"}, 0, "(was " + v1 + ")"},
		{[]string{"models", "promote", v2, "--stage", "production"}, 0, "already production"},
		{[]string{"models", "promote", "0123456789abcdef", "--stage", "production"}, 1, `unknown model version "0123456789abcdef": not found`},
		{[]string{"models", "promote", vbad, "--stage", "production"}, 1, "models promote " + vbad + " (ames): model is not deployable (it failed its quality gates); add --force to promote it anyway"},
		{[]string{"models", "promote", v1, "--stage", "qa"}, 2, `stage "qa"`},
		{[]string{"models", "promote", v1}, 2, "--stage is required"},
		{[]string{"models", "promote", v1, "--stage", "rollback"}, 1, "is not in production"},
		{[]string{"models", "promote", "--stage", "rollback", "--reason", "latency"}, 0, "rolled back production to " + v1 + " (was " + v2 + ")"},
		{[]string{"models", "rollback"}, 1, "no previous production version"},
		{[]string{"models", "promote", vbad, "--stage", "production", "--force"}, 0, "forced past failed quality gates"},
		{[]string{"models", "rollback", vbad}, 0, "rolled back production to " + v1},
		{[]string{"models", "show", "nosuchversion"}, 1, "is neither a model version nor a model name (registered names: ames)"},
		{[]string{"models", "rollback", "nosuch"}, 1, "neither a model name"},
		{[]string{"models", "verify"}, 0, v1 + " ok: ridge model"},
	}
	runSteps(t, func(args ...string) (int, string, string) { return cli(t, dir, args...) }, steps)

	ms = listModels(t, dir)
	if ms[v1].Stage != "production" || ms[v2].Stage != "archived" || ms[vbad].Stage != "archived" {
		t.Errorf("stages after the steps: %+v", ms)
	}
	code, out, errs := cli(t, dir, "models", "show", v2)
	for _, want := range []string{"model " + v2 + "  name ames  stage archived", "lineage:", "dataset", "ames.csv", "config", "seed 2", "artifact", "history:", "rollback", "better"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("models show (exit %d, %s) lacks %q:\n%s", code, errs, want, out)
		}
	}
	code, out, _ = cli(t, dir, "models", "history", "--json")
	var h []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil || len(h) != 6 {
		t.Errorf("models history --json (exit %d) = %d events; want 6\n%s", code, len(h), out)
	}

	// --json has the same keys whether the change was made or found made
	// already ("changed" was printed only when false, "action" never then).
	for i, tc := range []struct {
		args   []string
		action string
	}{
		{[]string{"models", "alias", "set", "ames", "champion", v1, "--json"}, "alias"},
		{[]string{"models", "alias", "set", "ames", "champion", v1, "--json"}, "alias"},
		{[]string{"models", "promote", v1, "--stage", "production", "--json"}, "promote"},
	} {
		args := tc.args
		code, out, errs := cli(t, dir, args...)
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
			t.Fatalf("%v: exit %d, %v\n%s%s", args, code, err, out, errs)
		}
		if got["changed"] != (i == 0) || got["action"] != tc.action || got["name"] != "ames" || got["version"] != v1 {
			t.Errorf("%v --json = %v; want changed %v, its action, name and version", args, got, i == 0)
		}
		if tc.action == "alias" && got["alias"] != "champion" {
			t.Errorf("%v --json = %v; want alias champion", args, got)
		}
	}

	// A corrupted artifact is refused with a checksum error.
	p := filepath.Join(dir, "artifacts", filepath.FromSlash(ms[v1].Artifact.Key))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x20
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli(t, dir, "models", "verify")
	if code != 1 || !strings.Contains(errs, "checksum mismatch") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("verify of a corrupt artifact: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// Under --json the failed check is data too: "ok" false, with the
	// version and why (stdout was empty, though success prints "ok": true).
	code, out, errs = cli(t, dir, "models", "verify", v1, "--json")
	var verdict struct {
		Version string `json:"version"`
		OK      *bool  `json:"ok"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &verdict); code != 1 || err != nil || verdict.OK == nil || *verdict.OK || verdict.Version != v1 || !strings.Contains(verdict.Error, "checksum mismatch") {
		t.Errorf("verify --json of a corrupt artifact: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	code, out, errs = cli(t, dir, "models", "promote", v1, "--stage", "production", "--force")
	if code != 1 || !strings.Contains(errs, "checksum mismatch") || !strings.Contains(errs, "not moved to production") {
		t.Errorf("promote of a corrupt artifact: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// A model file is not a registered version; it is said so.
	for _, sub := range []string{"show", "verify"} {
		if code, _, errs := cli(t, dir, "models", sub, p); code != 2 || !strings.Contains(errs, "is a file, not a registered model version") {
			t.Errorf("models %s FILE: exit %d, %s", sub, code, errs)
		}
	}
}

// TestModelsSurviveExportImport exports a store holding a promoted and
// rolled-back registry, imports it into a fresh store, and checks that the
// registry reads back exactly: versions, stages, history, production.
func TestModelsSurviveExportImport(t *testing.T) {
	dir := t.TempDir()
	var versions []string
	for _, seed := range []string{"1", "2"} {
		code, out, errs := cli(t, dir, "train", "--data", testdata("mlc_churn.csv"), "--target", "churn", "--models", "logistic",
			"--cv-folds", "0", "--seed", seed, "--out", filepath.Join(dir, "models"), "--json")
		var res struct {
			ModelVersion string `json:"model_version"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.ModelVersion == "" {
			t.Fatalf("train: exit %d\n%s\n%s", code, out, errs)
		}
		versions = append(versions, res.ModelVersion)
	}
	for _, args := range [][]string{
		{"models", "promote", versions[0], "--stage", "production"},
		{"models", "promote", versions[1], "--stage", "production"},
		{"models", "promote", "--stage", "rollback", "--reason", "drift"},
		{"models", "promote", versions[1], "--stage", "staging"},
	} {
		if code, _, errs := cli(t, dir, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	dump := filepath.Join(t.TempDir(), "dump.jsonl")
	if code, _, errs := cli(t, dir, "store", "export", dump); code != 0 {
		t.Fatalf("store export: exit %d: %s", code, errs)
	}
	fresh := t.TempDir()
	// Artifacts are not in the store: the imported records name them by
	// absolute URL, so verify below reads them where they were written.
	if code, _, errs := cli(t, fresh, "store", "import", dump); code != 0 {
		t.Fatalf("store import: exit %d: %s", code, errs)
	}
	for _, args := range [][]string{
		{"models", "list", "--json"},
		{"models", "history", "--json"},
		{"models", "show", versions[0], "--json"},
		{"models", "show", versions[1], "--json"},
	} {
		_, want, _ := cli(t, dir, args...)
		code, got, errs := cli(t, fresh, args...)
		if code != 0 || got != want {
			t.Errorf("%v after export/import (exit %d, %s):\n got %s\nwant %s", args, code, errs, got, want)
		}
	}
	if code, out, errs := cli(t, fresh, "models", "verify"); code != 0 || !strings.Contains(out, versions[0]+" ok") {
		t.Errorf("verify after import: exit %d\n%s\n%s", code, out, errs)
	}
}

// cliStep is one CLI call of a scripted scenario and what it must give.
type cliStep struct {
	args     []string
	code     int
	contains string // in stdout on success, in the one-line stderr on failure
}

// runSteps runs each step through run and checks its exit code, that a
// failure is one line on stderr, and that the output holds contains.
func runSteps(t *testing.T, run func(args ...string) (int, string, string), steps []cliStep) {
	t.Helper()
	for _, s := range steps {
		code, out, errs := run(s.args...)
		where := out
		if s.code != 0 {
			where = errs
			if strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("%v: stderr is not one line:\n%s", s.args, errs)
			}
		}
		if code != s.code || !strings.Contains(where, s.contains) {
			t.Errorf("%v: exit %d; want %d with %q\nstdout: %s\nstderr: %s", s.args, code, s.code, s.contains, out, errs)
		}
	}
}

// TestModelTimesInUTC: models list, show and history print times in UTC,
// as runs list, watch --status, run ids and the dashboard do. They
// printed local time with no zone, so a version looked created hours
// apart from the run that made it.
func TestModelTimesInUTC(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("EST", -5*3600)
	t.Cleanup(func() { time.Local = local })
	dir := t.TempDir()
	code, out, errs := cli(t, dir, "train", "--data", testdata("midwest.csv"), "--target", "percbelowpoverty", "--models", "ridge", "--cv-folds", "0",
		"--out", filepath.Join(dir, "models"), "--name", "mw", "--set", "min_r2_threshold=0", "--set", "min_business_accuracy=0")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := cli(t, dir, "models", "promote", "mw@latest", "--stage", "production"); code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, errs)
	}
	var ms []struct {
		Created time.Time `json:"created"`
	}
	_, out, _ = cli(t, dir, "models", "list", "--json")
	if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 1 {
		t.Fatalf("models list --json: %v\n%s", err, out)
	}
	var hs []struct {
		Time time.Time `json:"time"`
	}
	_, out, _ = cli(t, dir, "models", "history", "--json")
	if err := json.Unmarshal([]byte(out), &hs); err != nil || len(hs) != 1 {
		t.Fatalf("models history --json: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"models", "list"}, ms[0].Created.UTC().Format("2006-01-02 15:04:05")},
		{[]string{"models", "show", "mw@production"}, "created " + ms[0].Created.UTC().Format(time.RFC3339)},
		{[]string{"models", "history"}, hs[0].Time.UTC().Format("2006-01-02 15:04:05")},
	} {
		if code, out, errs := cli(t, dir, c.args...); code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d\n%s%s; want the UTC time %s", c.args, code, out, errs, c.want)
		}
	}
}
