// Package unitrec holds an executor for tests that runs units in process
// and keeps them, so a test can look at the units a driver sent and run
// them again as a worker would.
package unitrec

import (
	"context"

	"github.com/tabforge/tabforge/pipeline"
)

// Recorder is a pipeline.Local executor that keeps the units it ran, in
// the order they were submitted.
type Recorder struct {
	pipeline.Local
	Units []pipeline.Unit
}

// Execute implements pipeline.Executor.
func (r *Recorder) Execute(ctx context.Context, units []pipeline.Unit, done func(int, pipeline.UnitResult) error) error {
	r.Units = append(r.Units, units...)
	return r.Local.Execute(ctx, units, done)
}
