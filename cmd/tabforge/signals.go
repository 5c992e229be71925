package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// signalError is the cancellation cause of interruptContext's context
// when a signal ended it.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "received " + e.sig.String() }

// interruptContext returns a context cancelled by the first SIGINT or
// SIGTERM, with a signalError as its cause. The command then winds down
// (serve drains its requests, train records what it finished), which can
// take a while inside a long step; a second signal must not be swallowed
// meanwhile, so after the first the default action is restored and the
// next one ends the process at once, as docker compose and kubectl do.
// stop releases the signals.
func interruptContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(signalError{s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interruptedBy returns the signal that cancelled ctx, if one did.
func interruptedBy(ctx context.Context) (os.Signal, bool) {
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		return se.sig, true
	}
	return nil, false
}

// sayWhenInterrupted logs, in the command's log format, that a signal
// arrived and that a second one stops at once: a long step can keep a
// command winding down for a while, and the user should know both that
// it heard them and how to force it.
func (a *app) sayWhenInterrupted(ctx context.Context) {
	log, err := a.logger()
	if err != nil {
		return // the command reports the bad flag itself
	}
	go func() {
		<-ctx.Done()
		if s, ok := interruptedBy(ctx); ok {
			log.Warn("stopping cleanly; send the signal again to stop at once", "signal", s.String())
		}
	}()
}
