package features

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// renamed is a Fitted that cannot be encoded (no Kind), to test that
// FittedChain refuses to encode it.
type renamed struct{ from, to string }

func (r renamed) Transform(x *frame.Frame) (*frame.Frame, error) {
	c, ok := x.Lookup(r.from)
	if !ok {
		return nil, &MissingColumnError{Column: r.from}
	}
	cc := *c
	cc.Name = r.to
	return x.Drop(r.from).With(&cc)
}

func (r renamed) Fit(context.Context, *frame.Frame) (Fitted, error) { return r, nil }

func chainFrame() *frame.Frame {
	return frame.MustNew(
		frame.NewNumeric("a", []float64{1, 2}),
		frame.NewNumeric("b", []float64{3, 4}),
		frame.NewCategoricalFromStrings("c", []string{"x", "y"}),
	)
}

func TestChain(t *testing.T) {
	f := chainFrame()
	tests := []struct {
		name  string
		chain Chain
		want  []string // columns after Transform
	}{
		{"empty", Chain{}, []string{"a", "b", "c"}},
		{"one", Chain{Drop{Columns: []string{"a"}}}, []string{"b", "c"}},
		{"in order", Chain{renamed{"a", "z"}, Drop{Columns: []string{"z", "absent"}}}, []string{"b", "c"}},
		{"rename replaces", Chain{Drop{Columns: []string{"b"}}, renamed{"c", "a"}}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := tt.chain.Fit(context.Background(), f)
			if err != nil {
				t.Fatalf("Fit: %v", err)
			}
			out, err := fc.Transform(f)
			if err != nil {
				t.Fatalf("Transform: %v", err)
			}
			if got := out.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("Transform columns = %q; want %q", got, tt.want)
			}
			if got := f.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Errorf("input modified: columns %q", got)
			}
		})
	}
}

func TestFittedChainJSON(t *testing.T) {
	f := chainFrame()
	inner, err := Chain{Drop{Columns: []string{"b"}}}.Fit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	fc := FittedChain{Drop{Columns: []string{"a"}}, inner}
	data, err := json.Marshal(fc)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	const want = `[{"kind":"drop","state":{"columns":["a"]}},{"kind":"chain","state":[{"kind":"drop","state":{"columns":["b"]}}]}]`
	if string(data) != want {
		t.Errorf("Marshal = %s; want %s", data, want)
	}
	var back FittedChain
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	out, err := back.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Names(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("decoded chain gives columns %q; want [c]", got)
	}

	if _, err := json.Marshal(FittedChain{renamed{"a", "b"}}); err == nil || !strings.Contains(err.Error(), "cannot be encoded") {
		t.Errorf("Marshal of a non-Encodable step: error %v; want cannot be encoded", err)
	}
}

func TestDecodeFittedErrors(t *testing.T) {
	tests := []struct{ kind, data string }{
		{"nope", `{}`},
		{KindDrop, `{"columns":["a"],"extra":1}`},
		{KindDrop, `{"columns":"a"}`},
		{KindChain, `[{"kind":"nope","state":{}}]`},
		{KindChain, `{}`},
	}
	for _, tt := range tests {
		if f, err := DecodeFitted(tt.kind, []byte(tt.data)); err == nil {
			t.Errorf("DecodeFitted(%q, %s) = %v; want error", tt.kind, tt.data, f)
		}
	}
}

func TestChainErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Chain{Drop{}}).Fit(ctx, chainFrame()); !errors.Is(err, context.Canceled) {
		t.Errorf("Fit with cancelled ctx: error %v; want context.Canceled", err)
	}
	// A step failing on the training frame names the step.
	_, err := Chain{renamed{"absent", "x"}, Drop{}}.Fit(context.Background(), chainFrame())
	var mce *MissingColumnError
	if !errors.As(err, &mce) || !strings.Contains(err.Error(), "step 0") {
		t.Errorf("Fit error %v; want step 0 and *MissingColumnError", err)
	}
}
