package main

import (
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeDrainTimeoutExit: SIGTERM while a request is still uploading
// past --drain-timeout cuts the request off, and serve exits 143 (128 +
// SIGTERM, as for any command a signal stopped short), which the README
// and --help say; the README said 1.
func TestServeDrainTimeoutExit(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, t.TempDir())
	version := trainChurn(t, dir)
	if code, out, errs := cli(t, dir, "models", "promote", version, "--stage", "production"); code != 0 {
		t.Fatalf("promote: %d %s %s", code, out, errs)
	}
	cmd, url := startServe(t, bin, "--store", "sqlite://"+filepath.Join(dir, "tf.db"), "--set", "artifacts="+filepath.Join(dir, "artifacts"),
		"--drain-timeout", "200ms")
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		if resp, err := http.Post(url+"/invocations", "text/csv", pr); err == nil {
			resp.Body.Close()
		}
	}()
	// 8 MB (under --max-body's 10 MiB) is more than loopback's socket
	// buffers hold, so the write returns only once the handler is reading
	// the body; it then waits for the rest.
	if _, err := pw.Write([]byte("state,account_length\n" + strings.Repeat("KS,128\n", 8<<20/7))); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 143 {
			t.Fatalf("serve with a request cut off at the drain timeout exited with %v; want exit status 143", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit within 10s of SIGTERM with a 200ms drain timeout")
	}
}
