package gbdt

import (
	"math"
	"slices"

	"github.com/tabforge/tabforge/internal/prob"
)

// gpair is a sum of gradients and hessians.
type gpair struct{ g, h float64 }

// rowGrad is one row's gradient and hessian (both already multiplied by
// the row's weight), stored in float32 like XGBoost's GradientPair: half
// the memory traffic of float64 where histograms read them; sums are
// float64.
type rowGrad struct{ g, h float32 }

// minHess keeps hessians of saturated logistic and softmax rows positive,
// as XGBoost does.
const minHess = 1e-16

// objective turns scores into gradients; it knows nothing about trees.
// Scores are margins, row-major with groups() values per row.
type objective interface {
	// groups is the number of margins (and trees per round) per row.
	groups() int
	// baseMargin returns the initial margin of each group.
	baseMargin(y, w []float64, baseScore float64) []float64
	// gradients fills grad[k][r] for rows r in [lo, hi).
	gradients(grad [][]rowGrad, score, y, w []float64, lo, hi int)
	// transform maps one row's margins to its predictions (the link).
	transform(dst, margin []float64)
	// outputs is the number of predictions per row.
	outputs() int
	// metric is the evaluation metric for early stopping.
	metric() metricKind
}

// newObjective returns the objective for c and numClass classes.
func newObjective(c config, numClass int) objective {
	switch c.objective {
	case AbsoluteError:
		return absoluteLoss{}
	case Huber:
		return huberLoss{slope: c.huberSlope}
	case BinaryLogistic:
		return logisticLoss{}
	case MultiSoftmax:
		return softmaxLoss{k: numClass}
	}
	return squaredLoss{}
}

func weightAt(w []float64, r int) float64 {
	if w == nil {
		return 1
	}
	return w[r]
}

// weightedMean is Σw·y/Σw, summed in row order.
func weightedMean(y, w []float64) float64 {
	var s, sw float64
	for r, v := range y {
		wr := weightAt(w, r)
		s += wr * v
		sw += wr
	}
	if sw == 0 {
		return 0
	}
	return s / sw
}

// weightedMedian returns the lower weighted median of v (weights w, nil
// meaning ones); v and w are not modified. Empty input gives 0.
func weightedMedian(v, w []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	var total float64
	for i := range v {
		total += weightAt(w, i)
	}
	var acc float64
	for _, i := range idx {
		acc += weightAt(w, i)
		if acc >= total/2 {
			return v[i]
		}
	}
	return v[idx[len(idx)-1]]
}

// round32 rounds to float32 precision, the precision XGBoost stores base
// scores in, so exported models predict exactly what tabforge predicts.
func round32(v float64) float64 { return float64(float32(v)) }

type squaredLoss struct{}

func (squaredLoss) groups() int  { return 1 }
func (squaredLoss) outputs() int { return 1 }
func (squaredLoss) baseMargin(y, w []float64, base float64) []float64 {
	if base == 0 {
		base = weightedMean(y, w)
	}
	return []float64{round32(base)}
}
func (squaredLoss) gradients(grad [][]rowGrad, score, y, w []float64, lo, hi int) {
	g := grad[0]
	for r := lo; r < hi; r++ {
		wr := weightAt(w, r)
		g[r] = rowGrad{float32((score[r] - y[r]) * wr), float32(wr)}
	}
}
func (squaredLoss) transform(dst, m []float64) { dst[0] = m[0] }
func (squaredLoss) metric() metricKind         { return metricRMSE }

type absoluteLoss struct{}

func (absoluteLoss) groups() int  { return 1 }
func (absoluteLoss) outputs() int { return 1 }
func (absoluteLoss) baseMargin(y, w []float64, base float64) []float64 {
	if base == 0 {
		base = weightedMedian(y, w)
	}
	return []float64{round32(base)}
}
func (absoluteLoss) gradients(grad [][]rowGrad, score, y, w []float64, lo, hi int) {
	g := grad[0]
	for r := lo; r < hi; r++ {
		wr := weightAt(w, r)
		d := score[r] - y[r]
		s := 0.0
		switch {
		case d > 0:
			s = 1
		case d < 0:
			s = -1
		}
		g[r] = rowGrad{float32(s * wr), float32(wr)}
	}
}
func (absoluteLoss) transform(dst, m []float64) { dst[0] = m[0] }
func (absoluteLoss) metric() metricKind         { return metricMAE }

type huberLoss struct{ slope float64 }

func (huberLoss) groups() int  { return 1 }
func (huberLoss) outputs() int { return 1 }
func (huberLoss) baseMargin(y, w []float64, base float64) []float64 {
	if base == 0 {
		base = weightedMedian(y, w)
	}
	return []float64{round32(base)}
}
func (l huberLoss) gradients(grad [][]rowGrad, score, y, w []float64, lo, hi int) {
	g := grad[0]
	for r := lo; r < hi; r++ {
		wr := weightAt(w, r)
		z := score[r] - y[r]
		scale := 1 + (z/l.slope)*(z/l.slope)
		sq := math.Sqrt(scale)
		g[r] = rowGrad{float32(z / sq * wr), float32(max(1/(scale*sq), minHess) * wr)}
	}
}
func (huberLoss) transform(dst, m []float64) { dst[0] = m[0] }
func (huberLoss) metric() metricKind         { return metricRMSE }

type logisticLoss struct{}

func (logisticLoss) groups() int  { return 1 }
func (logisticLoss) outputs() int { return 1 }
func (logisticLoss) baseMargin(y, w []float64, base float64) []float64 {
	if base == 0 {
		base = min(max(weightedMean(y, w), 1e-6), 1-1e-6)
	}
	p := round32(base) // exported as this float32 probability
	return []float64{math.Log(p / (1 - p))}
}
func (logisticLoss) gradients(grad [][]rowGrad, score, y, w []float64, lo, hi int) {
	g := grad[0]
	for r := lo; r < hi; r++ {
		wr := weightAt(w, r)
		p := prob.Sigmoid(score[r])
		g[r] = rowGrad{float32((p - y[r]) * wr), float32(max(p*(1-p), minHess) * wr)}
	}
}
func (logisticLoss) transform(dst, m []float64) { dst[0] = prob.Sigmoid(m[0]) }
func (logisticLoss) metric() metricKind         { return metricLogLoss }

type softmaxLoss struct{ k int }

func (l softmaxLoss) groups() int  { return l.k }
func (l softmaxLoss) outputs() int { return l.k }
func (l softmaxLoss) baseMargin(_, _ []float64, _ float64) []float64 {
	return make([]float64, l.k) // a common shift of all margins changes nothing
}
func (l softmaxLoss) gradients(grad [][]rowGrad, score, y, w []float64, lo, hi int) {
	k := l.k
	var buf [64]float64
	p := buf[:0]
	if k > len(buf) {
		p = make([]float64, k)
	} else {
		p = buf[:k]
	}
	for r := lo; r < hi; r++ {
		wr := weightAt(w, r)
		prob.Softmax(p, score[r*k:(r+1)*k])
		lab := int(y[r])
		for c := range k {
			t := 0.0
			if c == lab {
				t = 1
			}
			// XGBoost's softmax hessian 2p(1−p) (an upper bound that keeps steps safe).
			grad[c][r] = rowGrad{float32((p[c] - t) * wr), float32(max(2*p[c]*(1-p[c]), minHess) * wr)}
		}
	}
}
func (softmaxLoss) transform(dst, m []float64) { prob.Softmax(dst, m) }
func (softmaxLoss) metric() metricKind         { return metricMLogLoss }
