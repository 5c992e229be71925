package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// naiveEvaluate is evaluate without sharing rows: every (coalition,
// background row) pair predicted on its own, the means summed in the
// same order. It is the reference evaluate must equal bit for bit.
func naiveEvaluate(t *testing.T, k *kernelRow, vary []int, coals []coalition) []float64 {
	nb, p := k.bg.X.Rows, len(k.x)
	out := make([]float64, len(coals)*k.outputs)
	mat := model.NewMatrix(nb, p)
	pred := make([]float64, nb*k.outputs)
	for c, co := range coals {
		copy(mat.Data, k.bg.X.Data)
		for i, j := range vary {
			if co.mask[i] {
				for r := range nb {
					mat.Data[r*p+j] = k.x[j]
				}
			}
		}
		if err := k.f(pred, mat); err != nil {
			t.Fatal(err)
		}
		for r := range nb {
			w := k.bg.weight(r) / k.wsum
			for o := range k.outputs {
				out[c*k.outputs+o] += w * pred[r*k.outputs+o]
			}
		}
	}
	return out
}

// TestKernelEvaluateSharesRows checks that evaluate predicts each
// distinct synthetic row once and still returns exactly the naive
// values. The background takes few values (so it often agrees with x),
// holds -0 where x has 0 and NaN where x has NaN, and f tells -0 from 0,
// so merging rows that only compare equal would show.
func TestKernelEvaluateSharesRows(t *testing.T) {
	const p, nb = 9, 12
	rng := rand.New(rand.NewPCG(3, 4))
	bg := model.NewMatrix(nb, p)
	for i := range bg.Data {
		bg.Data[i] = float64(rng.IntN(3))
	}
	x := make([]float64, p)
	for j := range x {
		x[j] = float64(rng.IntN(3))
	}
	x[0], x[1] = 0, math.NaN()
	for r := range nb {
		if r%2 == 0 {
			bg.Data[r*p] = math.Copysign(0, -1)
		}
		if r%3 == 0 {
			bg.Data[r*p+1] = math.NaN()
		}
	}
	var mu sync.Mutex
	var seen []string // every row f was given, as bits
	f := func(dst []float64, m *model.Matrix) error {
		mu.Lock()
		defer mu.Unlock()
		for r := range m.Rows {
			row := m.Row(r)
			seen = append(seen, maskKeyBits(row))
			s := 0.0
			for j, v := range row {
				if v == v {
					s += math.Sin(float64(j+1) * v)
				}
			}
			if math.Signbit(row[0]) {
				s += 10
			}
			dst[2*r], dst[2*r+1] = s*s, math.Exp(-s)
		}
		return nil
	}
	weights := make([]float64, nb)
	for i := range weights {
		weights[i] = float64(1 + i%4)
	}
	k := &kernelRow{f: f, outputs: 2, bg: &Background{X: bg, Weights: weights}, wsum: 30, x: x, rng: rand.New(rand.NewPCG(1, 0))}
	vary := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	coals, _ := k.coalitions(len(vary), 300)
	got, err := k.evaluate(context.Background(), vary, coals)
	if err != nil {
		t.Fatal(err)
	}
	predicted := len(seen)
	want := naiveEvaluate(t, k, vary, coals)
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("v(S) value %d = %v; want %v (predicting each row on its own)", i, got[i], want[i])
		}
	}
	distinct := map[string]bool{}
	for _, s := range seen[:predicted] {
		if distinct[s] {
			t.Fatalf("row %q predicted twice", s)
		}
		distinct[s] = true
	}
	if all := len(coals) * nb; predicted >= all {
		t.Errorf("evaluate predicted %d rows for %d (coalition, background row) pairs; want fewer", predicted, all)
	}
	t.Logf("%d rows predicted for %d pairs", predicted, len(coals)*nb)
}

// maskKeyBits is row's exact bits as a string.
func maskKeyBits(row []float64) string {
	b := make([]byte, 0, 8*len(row))
	for _, v := range row {
		u := math.Float64bits(v)
		for i := range 8 {
			b = append(b, byte(u>>(8*i)))
		}
	}
	return string(b)
}
