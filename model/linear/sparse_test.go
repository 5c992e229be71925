package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// sparseClassification has 60 columns of which about 4% of entries are
// nonzero (indicators and small counts), labels from a linear score, and
// uneven sample weights.
func sparseClassification(n, classes int, seed uint64) *model.Dataset {
	const p = 60
	rng := rand.New(rand.NewPCG(seed, 5))
	x := &model.Matrix{Rows: n, Cols: p, Data: make([]float64, n*p)}
	y, w := make([]float64, n), make([]float64, n)
	for i := range n {
		row := x.Data[i*p : (i+1)*p]
		score := 0.0
		for j := range p {
			if rng.Float64() < 0.04 {
				row[j] = float64(1 + rng.IntN(3))
				score += row[j] * math.Sin(float64(j))
			}
		}
		score += 0.5 * rng.NormFloat64()
		y[i] = float64(min(classes-1, max(0, int(score+float64(classes)/2))))
		w[i] = 0.5 + rng.Float64()
	}
	d := &model.Dataset{X: x, Y: y, Weights: w, Task: model.Binary, NumClasses: classes}
	if classes > 2 {
		d.Task = model.Multiclass
	}
	return d
}

// TestSparseLogitObjective: the objective and its gradient computed from
// the row-compressed copy equal the dense ones at arbitrary coefficients,
// binary and multiclass; and a dense matrix gets no copy.
func TestSparseLogitObjective(t *testing.T) {
	for _, classes := range []int{2, 4} {
		d := sparseClassification(3000, classes, uint64(classes))
		sp := sparseRows(d.X)
		if sp == nil {
			t.Fatalf("%d classes: a 4%%-dense matrix got no row-compressed copy", classes)
		}
		k := 1
		if classes > 2 {
			k = classes
		}
		mean, scale, err := columnStats(context.Background(), d.X, d.Weights, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		sw := 0.0
		for _, v := range d.Weights {
			sw += v
		}
		objective := func(sp *csr) *logitObjective {
			o := &logitObjective{x: d.X, sp: sp, y: d.Y, w: d.Weights, k: k, p: d.X.Cols, mean: mean, scale: scale,
				invS: 1 / sw, lambda: 1 / sw, intercept: true, workers: 2}
			o.init(d.X.Rows)
			return o
		}
		dense, sparse := objective(nil), objective(sp)
		rng := rand.New(rand.NewPCG(9, 9))
		theta := make([]float64, k*(d.X.Cols+1))
		for trial := range 3 {
			for i := range theta {
				theta[i] = rng.NormFloat64() * float64(trial)
			}
			gd, gs := make([]float64, len(theta)), make([]float64, len(theta))
			fd := dense.evaluate(context.Background(), theta, gd)
			fs := sparse.evaluate(context.Background(), theta, gs)
			if math.Abs(fd-fs) > 1e-12*max(1, math.Abs(fd)) {
				t.Errorf("%d classes, trial %d: objective %v sparse, %v dense", classes, trial, fs, fd)
			}
			for i := range gd {
				if math.Abs(gd[i]-gs[i]) > 1e-12*max(1, math.Abs(gd[i])) {
					t.Fatalf("%d classes, trial %d: gradient[%d] %v sparse, %v dense", classes, trial, i, gs[i], gd[i])
				}
			}
		}
	}
	dense := &model.Matrix{Rows: 10, Cols: 3, Data: make([]float64, 30)}
	for i := range dense.Data {
		dense.Data[i] = float64(i%7) + 1
	}
	if sparseRows(dense) != nil {
		t.Error("a matrix without zeros got a row-compressed copy")
	}
}
