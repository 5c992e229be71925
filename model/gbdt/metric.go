package gbdt

import "math"

// metricKind names an evaluation metric for early stopping; every metric
// here is lower-is-better.
type metricKind string

// Metrics.
const (
	metricRMSE     metricKind = "rmse"
	metricMAE      metricKind = "mae"
	metricLogLoss  metricKind = "logloss"
	metricMLogLoss metricKind = "mlogloss"
)

// eps clips probabilities inside log loss.
const eps = 1e-15

// evalMetric computes metric m of margins score (row-major, obj.groups()
// per row) against y with weights w (nil = ones), summing in row order.
func evalMetric(m metricKind, obj objective, score, y, w []float64) float64 {
	k := obj.groups()
	out := make([]float64, obj.outputs())
	var s, sw float64
	for r := range y {
		wr := weightAt(w, r)
		obj.transform(out, score[r*k:(r+1)*k])
		var l float64
		switch m {
		case metricRMSE:
			d := out[0] - y[r]
			l = d * d
		case metricMAE:
			l = math.Abs(out[0] - y[r])
		case metricLogLoss:
			p := min(max(out[0], eps), 1-eps)
			if y[r] > 0.5 {
				l = -math.Log(p)
			} else {
				l = -math.Log(1 - p)
			}
		case metricMLogLoss:
			l = -math.Log(min(max(out[int(y[r])], eps), 1))
		}
		s += wr * l
		sw += wr
	}
	if sw == 0 {
		return math.NaN()
	}
	if m == metricRMSE {
		return math.Sqrt(s / sw)
	}
	return s / sw
}
