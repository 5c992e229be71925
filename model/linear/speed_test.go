package linear

import (
	"context"
	"math"
	"testing"

	"github.com/tabforge/tabforge/internal/synth"
	"github.com/tabforge/tabforge/model"
)

// TestSpeedProblemMetrics fits the 1M-row speed benchmark problem and checks
// the holdout metrics against scikit-learn's in shared/anchors/speed.md:
// LinearRegression and Ridge(alpha=1) R² 0.7215, LogisticRegression AUC
// 0.9168 (both rounded to 4 decimals there).
func TestSpeedProblemMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 800k rows")
	}
	x, y, yb := synth.Friedman1(synth.Rows)
	ntr := synth.Rows * 8 / 10
	xm := synth.Matrix(x, synth.Features)
	train := &model.Matrix{Rows: ntr, Cols: synth.Features, Data: xm.Data[:ntr*synth.Features]}
	test := &model.Matrix{Rows: synth.Rows - ntr, Cols: synth.Features, Data: xm.Data[ntr*synth.Features:]}
	yf := synth.Float64s(y)
	ctx := context.Background()
	for _, l := range []Regression{{}, {Alpha: 1}} {
		m, err := l.Train(ctx, &model.Dataset{X: train, Y: yf[:ntr], Task: model.Regression}, model.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := r2(yf[ntr:], predict(t, m, test))
		if math.Abs(got-0.7215) > 0.00005 {
			t.Errorf("%s: holdout R² = %.6f; sklearn 0.7215", m.Family(), got)
		}
	}
	lab := make([]float64, synth.Rows)
	pos := make([]bool, synth.Rows-ntr)
	for i, v := range yb {
		lab[i] = float64(v)
		if i >= ntr {
			pos[i-ntr] = v == 1
		}
	}
	m, err := Logistic{C: 1}.Train(ctx, &model.Dataset{X: train, Y: lab[:ntr], Task: model.Binary, NumClasses: 2}, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := auc(pos, predict(t, m, test))
	if math.Abs(got-0.9168) > 0.00005 {
		t.Errorf("logistic: holdout AUC = %.6f; sklearn 0.9168", got)
	}
	t.Logf("logistic: %d iterations, AUC %.6f", m.Iterations(), got)
}
