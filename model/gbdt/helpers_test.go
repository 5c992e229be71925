package gbdt

import (
	"math"
	"math/rand/v2"

	"github.com/tabforge/tabforge/model"
)

// synthTask returns a small seeded problem of the given task: 6 features,
// a nonlinear signal in the first three, noise in the rest; labels come
// from thresholds of the signal.
func synthTask(task model.Task, n int, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := model.NewMatrix(n, 6)
	y := make([]float64, n)
	for i := range n {
		row := x.Row(i)
		for j := range row {
			row[j] = rng.Float64()
		}
		s := math.Sin(3*row[0]) + 2*row[1]*row[2] + 0.3*rng.NormFloat64()
		switch task {
		case model.Regression:
			y[i] = 10 * s
		case model.Binary:
			if s > 0.8 {
				y[i] = 1
			}
		case model.Multiclass:
			switch {
			case s > 1.2:
				y[i] = 2
			case s > 0.6:
				y[i] = 1
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
