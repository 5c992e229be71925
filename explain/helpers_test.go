package explain

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
)

// synth returns a seeded problem with p features: a nonlinear signal in
// the first three (with an interaction), noise features after; binary and
// multiclass labels threshold the signal. missing puts NaN in ~8% of the
// first two columns.
func synth(task model.Task, n, p int, seed uint64, missing bool) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := model.NewMatrix(n, p)
	y := make([]float64, n)
	for i := range n {
		row := x.Row(i)
		for j := range row {
			row[j] = rng.Float64()
		}
		s := math.Sin(3*row[0]) + 2*row[1]*row[2] + 0.2*rng.NormFloat64()
		if p > 3 {
			s += 0.5 * row[3]
		}
		switch task {
		case model.Regression:
			y[i] = 10 * s
		case model.Binary:
			if s > 0.9 {
				y[i] = 1
			}
		case model.Multiclass:
			switch {
			case s > 1.3:
				y[i] = 2
			case s > 0.7:
				y[i] = 1
			}
		}
		if missing {
			for j := range min(2, p) {
				if rng.Float64() < 0.08 {
					row[j] = math.NaN()
				}
			}
		}
	}
	d := &model.Dataset{X: x, Y: y, Task: task}
	switch task {
	case model.Binary:
		d.NumClasses = 2
	case model.Multiclass:
		d.NumClasses = 3
	}
	return d
}

func fitTree(t testing.TB, d *model.Dataset, depth int) *tree.Model {
	t.Helper()
	m, err := tree.Train(context.Background(), tree.Params{MaxDepth: depth, Seed: 1}, d, model.FitOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fitForest(t testing.TB, d *model.Dataset, trees, depth int) *forest.Model {
	t.Helper()
	m, err := forest.Train(context.Background(), forest.Params{NEstimators: trees, MaxDepth: depth, Seed: 1}, d, model.FitOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fitGBDT(t testing.TB, d *model.Dataset, p gbdt.Params) *gbdt.Model {
	t.Helper()
	m, err := gbdt.Train(context.Background(), p, d, nil, model.FitOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fitRidge(t testing.TB, d *model.Dataset) *linear.Model {
	t.Helper()
	m, err := linear.Regression{Alpha: 0.5}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fitLogistic(t testing.TB, d *model.Dataset) *linear.Model {
	t.Helper()
	m, err := linear.Logistic{C: 1}.Train(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func predict(t testing.TB, m model.Model, x *model.Matrix) []float64 {
	t.Helper()
	out := make([]float64, x.Rows*m.NumOutputs())
	if err := m.Predict(out, x); err != nil {
		t.Fatal(err)
	}
	return out
}

// head returns the first n rows of x.
func head(x *model.Matrix, n int) *model.Matrix {
	n = min(n, x.Rows)
	return &model.Matrix{Rows: n, Cols: x.Cols, Data: x.Data[:n*x.Cols]}
}

// pathValue is the path-dependent value function TreeSHAP's Shapley
// values are defined by (Lundberg et al. 2018, Algorithm 1): features in
// S follow x, the others split the row between both children by cover.
func pathValue(t *shapTree, x []float64, inS []bool, out []float64) {
	var walk func(i int32, w float64)
	walk = func(i int32, w float64) {
		if t.left[i] < 0 {
			vals, outs := t.leafValues(i)
			for e, v := range vals {
				if outs != nil {
					e = int(outs[e])
				}
				out[t.group+e] += w * v
			}
			return
		}
		if inS[t.feature[i]] {
			walk(t.hot(i, x), w)
			return
		}
		walk(t.left[i], w*t.zeroL[i])
		walk(t.right[i], w*(1-t.zeroL[i]))
	}
	walk(0, 1)
}

// bruteShapley returns exact Shapley values (outputs×p) of the value
// function v by enumerating all 2^p coalitions.
func bruteShapley(p, outputs int, v func(inS []bool, out []float64)) []float64 {
	vals := coalitionValues(p, outputs, v)
	phi := make([]float64, outputs*p)
	for j := range p {
		for mask := range 1 << p {
			if mask>>j&1 == 1 {
				continue
			}
			s := bits.OnesCount(uint(mask))
			w := factorial(s) * factorial(p-s-1) / factorial(p)
			for k := range outputs {
				phi[k*p+j] += w * (vals[mask|1<<j][k] - vals[mask][k])
			}
		}
	}
	return phi
}

// coalitionValues evaluates v on every coalition of p features: entry
// mask holds v's outputs with feature j present when bit j of mask is set.
func coalitionValues(p, outputs int, v func(inS []bool, out []float64)) [][]float64 {
	vals := make([][]float64, 1<<p)
	inS := make([]bool, p)
	for mask := range 1 << p {
		for j := range p {
			inS[j] = mask>>j&1 == 1
		}
		vals[mask] = make([]float64, outputs)
		v(inS, vals[mask])
	}
	return vals
}

// factorial is n! as a float64.
func factorial(n int) float64 {
	f := 1.0
	for i := 2; i <= n; i++ {
		f *= float64(i)
	}
	return f
}

func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// sameBits fails t unless a, the values with 1 worker, and b, with 3,
// are equal to the bit.
func sameBits(t *testing.T, a, b *Values) {
	t.Helper()
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			t.Fatalf("value %d: %v with 1 worker, %v with 3", i, a.Values[i], b.Values[i])
		}
	}
}

// refShapley is the brute-force Shapley values of rm's margins in the
// one-reference game v(S) = margins(x_S, r_S̄), z a one-row scratch matrix.
func refShapley(t *testing.T, rm *refModel, z *model.Matrix, x, r []float64) []float64 {
	t.Helper()
	return bruteShapley(rm.features, rm.outputs, func(inS []bool, o []float64) {
		for j := range rm.features {
			z.Data[j] = r[j]
			if inS[j] {
				z.Data[j] = x[j]
			}
		}
		if err := rm.margins(o, z); err != nil {
			t.Fatal(err)
		}
	})
}
