// Package prob holds the inverse link functions that turn a model's
// margins into probabilities: the sigmoid of binary models and the softmax
// of multiclass ones. gbdt, the linear models and explain's interventional
// SHAP must map margins alike, so that explanations add up to the
// predictions they explain, bit for bit where they can.
package prob

import "math"

// Sigmoid returns 1/(1+e^−z), written so that neither branch overflows.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Softmax writes the softmax of z into dst (same length; dst may be z),
// shifting by max(z) so that no exponential overflows.
func Softmax(dst, z []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	s := 0.0
	for i, v := range z {
		dst[i] = math.Exp(v - mx)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
}
