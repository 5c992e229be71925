package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/formatversion"
)

// Encodable is a Fitted that can be saved inside a model file: Kind names
// its concrete type, and DecodeFitted(Kind(), MarshalJSON()) restores an
// equivalent Fitted.
type Encodable interface {
	Fitted
	Kind() string
	json.Marshaler
}

// Fitted kinds known to DecodeFitted.
const (
	KindDrop  = "drop"
	KindChain = "chain"
)

// DecodeFitted restores a Fitted saved as kind with state data (the output
// of its MarshalJSON). Unknown kinds and malformed state are errors.
func DecodeFitted(kind string, data []byte) (Fitted, error) {
	switch kind {
	case KindDrop:
		var d Drop
		if err := decodeStrict(data, &d); err != nil {
			return nil, fmt.Errorf("features: decode %s: %w", kind, err)
		}
		return d, nil
	case KindTemporal, KindMarket, KindInteraction:
		var f interface {
			Fitted
			json.Unmarshaler
		}
		switch kind {
		case KindTemporal:
			f = new(FittedTemporal)
		case KindMarket:
			f = new(FittedMarket)
		default:
			f = new(FittedInteraction)
		}
		if err := f.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("features: decode %s: %w", kind, err)
		}
		return f, nil
	case KindChain:
		var c FittedChain
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, fmt.Errorf("features: unknown fitted transformer kind %q (known: %s)", kind, strings.Join(Kinds(), ", "))
}

// Kinds returns the kinds DecodeFitted restores, sorted.
func Kinds() []string {
	return []string{KindChain, KindDrop, KindInteraction, KindMarket, KindTemporal}
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkVersion reads only the "version" field of a fitted state's JSON
// and checks it lies in min to max. It runs before the full (strict)
// decode, since a newer tabforge's encoding may add fields: those would
// otherwise read as a corrupt file rather than as one to upgrade for.
func checkVersion(data []byte, what string, min, max int) error {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return formatversion.Check(what, v.Version, min, max)
}

// Chain is a sequence of transformers applied in order. Chain.Fit fits
// each on the training frame as transformed by the fitted steps before it;
// a step that is a TrainTransformer passes on its own transformed training
// frame (out-of-fold statistics, say) instead of Fitted.Transform(train).
type Chain []Transformer

// Fit fits the steps of c in order and returns them fitted. It checks ctx
// between steps and never modifies c or train.
func (c Chain) Fit(ctx context.Context, train *frame.Frame) (FittedChain, error) {
	fc, _, err := c.fit(ctx, train, false)
	return fc, err
}

// FitTransform is Fit that also returns the training frame as transformed
// by every step: the frame a learner should train on. For steps that are
// TrainTransformers it may differ from the FittedChain's Transform(train).
func (c Chain) FitTransform(ctx context.Context, train *frame.Frame) (FittedChain, *frame.Frame, error) {
	return c.fit(ctx, train, true)
}

// fit fits the steps in order; the last step's transformed frame is
// computed only if last is set.
func (c Chain) fit(ctx context.Context, train *frame.Frame, last bool) (FittedChain, *frame.Frame, error) {
	out := make(FittedChain, 0, len(c))
	x := train
	for i, t := range c {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("features: chain step %d: %w", i, err)
		}
		if tt, ok := t.(TrainTransformer); ok {
			f, tx, err := tt.FitTransform(ctx, x)
			if err != nil {
				return nil, nil, fmt.Errorf("features: chain step %d: fit: %w", i, err)
			}
			out = append(out, f)
			x = tx
			continue
		}
		f, err := t.Fit(ctx, x)
		if err != nil {
			return nil, nil, fmt.Errorf("features: chain step %d: fit: %w", i, err)
		}
		out = append(out, f)
		if last || i < len(c)-1 {
			if x, err = f.Transform(x); err != nil {
				return nil, nil, fmt.Errorf("features: chain step %d: transform training frame: %w", i, err)
			}
		}
	}
	if !last {
		x = nil
	}
	return out, x, nil
}

// FittedChain applies fitted steps in order. An empty chain returns its
// input unchanged (frames are immutable). It is Encodable when every step
// is.
type FittedChain []Fitted

var _ Encodable = FittedChain(nil)

// Transform applies the steps of fc to x in order.
func (fc FittedChain) Transform(x *frame.Frame) (*frame.Frame, error) {
	for i, f := range fc {
		var err error
		if x, err = f.Transform(x); err != nil {
			return nil, fmt.Errorf("features: chain step %d: %w", i, err)
		}
	}
	return x, nil
}

// Kind returns KindChain.
func (fc FittedChain) Kind() string { return KindChain }

// stepJSON is one step of a FittedChain's JSON encoding: a JSON array of
// {"kind": "drop", "state": {...}} objects, state being the step's own
// MarshalJSON.
type stepJSON struct {
	Kind  string          `json:"kind"`
	State json.RawMessage `json:"state"`
}

// MarshalJSON implements json.Marshaler. Every step must be Encodable.
func (fc FittedChain) MarshalJSON() ([]byte, error) {
	steps := make([]stepJSON, len(fc))
	for i, f := range fc {
		e, ok := f.(Encodable)
		if !ok {
			return nil, fmt.Errorf("features: chain step %d: %T cannot be encoded", i, f)
		}
		state, err := e.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("features: chain step %d (%s): %w", i, e.Kind(), err)
		}
		steps[i] = stepJSON{Kind: e.Kind(), State: state}
	}
	return json.Marshal(steps)
}

// UnmarshalJSON implements json.Unmarshaler, decoding each step with
// DecodeFitted.
func (fc *FittedChain) UnmarshalJSON(data []byte) error {
	var steps []stepJSON
	if err := json.Unmarshal(data, &steps); err != nil {
		return fmt.Errorf("features: decode chain: %w", err)
	}
	out := make(FittedChain, len(steps))
	for i, s := range steps {
		f, err := DecodeFitted(s.Kind, s.State)
		if err != nil {
			return fmt.Errorf("features: decode chain step %d: %w", i, err)
		}
		out[i] = f
	}
	*fc = out
	return nil
}

// Drop removes the named columns; names absent from a frame are ignored.
// It learns nothing, so it is its own fitted form: both a Transformer and
// an Encodable Fitted.
type Drop struct {
	Columns []string `json:"columns"`
}

var (
	_ Transformer = Drop{}
	_ Encodable   = Drop{}
)

// Fit returns a copy of d.
func (d Drop) Fit(ctx context.Context, _ *frame.Frame) (Fitted, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("features: drop: %w", err)
	}
	return Drop{Columns: slices.Clone(d.Columns)}, nil
}

// Transform returns x without d's columns.
func (d Drop) Transform(x *frame.Frame) (*frame.Frame, error) {
	return x.Drop(d.Columns...), nil
}

// Kind returns KindDrop.
func (d Drop) Kind() string { return KindDrop }

// MarshalJSON implements json.Marshaler.
func (d Drop) MarshalJSON() ([]byte, error) {
	type plain Drop // without methods, so no recursion
	return json.Marshal(plain(d))
}
