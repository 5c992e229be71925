//go:build !unix

package pipeline

import "time"

// cpuTime is not available here: callers fall back to wall time.
func cpuTime() (time.Duration, bool) { return 0, false }
