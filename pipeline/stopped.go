package pipeline

import "fmt"

// StoppedError reports a recorded run stopped from outside before it
// finished (Ctrl-C or SIGTERM in the CLI, a caller's deadline): nothing
// of its own failed, and Options.Resume continues it. Err is what the
// stages returned (the context's error), Cause what stopped them
// (context.Cause).
type StoppedError struct {
	RunID string
	Cause error
	Err   error
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("run %s stopped (%v); resume it with train --resume %s", e.RunID, e.Cause, e.RunID)
}

func (e *StoppedError) Unwrap() error { return e.Err }
