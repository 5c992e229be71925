package model

// Early-stopped learners (gbdt) find their number of rounds on a held-out
// slice of the rows they fit, then refit on every row. One slice of a few
// hundred rows is a noisy judge: on mlc_churn the rounds found moved from
// 61 to 119 with the seed. Cross-validation fits the same learner on every
// fold, each fold finding its own count; pooling those with the final
// fit's own (lgb.cv and xgb.cv choose the rounds from every fold, too)
// steadies the count the final model trains for.

// A StopRater is a fitted model that stopped early: StopRate is the
// number of rounds early stopping found per training row it fitted
// (rounds scale with rows when a fit is repeated on more data).
type StopRater interface {
	StopRate() (rate float64, ok bool)
}

// A RatePooler is a learner whose refit after early stopping can pool its
// own stop rate with rates other fits on the same data found.
type RatePooler interface {
	// PoolStopRates returns a copy of the learner that refits for the
	// mean of rates and the rate it finds itself.
	PoolStopRates(rates []float64) Learner
}

// StopRate returns the stop rate of m or of the model it wraps (a target
// transform's).
func StopRate(m Model) (float64, bool) {
	for m != nil {
		if s, ok := m.(StopRater); ok {
			return s.StopRate()
		}
		u, ok := m.(interface{ Unwrap() Model })
		if !ok {
			break
		}
		m = u.Unwrap()
	}
	return 0, false
}

// PoolStopRates returns l, or the learner it wraps in a target transform,
// refitting for rates pooled with its own (see RatePooler); l itself when
// it does not stop early or rates is empty.
func PoolStopRates(l Learner, rates []float64) Learner {
	if len(rates) == 0 {
		return l
	}
	switch w := l.(type) {
	case RatePooler:
		return w.PoolStopRates(rates)
	case *LogTargetLearner:
		c := *w
		c.Inner = PoolStopRates(w.Inner, rates)
		return &c
	case *TrendLearner:
		c := *w
		c.Inner = PoolStopRates(w.Inner, rates)
		return &c
	}
	return l
}
