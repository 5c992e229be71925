//go:build !unix

package cputime

import "time"

// Used is not available here: callers fall back to wall time.
func Used() (time.Duration, bool) { return 0, false }
