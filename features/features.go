// Package features owns the transformations that turn a raw frame.Frame
// into the numeric design a learner trains on: imputers, encoders and
// scalers; calendar, lag and rolling features of panel data (Temporal);
// per-segment aggregates and out-of-fold target encodings (Market); and
// products, ratios and crosses of important columns (Interaction).
// Every Transformer is fitted on the training rows of the current split or
// fold only; the Fitted result applies the same mapping to any frame and
// never reads the target of the rows it transforms. A TrainTransformer
// also returns its training frame transformed out of fold; use
// Chain.FitTransform to get the frame a learner should train on.
//
// The last step is a Design (FitDesign): median imputation, standard
// scaling, one-hot or ordinal category codes and datetime expansion, set
// by a DesignSpec derived from a model family's model.Input, turning any
// frame with the training columns into a model.Matrix. Its defaults
// reproduce the preprocessing of the scikit-learn peers in
// shared/anchors/baselines.py. Frame-to-frame steps compose in a Chain;
// fitted steps are saved as JSON by kind and restored with DecodeFitted.
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

// A TrainTransformer fits on the training frame and returns, besides the
// fitted transformer for new rows, the transformed training frame, which
// may differ from Fitted.Transform(train): out-of-fold target statistics,
// for example, so that a training row's features never encode its own
// target. Chain.FitTransform and Chain.Fit use FitTransform when a step
// implements it.
type TrainTransformer interface {
	FitTransform(ctx context.Context, train *frame.Frame) (Fitted, *frame.Frame, error)
}

// Fitted applies a fitted transformation. Transform returns a new frame
// and leaves x untouched; it is safe for concurrent use.
type Fitted interface {
	Transform(x *frame.Frame) (*frame.Frame, error)
}
