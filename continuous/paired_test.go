package continuous

import (
	"math/rand/v2"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestPairedSense checks the gain's sense for a loss (rmse) and a score
// (r2): a challenger with half the champion's noise wins every resample
// either way, and equal models win about half or none (ties are not wins).
func TestPairedSense(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 500
	y := make([]float64, n)
	good, bad := make([]float64, n), make([]float64, n)
	for i := range y {
		y[i] = r.NormFloat64() * 10
		good[i] = y[i] + r.NormFloat64()
		bad[i] = y[i] + 2*r.NormFloat64()
	}
	champ := &outputs{task: model.Regression, y: y, out: bad}
	chal := &outputs{task: model.Regression, y: y, out: good}
	for _, m := range []string{"rmse", "r2", "mae"} {
		p, err := paired(champ, chal, m, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.ChallengerWins != 1 || p.GainLow <= 0 {
			t.Errorf("%s: %+v; want every resample won with a positive gain", m, p)
		}
		q, err := paired(champ, champ, m, 1)
		if err != nil || q.ChallengerWins != 0 || q.GainLow != 0 || q.GainHigh != 0 {
			t.Errorf("%s, a model against itself: %+v, %v; want no wins and zero gain", m, q, err)
		}
	}
}
