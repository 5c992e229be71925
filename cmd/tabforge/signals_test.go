package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalStops runs a child process that, like a command stuck
// in a long step, ignores the cancellation of its interrupt context: the
// first SIGTERM cancels the context, the second must end the process.
func TestSecondSignalStops(t *testing.T) {
	if os.Getenv("TABFORGE_TEST_SIGNAL_CHILD") != "" {
		ctx, stop := interruptContext()
		defer stop()
		os.Stdout.WriteString("ready\n")
		<-ctx.Done()
		if s, ok := interruptedBy(ctx); ok {
			os.Stdout.WriteString("first " + s.String() + "\n")
		}
		time.Sleep(time.Hour) // a step that does not look at ctx
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalStops$")
	cmd.Env = append(os.Environ(), "TABFORGE_TEST_SIGNAL_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			t.Fatalf("child said %q, want %q (%v)", lines.Text(), want, lines.Err())
		}
	}
	expect("ready")
	cmd.Process.Signal(syscall.SIGTERM)
	expect("first terminated")
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Fatalf("child ended with %v, want killed by the second SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second SIGTERM was swallowed: the child still runs 10 s later")
	}
}

// TestInterruptLogged: a signal is logged in the command's log format,
// saying how to stop at once; an ordinary end of the command logs nothing.
func TestInterruptLogged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cause error
		want  string
	}{
		{"signal", signalError{syscall.SIGINT}, `"msg":"stopping cleanly; send the signal again to stop at once","signal":"interrupt"`},
		{"done", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			a := &app{stderr: &buf, logFormat: "json", logLevel: "info"}
			ctx, cancel := context.WithCancelCause(context.Background())
			a.sayWhenInterrupted(ctx)
			cancel(tc.cause)
			deadline := time.Now().Add(5 * time.Second)
			for tc.want != "" && !strings.Contains(buf.String(), tc.want) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if tc.want == "" {
				time.Sleep(50 * time.Millisecond)
			}
			if got := buf.String(); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("log %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPredictSignalExitCode runs the built binary's predict on a large
// input and signals it once it is writing: it must exit 128+signal (130
// for Ctrl-C, 143 for SIGTERM), as shells report a command a signal
// stopped, and leave neither --out nor its temporary file.
func TestPredictSignalExitCode(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, t.TempDir())
	m := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic").ModelPath
	big := filepath.Join(dir, "big.csv")
	writeRepeated(t, big, testdata("credit_data.csv"), 100) // 445,400 rows: ~0.5 s to predict, 100 times the poll below
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			outDir := t.TempDir()
			out := filepath.Join(outDir, "p.csv")
			cmd := exec.Command(bin, "predict", "--model", m, "--data", big, "--out", out,
				"--store", "sqlite://"+filepath.Join(dir, "tf.db"))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// The temporary output appears once predict streams rows, long
			// after main set up its signal handling.
			deadline := time.Now().Add(time.Minute)
			for left, _ := os.ReadDir(outDir); len(left) == 0; left, _ = os.ReadDir(outDir) {
				if time.Now().After(deadline) {
					t.Fatalf("predict wrote nothing to %s in a minute (stderr %q)", outDir, stderr.String())
				}
				time.Sleep(5 * time.Millisecond) // polling a directory; nothing to wait on
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code != tc.code || !strings.Contains(stderr.String(), "interrupted; "+out+" not written") {
				t.Errorf("predict after %v: exit %d (%v), stderr %q; want %d and the interrupt", tc.sig, code, err, stderr.String(), tc.code)
			}
			if left, _ := os.ReadDir(outDir); len(left) != 0 {
				t.Errorf("interrupted predict left %s in %s", left[0].Name(), outDir)
			}
		})
	}
}

// writeRepeated writes path as src's header and its rows n times over.
func writeRepeated(t *testing.T, path, src string, n int) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	header, rows, _ := strings.Cut(string(raw), "\n")
	if !strings.HasSuffix(rows, "\n") {
		rows += "\n"
	}
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Repeat(rows, n)), 0o644); err != nil {
		t.Fatal(err)
	}
}
