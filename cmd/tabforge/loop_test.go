package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContinuousLoop runs the loop end to end with real processes on
// loopback: `tabforge serve` serves a gbdt champion of 2022's synthetic
// orders; `tabforge watch` runs over a directory; when a file of orders
// into the shifted 2023 arrives there, watch retrains, promotes the
// challenger, and serve, polling the same store, answers with the new
// version (X-Model-Version) without a restart.
func TestContinuousLoop(t *testing.T) {
	dir, watched := t.TempDir(), t.TempDir()
	bin := buildBinary(t, t.TempDir())
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	f, old, all := salesSplit(t, 6_000, 3, at)
	before := writeRows(t, dir, "sales_2022.csv", f, old)
	code, out, stderr := tabforge(t, dir, "train", "--data", before, "--target", "order_quantity", "--time-column", "order_date",
		"--drop", "order_number,procured_date,ship_date,delivery_date", "--models", "gbdt", "--cv-folds", "0", "--name", "sales",
		"--set", "min_r2_threshold=-1", "--set", "min_business_accuracy=0", "--out", filepath.Join(dir, "runs"), "--json")
	var res struct {
		ModelVersion string `json:"model_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := tabforge(t, dir, "models", "promote", res.ModelVersion, "--stage", "production"); code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	body, err := os.ReadFile(writeRows(t, dir, "rows.csv", f, old[:20], "order_quantity"))
	if err != nil {
		t.Fatal(err)
	}
	store := []string{"--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--set", "artifacts=" + filepath.Join(dir, "artifacts")}

	_, url := startServe(t, bin, append([]string{"--poll", "100ms"}, store...)...)
	served := func() string {
		t.Helper()
		resp, err := http.Post(url+"/invocations", "text/csv", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("serve: status %d", resp.StatusCode)
		}
		return resp.Header.Get("X-Model-Version")
	}
	if v := served(); v != res.ModelVersion {
		t.Fatalf("serve answers with %q; want the champion %s", v, res.ModelVersion)
	}

	watch := exec.Command(bin, append([]string{"watch", "--name", "sales", "--dir", watched, "--every", "200ms", "--settle", "0",
		"--work-dir", filepath.Join(dir, "continuous")}, store...)...)
	watch.Stdout, watch.Stderr = io.Discard, io.Discard
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watch.Process.Kill(); watch.Wait() })
	writeRows(t, dir, "sales_2023.csv", f, all)
	// Arrives whole: renamed into the watched directory.
	if err := os.Rename(filepath.Join(dir, "sales_2023.csv"), filepath.Join(watched, "sales_2023.csv")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	v := served()
	for v == res.ModelVersion && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		v = served()
	}
	watch.Process.Kill()
	watch.Wait()
	code, out, stderr = tabforge(t, dir, "watch", "--name", "sales", "--status", "--json")
	var hs []struct {
		Decision, Reason  string
		ChallengerVersion string `json:"challenger_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &hs) != nil || len(hs) != 1 {
		t.Fatalf("watch --status: exit %d, %s%s; want one version handled", code, out, stderr)
	}
	if hs[0].Decision != "promote" || v != hs[0].ChallengerVersion {
		t.Fatalf("watch handled %+v; serve answers with %s; want the promoted challenger served", hs[0], v)
	}
}
