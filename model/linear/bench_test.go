package linear

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/internal/synth"
	"github.com/tabforge/tabforge/model"
)

// speedData returns the training part (first 80%) of the n-row speed
// benchmark problem of shared/anchors/speed.md, as regression and binary
// datasets sharing one matrix.
func speedData(n int) (reg, bin *model.Dataset) {
	x, y, yb := synth.Friedman1(n)
	ntr := n * 8 / 10
	xm := synth.Matrix(x[:ntr*synth.Features], synth.Features)
	reg = &model.Dataset{X: xm, Y: synth.Float64s(y[:ntr]), Task: model.Regression}
	lab := make([]float64, ntr)
	for i := range lab {
		lab[i] = float64(yb[i])
	}
	bin = &model.Dataset{X: xm, Y: lab, Task: model.Binary, NumClasses: 2}
	return reg, bin
}

// The 1M benchmarks mirror the sklearn cases of speed.md (LinearRegression
// 0.82 s, Ridge(alpha=1) 0.10 s, LogisticRegression lbfgs 1.26 s on 800k
// training rows, 2 threads); testdata/peer_speed.py times the peer on the
// same machine.

func BenchmarkFitOLS(b *testing.B) {
	reg, _ := speedData(synth.Rows)
	benchFit(b, Regression{}, reg)
}

func BenchmarkFitRidge(b *testing.B) {
	reg, _ := speedData(synth.Rows)
	benchFit(b, Regression{Alpha: 1}, reg)
}

func BenchmarkFitLogistic(b *testing.B) {
	_, bin := speedData(synth.Rows)
	benchFit(b, Logistic{C: 1}, bin)
}

func benchFit(b *testing.B, l model.Learner, d *model.Dataset) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Fit(ctx, d, model.FitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogitEvaluate times one loss-and-gradient pass of the binary
// objective over 100k rows on one goroutine.
func BenchmarkLogitEvaluate(b *testing.B) {
	_, d := speedData(125_000)
	ctx := context.Background()
	mean, scale, err := columnStats(ctx, d.X, nil, nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	o := &logitObjective{x: d.X, y: d.Y, k: 1, p: d.X.Cols, mean: mean, scale: scale,
		invS: 1 / float64(d.X.Rows), lambda: 1 / float64(d.X.Rows), intercept: true, workers: 1}
	o.init(d.X.Rows)
	theta := make([]float64, d.X.Cols+1)
	for i := range theta {
		theta[i] = 0.01 * float64(i)
	}
	g := make([]float64, len(theta))
	for b.Loop() {
		o.evaluate(ctx, theta, g)
	}
}
