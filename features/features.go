// Package features owns the transformations that turn a raw frame.Frame
// into the numeric design a learner trains on: imputers, encoders and
// scalers now; temporal, market/segment and interaction features later.
// Every Transformer is fitted on the training rows of the current split or
// fold only; the Fitted result applies the same mapping to any frame.
package features

import (
	"context"

	"github.com/tabforge/tabforge/frame"
)

// Transformer holds a transformation's settings; Fit learns its state
// from training rows and never modifies the Transformer.
type Transformer interface {
	Fit(ctx context.Context, train *frame.Frame) (Fitted, error)
}

// Fitted applies a fitted transformation. Transform returns a new frame
// and leaves x untouched; it is safe for concurrent use.
type Fitted interface {
	Transform(x *frame.Frame) (*frame.Frame, error)
}
