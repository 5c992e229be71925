package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Kind is the type of a parameter's distribution.
type Kind string

// Distribution kinds.
const (
	Float       Kind = "float"
	Int         Kind = "int"
	Categorical Kind = "categorical"
)

// Distribution is the range a parameter is drawn from. Samplers and
// storages see parameter values in their internal form: the value itself
// for Float and Int, the index into Choices for Categorical.
type Distribution struct {
	Kind Kind `json:"kind"`
	// Low and High bound Float and Int values, inclusive.
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
	// Log samples Float and Int values uniformly in log space; Low must
	// then be > 0.
	Log bool `json:"log,omitempty"`
	// Choices are the values of a Categorical parameter.
	Choices []string `json:"choices,omitempty"`
}

// FloatDist returns a Float distribution on [lo, hi].
func FloatDist(lo, hi float64, log bool) Distribution {
	return Distribution{Kind: Float, Low: lo, High: hi, Log: log}
}

// IntDist returns an Int distribution on [lo, hi].
func IntDist(lo, hi int, log bool) Distribution {
	return Distribution{Kind: Int, Low: float64(lo), High: float64(hi), Log: log}
}

// CategoricalDist returns a Categorical distribution over choices.
func CategoricalDist(choices ...string) Distribution {
	return Distribution{Kind: Categorical, Choices: slices.Clone(choices)}
}

// Validate reports whether d is well formed.
func (d Distribution) Validate() error {
	switch d.Kind {
	case Float, Int:
		switch {
		case math.IsNaN(d.Low) || math.IsNaN(d.High) || math.IsInf(d.Low, 0) || math.IsInf(d.High, 0):
			return fmt.Errorf("tune: %s range [%v, %v] is not finite", d.Kind, d.Low, d.High)
		case d.Low > d.High:
			return fmt.Errorf("tune: %s range [%v, %v] has low > high", d.Kind, d.Low, d.High)
		case d.Log && d.Low <= 0:
			return fmt.Errorf("tune: log %s range [%v, %v] needs low > 0", d.Kind, d.Low, d.High)
		case d.Kind == Int && (d.Low != math.Trunc(d.Low) || d.High != math.Trunc(d.High)):
			return fmt.Errorf("tune: int range [%v, %v] has non-integer bounds", d.Low, d.High)
		}
		return nil
	case Categorical:
		if len(d.Choices) == 0 {
			return fmt.Errorf("tune: categorical distribution has no choices")
		}
		return nil
	}
	return fmt.Errorf("tune: unknown distribution kind %q", d.Kind)
}

// Equal reports whether d and e describe the same distribution.
func (d Distribution) Equal(e Distribution) bool {
	return d.Kind == e.Kind && d.Low == e.Low && d.High == e.High && d.Log == e.Log && slices.Equal(d.Choices, e.Choices)
}

// Contains reports whether the internal value v lies in d.
func (d Distribution) Contains(v float64) bool {
	switch d.Kind {
	case Float:
		return v >= d.Low && v <= d.High
	case Int:
		return v >= d.Low && v <= d.High && v == math.Trunc(v)
	case Categorical:
		// Compared as floats: int(+Inf) is negative, so +Inf passed.
		return v >= 0 && v < float64(len(d.Choices)) && v == math.Trunc(v)
	}
	return false
}

// span describes the internal values d contains, for errors.
func (d Distribution) span() string {
	if d.Kind == Categorical {
		return fmt.Sprintf("categorical indices 0 to %d (%q)", len(d.Choices)-1, d.Choices)
	}
	return fmt.Sprintf("%s range [%v, %v]", d.Kind, d.Low, d.High)
}

// Single reports whether d has exactly one value.
func (d Distribution) Single() bool {
	if d.Kind == Categorical {
		return len(d.Choices) == 1
	}
	return d.Low == d.High
}

// External returns the value the objective sees for internal value v: a
// float64, an int, or a string. A categorical v that is no index of d's
// choices (a record damaged in the store; Enqueue and Import refuse one)
// is returned as the float64 it is, for pages and logs to show.
func (d Distribution) External(v float64) any {
	switch d.Kind {
	case Int:
		return int(v)
	case Categorical:
		if v >= 0 && v < float64(len(d.Choices)) && v == math.Trunc(v) {
			return d.Choices[int(v)]
		}
	}
	return v
}

// Internal converts an external value (a number, or a choice string) to
// d's internal form; ok is false if d does not contain it.
func (d Distribution) Internal(x any) (v float64, ok bool) {
	switch d.Kind {
	case Float, Int:
		switch n := x.(type) {
		case float64:
			v = n
		case int:
			v = float64(n)
		case int64:
			v = float64(n)
		default:
			return 0, false
		}
	case Categorical:
		s, isString := x.(string)
		if !isString {
			return 0, false
		}
		i := slices.Index(d.Choices, s)
		if i < 0 {
			return 0, false
		}
		v = float64(i)
	}
	return v, d.Contains(v)
}

// sample draws an internal value uniformly (log-uniformly for Log).
func (d Distribution) sample(rng *rand.Rand) float64 {
	switch d.Kind {
	case Categorical:
		return float64(rng.IntN(len(d.Choices)))
	case Int:
		if d.Log {
			lo, hi := math.Log(d.Low-0.5), math.Log(d.High+0.5)
			if d.Low-0.5 <= 0 {
				lo = math.Log(d.Low)
			}
			return d.clip(math.Round(math.Exp(lo + rng.Float64()*(hi-lo))))
		}
		return d.Low + float64(rng.Int64N(int64(d.High-d.Low)+1))
	}
	if d.Log {
		lo, hi := math.Log(d.Low), math.Log(d.High)
		return d.clip(math.Exp(lo + rng.Float64()*(hi-lo)))
	}
	return d.clip(d.Low + rng.Float64()*(d.High-d.Low))
}

// clip clamps a numeric internal value into [Low, High].
func (d Distribution) clip(v float64) float64 { return math.Min(d.High, math.Max(d.Low, v)) }
