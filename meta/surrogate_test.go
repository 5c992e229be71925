package meta

import (
	"context"
	"math"
	"testing"
)

// TestSurrogateRanksHeldOut leaves each dataset of the shipped knowledge
// base out in turn, fits each family's surrogate on the rest and ranks
// the left-out dataset's own configurations: the predicted order agrees
// with the true one (mean Spearman correlation above 0, a random order's
// expectation) and the top prediction ranks better than a random pick
// (the mean normalised rank, 0.5).
func TestSurrogateRanksHeldOut(t *testing.T) {
	ctx := context.Background()
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	kb := &KB{Records: s.Records()}
	all, err := kb.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evals, err := kb.allEvals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range []string{"gbdt", "forest"} {
		var rho, top, random float64
		n := 0
		for i, d := range all {
			if i%3 != 0 { // a third of them keeps the test short
				continue
			}
			own := familyEvals(evals[d.Key], fam)
			if len(own) < 3 {
				continue
			}
			rest := append(append([]*Dataset(nil), all[:i]...), all[i+1:]...)
			sur, err := FitSurrogate(ctx, fam, rest, evals)
			if err != nil || sur == nil {
				t.Fatalf("%s surrogate without %s: %v, %v", fam, d.Name, sur, err)
			}
			params := make([]map[string]any, len(own))
			for k, e := range own {
				params[k] = e.Params
			}
			pred, err := sur.Predict(d.Features, params)
			if err != nil {
				t.Fatal(err)
			}
			truth := normalisedRanks(own, d.HigherIsBetter)
			rho += spearman(pred, truth)
			best := 0
			for k := range pred {
				if pred[k] > pred[best] {
					best = k
				}
			}
			top += truth[best]
			for _, v := range truth {
				random += v / float64(len(truth))
			}
			n++
		}
		if n < 20 {
			t.Fatalf("%s: %d held-out datasets; want at least 20", fam, n)
		}
		rho, top, random = rho/float64(n), top/float64(n), random/float64(n)
		t.Logf("%s over %d held-out datasets: mean Spearman %.3f, top pick's mean normalised rank %.3f (random %.3f)", fam, n, rho, top, random)
		if !(rho > 0) || !(top > random) {
			t.Errorf("%s surrogate ranks no better than random: Spearman %.3f, top %.3f vs %.3f", fam, rho, top, random)
		}
	}
}

// spearman is the rank correlation of a and b (Pearson's r of their
// ranks), 0 when either is constant.
func spearman(a, b []float64) float64 {
	ra, rb := ranksOf(a), ranksOf(b)
	var ma, mb float64
	for i := range ra {
		ma, mb = ma+ra[i]/float64(len(ra)), mb+rb[i]/float64(len(rb))
	}
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

func ranksOf(v []float64) []float64 {
	es := make([]*Eval, len(v))
	for i, x := range v {
		es[i] = &Eval{Score: x}
	}
	return normalisedRanks(es, true)
}

// TestSurrogateCache fits once per state of the knowledge base: the same
// data gives the cached surrogate, one more evaluation a new one, and too
// few datasets none.
func TestSurrogateCache(t *testing.T) {
	ctx := context.Background()
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	kb := &KB{Records: s.Records()}
	all, _ := kb.Datasets(ctx)
	evals, err := kb.allEvals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := NewSurrogateCache()
	a, err := c.Get(ctx, "gbdt", all, evals)
	if err != nil || a == nil {
		t.Fatalf("Get = %v, %v", a, err)
	}
	b, _ := c.Get(ctx, "gbdt", all, evals)
	if a != b {
		t.Error("the same knowledge base fitted a second surrogate")
	}
	d := all[0]
	grown := map[string][]*Eval{}
	for k, v := range evals {
		grown[k] = v
	}
	extra := *familyEvals(evals[d.Key], "gbdt")[0]
	extra.ID, extra.Params = "grown", map[string]any{"learning_rate": 0.11, "max_depth": 3}
	grown[d.Key] = append(append([]*Eval(nil), evals[d.Key]...), &extra)
	g, err := c.Get(ctx, "gbdt", all, grown)
	if err != nil || g == nil || g == a || g.Key == a.Key || g.Rows != a.Rows+1 {
		t.Errorf("after one more evaluation: %+v (was %+v)", g, a)
	}
	few, err := c.Get(ctx, "gbdt", all[:surrogateMinDatasets-1], evals)
	if err != nil || few != nil {
		t.Errorf("with %d datasets: %v, %v; want no surrogate", surrogateMinDatasets-1, few, err)
	}
}
