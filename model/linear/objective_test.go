package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// randomClassification returns a seeded n×p design with labels from a
// noisy linear score and, if weighted, random weights.
func randomClassification(seed uint64, n, p, k int, weighted bool) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := model.NewMatrix(n, p)
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()*float64(1+i%p) + float64(i%p)
	}
	y := make([]float64, n)
	for i := range n {
		s := 0.0
		for j := range p {
			s += x.At(i, j) * float64(j%3-1) / float64(1+j)
		}
		s += rng.NormFloat64()
		if k == 2 {
			if s > 0 {
				y[i] = 1
			}
		} else {
			y[i] = float64(int(math.Abs(s*2)) % k)
		}
	}
	d := &model.Dataset{X: x, Y: y, Task: model.Binary, NumClasses: k}
	if k > 2 {
		d.Task = model.Multiclass
	}
	if weighted {
		d.Weights = make([]float64, n)
		for i := range d.Weights {
			d.Weights[i] = rng.Float64() * 2
		}
	}
	return d
}

// TestLogitGradient compares the analytic gradient with central finite
// differences.
func TestLogitGradient(t *testing.T) {
	tests := []struct {
		name      string
		k         int
		weighted  bool
		lambda    float64
		intercept bool
	}{
		{"binary", 2, false, 0, true},
		{"binary_weighted_penalised", 2, true, 0.01, true},
		{"binary_no_intercept", 2, false, 0.01, false},
		{"multiclass_weighted_penalised", 4, true, 0.05, true},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := randomClassification(7, 3000, 5, tt.k, tt.weighted)
			mean, scale, err := columnStats(ctx, d.X, d.Weights, nil, 2)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.intercept {
				clear(mean)
			}
			k := 1
			if tt.k > 2 {
				k = tt.k
			}
			sw, _ := checkWeights(d.Weights, d.X.Rows)
			o := &logitObjective{x: d.X, y: d.Y, w: d.Weights, k: k, p: 5, mean: mean, scale: scale,
				invS: 1 / sw, lambda: tt.lambda, intercept: tt.intercept, workers: 2}
			o.init(d.X.Rows)
			rng := rand.New(rand.NewPCG(3, 3))
			theta := make([]float64, k*6)
			for i := range theta {
				theta[i] = rng.NormFloat64() * 0.3
			}
			g := make([]float64, len(theta))
			o.evaluate(ctx, theta, g)
			tmp := make([]float64, len(theta))
			for i := range theta {
				if !tt.intercept && i%6 == 5 {
					continue
				}
				h := 1e-6
				th := append([]float64(nil), theta...)
				th[i] += h
				fp := o.evaluate(ctx, th, tmp)
				th[i] -= 2 * h
				fm := o.evaluate(ctx, th, tmp)
				fd := (fp - fm) / (2 * h)
				if math.Abs(fd-g[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Errorf("∂f/∂θ[%d] = %.9g; finite difference %.9g", i, g[i], fd)
				}
			}
		})
	}
}
