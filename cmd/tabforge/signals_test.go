package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
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
