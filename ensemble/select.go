package ensemble

import (
	"errors"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
)

// Select chooses voting weights by greedy ensemble selection with
// replacement (Caruana, Niculescu-Mizil, Crew and Ksikes, 2004): starting
// from an empty ensemble, each of rounds steps adds the member whose
// addition most lowers the loss of the averaged out-of-fold predictions
// (ties go to the lower index), and a member's weight is the share of
// steps that picked it. The loss is the mean squared error for regression
// and the log loss for classification. oof[i] holds member i's
// out-of-fold predictions (NumOutputs per row) for targets y. rounds 0
// means 50. The weights sum to 1 and can be passed to Voting.
//
// Each round costs O(members × rows × outputs).
func Select(oof [][]float64, y []float64, task model.Task, rounds int) ([]float64, error) {
	if len(oof) == 0 {
		return nil, errors.New("ensemble: select: no members")
	}
	n := len(y)
	if n == 0 {
		return nil, errors.New("ensemble: select: no rows")
	}
	if rounds < 0 {
		return nil, fmt.Errorf("ensemble: select: rounds = %d; want >= 0", rounds)
	}
	if rounds == 0 {
		rounds = 50
	}
	k := len(oof[0]) / n
	for i, p := range oof {
		if k == 0 || len(p) != n*k {
			return nil, fmt.Errorf("ensemble: select: member %d has %d values for %d rows", i, len(p), n)
		}
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("ensemble: select: member %d value %d is %v", i, j, v)
			}
		}
	}
	loss, err := lossFunc(task, y, k)
	if err != nil {
		return nil, err
	}
	sum := make([]float64, n*k)
	cand := make([]float64, n*k)
	counts := make([]int, len(oof))
	for r := range rounds {
		best, bestLoss := -1, math.Inf(1)
		for i, p := range oof {
			inv := 1 / float64(r+1)
			for j := range cand {
				cand[j] = (sum[j] + p[j]) * inv
			}
			if l := loss(cand); l < bestLoss || best < 0 {
				best, bestLoss = i, l
			}
		}
		counts[best]++
		for j, v := range oof[best] {
			sum[j] += v
		}
	}
	w := make([]float64, len(oof))
	for i, c := range counts {
		w[i] = float64(c) / float64(rounds)
	}
	return w, nil
}

// lossFunc returns the selection loss of averaged predictions p for y.
func lossFunc(task model.Task, y []float64, k int) (func(p []float64) float64, error) {
	const eps = 1e-15
	switch {
	case task == model.Regression:
		if k != 1 {
			return nil, fmt.Errorf("ensemble: select: regression members have %d outputs, want 1", k)
		}
		return func(p []float64) float64 {
			s := 0.0
			for i, v := range p {
				d := v - y[i]
				s += d * d
			}
			return s / float64(len(y))
		}, nil
	case task == model.Binary && k == 1:
		return func(p []float64) float64 {
			s := 0.0
			for i, v := range p {
				v = math.Min(1-eps, math.Max(eps, v))
				if y[i] == 1 {
					s -= math.Log(v)
				} else {
					s -= math.Log(1 - v)
				}
			}
			return s / float64(len(y))
		}, nil
	case task.IsClassification():
		for i, c := range y {
			if c < 0 || int(c) >= k || c != math.Trunc(c) {
				return nil, fmt.Errorf("ensemble: select: row %d has class %v, want 0..%d", i, c, k-1)
			}
		}
		return func(p []float64) float64 {
			s := 0.0
			for i, c := range y {
				s -= math.Log(math.Max(eps, p[i*k+int(c)]))
			}
			return s / float64(len(y))
		}, nil
	}
	return nil, fmt.Errorf("ensemble: select: unknown task %q", task)
}
