//go:build unix

// Package cputime reads the CPU time (user and system) this process has
// used. Unlike wall time it measures a piece of work independently of
// other processes' load, which is what budgets and benchmarks on a shared
// machine need.
package cputime

import (
	"syscall"
	"time"
)

// Used returns the CPU time the process has used, and true; false where
// the system does not report it.
func Used() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
