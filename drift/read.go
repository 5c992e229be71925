package drift

import (
	"fmt"

	"github.com/tabforge/tabforge/frame"
)

// ReadFiles reads a reference and a current data file (CSV or Parquet)
// for Compare: the current file's columns are read with the kinds
// inferred for the reference, so that a small batch whose column looks
// different (digits in a categorical column, say) still compares. A
// current value that does not parse as its reference kind is an error
// naming the column.
func ReadFiles(reference, current string, opts frame.ReadOptions) (ref, cur *frame.Frame, err error) {
	ref, err = frame.ReadFile(reference, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("reference data: %w", err)
	}
	opts.Schema, opts.SchemaOptional = ref.KindMap(), true
	cur, err = frame.ReadFile(current, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("current data (read with the reference's column kinds): %w", err)
	}
	return ref, cur, nil
}
