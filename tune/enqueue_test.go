package tune

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestEnqueueOutOfRange: a parameter value outside its distribution is
// refused by Enqueue. It used to be accepted and handed to the objective
// as is: SuggestFloat(x, 0, 1) returned 10, and a categorical index past
// the choices panicked in SuggestCategorical.
func TestEnqueueOutOfRange(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		v    float64
		d    Distribution
	}{
		{"float above", 10, FloatDist(0, 1, false)},
		{"float below", -0.5, FloatDist(0, 1, false)},
		{"log float below", 0.001, FloatDist(0.01, 1, true)},
		{"int not whole", 2.5, IntDist(1, 9, false)},
		{"int above", 12, IntDist(1, 9, false)},
		{"categorical past the choices", 7, CategoricalDist("a", "b")},
		{"categorical negative", -1, CategoricalDist("a", "b")},
		{"NaN", math.NaN(), FloatDist(0, 1, false)},
		{"categorical +Inf", math.Inf(1), CategoricalDist("a")}, // Contains took it: int(+Inf) < 1
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStudy(ctx, "s", Config{})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Enqueue(ctx, map[string]float64{"p": tc.v}, map[string]Distribution{"p": tc.d})
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), `parameter "p"`) {
				t.Fatalf("Enqueue(p = %v in %+v) = %v; want an error naming p", tc.v, tc.d, err)
			}
			if trials, _ := s.Trials(ctx); len(trials) != 0 {
				t.Errorf("the refused trial was stored: %+v", trials)
			}
		})
	}
}

// TestStoredValueOutOfRange: a waiting trial whose stored value lies
// outside its distribution (written to the storage by something other
// than Enqueue) fails its trial with an error instead of reaching the
// objective or panicking.
func TestStoredValueOutOfRange(t *testing.T) {
	ctx := context.Background()
	mem := &Memory{}
	s, err := NewStudy(ctx, "s", Config{Storage: mem})
	if err != nil {
		t.Fatal(err)
	}
	id, err := mem.CreateStudy(ctx, "s", Minimize)
	if err != nil {
		t.Fatal(err)
	}
	bad := FrozenTrial{State: Waiting, RetryOf: -1, Params: map[string]float64{"c": 7}, Distributions: map[string]Distribution{"c": CategoricalDist("a", "b")}}
	if _, _, err := mem.CreateTrial(ctx, id, bad); err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = s.Optimize(ctx, func(_ context.Context, tr *Trial) (float64, error) {
		got = append(got, tr.SuggestCategorical("c", []string{"a", "b"}))
		return 1, tr.Err()
	}, Budget{MaxTrials: 1})
	if err == nil || !strings.Contains(err.Error(), "stored value 7") {
		t.Errorf("Optimize = %v; want the trial failed for its stored value", err)
	}
	if len(got) != 1 || got[0] != "a" {
		t.Errorf("objective saw %q; want the first choice in place of the bad value", got)
	}
}

// TestExternalOutsideChoices: a damaged record's categorical index past
// the choices reads back as the number it is; it indexed past the
// choices and crashed the dashboard's study page.
func TestExternalOutsideChoices(t *testing.T) {
	d := CategoricalDist("a", "b")
	for _, v := range []float64{2, -1, 0.5, math.Inf(1)} {
		if got := d.External(v); got != v {
			t.Errorf("External(%v) = %v; want the number back", v, got)
		}
	}
	if nan := d.External(math.NaN()).(float64); !math.IsNaN(nan) {
		t.Errorf("External(NaN) = %v", nan)
	}
	if got := d.External(1); got != "b" {
		t.Errorf("External(1) = %v; want b", got)
	}
}
