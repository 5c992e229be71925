package tune

import (
	"context"
	"math"
	"strings"
	"testing"
)

// FuzzEnqueue enqueues a trial (a warm start, or a retry read back from
// a store) holding one parameter's value and distribution, then asks for
// it and has the objective suggest that parameter: Enqueue refuses what
// cannot be a value of its distribution, and nothing panics; a trial
// that suggests without an error gets a value inside the distribution.
func FuzzEnqueue(f *testing.F) {
	f.Add(uint8(2), 0.0, 0.0, false, "a,b,c", 5.0)
	f.Add(uint8(2), 0.0, 0.0, false, "a,b", 1.5)
	f.Add(uint8(2), 0.0, 0.0, false, "a", -1.0)
	f.Add(uint8(1), 1.0, 10.0, true, "", 11.0)
	f.Add(uint8(1), 1.0, 10.0, false, "", 2.5)
	f.Add(uint8(0), 0.0, 1.0, false, "", math.NaN())
	f.Add(uint8(0), 1e-3, 1.0, true, "", 0.5)
	f.Add(uint8(1), -5.0, 5.0, false, "", math.Inf(1))
	f.Fuzz(func(t *testing.T, kind uint8, lo, hi float64, log bool, choices string, v float64) {
		d := Distribution{Kind: []Kind{Float, Int, Categorical}[int(kind)%3], Low: lo, High: hi, Log: log}
		if d.Kind == Categorical {
			d = CategoricalDist(strings.Split(choices, ",")...)
		}
		ctx := context.Background()
		valid := d.Validate() == nil && d.Contains(v)
		s, err := NewStudy(ctx, "s", Config{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Enqueue(ctx, map[string]float64{"p": v}, map[string]Distribution{"p": d})
		if err == nil && !valid {
			t.Fatalf("Enqueue took value %v of %+v", v, d)
		}
		if d.Validate() != nil {
			return
		}
		if err != nil {
			// A retry read back from a store is not checked by Enqueue.
			retry := FrozenTrial{State: Waiting, Params: map[string]float64{"p": v}, Distributions: map[string]Distribution{"p": d}, RetryOf: 0}
			if _, _, err := s.storage.CreateTrial(ctx, s.id, retry); err != nil {
				t.Fatal(err)
			}
		}
		checkSuggest(t, s, d, v, valid)
	})
}

// checkSuggest asks s for its waiting trial, which holds value v of
// parameter p, and suggests p from d: a value inside d, v itself when
// it is one.
func checkSuggest(t *testing.T, s *Study, d Distribution, v float64, valid bool) {
	tr, err := s.Ask(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	switch d.Kind {
	case Float:
		got = tr.SuggestFloat("p", d.Low, d.High, d.Log)
	case Int:
		got = float64(tr.SuggestInt("p", int(d.Low), int(d.High), d.Log))
	default:
		// Choices may repeat: compare the choice, not its index.
		c := tr.SuggestCategorical("p", d.Choices)
		got = float64(indexOf(d.Choices, c))
		if valid && c == d.Choices[int(v)] {
			got = v
		}
	}
	if !d.Contains(got) || valid && got != v {
		t.Fatalf("waiting trial with %v of %+v suggested %v (trial error %v)", v, d, got, tr.Err())
	}
}

func indexOf(choices []string, c string) int {
	for i, x := range choices {
		if x == c {
			return i
		}
	}
	return -1
}
