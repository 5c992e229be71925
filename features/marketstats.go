package features

// The statistics a Market learns per segment group, and the out-of-fold
// target encodings FitTransform gives the training rows.

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/internal/stats"
)

// assignFolds returns the fold (0..k-1) of each of n rows: a seeded
// random permutation dealt round-robin, so fold sizes differ by at most
// one.
func assignFolds(n, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x6d61726b6574)) // "market"
	perm := rng.Perm(n)
	fold := make([]int, n)
	for r, i := range perm {
		fold[i] = r % k
	}
	return fold
}

func nanMean(v []float64) float64 {
	var s, n float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / n
}

// fitSegment learns one segment column's groups from all training rows.
func (fm *FittedMarket) fitSegment(name string, labels []string, y []float64, values [][]float64) marketSegment {
	counts := map[string]int{}
	for _, l := range labels {
		counts[l]++
	}
	seg := marketSegment{Column: name}
	for l := range counts {
		seg.Labels = append(seg.Labels, l)
	}
	slices.Sort(seg.Labels)
	minCount := fm.settings.MinCount
	groupOf := map[string]int{}
	var kept []string
	rare := false
	for _, l := range seg.Labels {
		c := counts[l]
		seg.Counts = append(seg.Counts, c)
		if c >= minCount && l != RareLevel {
			groupOf[l] = len(kept)
			kept = append(kept, l)
		} else {
			rare = true
		}
	}
	nGroups := len(kept)
	if rare {
		nGroups++
	}
	for _, l := range seg.Labels {
		g, ok := groupOf[l]
		if !ok {
			g = len(kept) // the pool
		}
		seg.Group = append(seg.Group, g)
	}
	// Rows per group; the last slot gathers all rows for the fallback.
	rows := make([][]int, nGroups+1)
	for i, l := range labels {
		g, ok := groupOf[l]
		if !ok {
			g = len(kept)
		}
		rows[g] = append(rows[g], i)
		if !rare {
			rows[nGroups] = append(rows[nGroups], i)
		}
	}
	m := fm.settings.smoothing()
	for g, r := range rows[:nGroups] {
		label := RareLevel
		if g < len(kept) {
			label = kept[g]
		}
		seg.Groups = append(seg.Groups, fm.groupStats(label, r, y, values, m, fm.prior))
	}
	if rare {
		fb := seg.Groups[nGroups-1]
		fb.Label = "__unseen__"
		seg.Groups = append(seg.Groups, fb)
	} else {
		// Unseen labels: statistics of all rows, the prior as encoding.
		fb := fm.groupStats("__unseen__", rows[nGroups], nil, values, m, fm.prior)
		fb.TE = nanFloats{fm.prior}
		seg.Groups = append(seg.Groups, fb)
	}
	seg.buildIndex()
	return seg
}

func (s *marketSegment) buildIndex() {
	s.index = make(map[string]int, len(s.Labels))
	for i, l := range s.Labels {
		s.index[l] = i
	}
}

// groupStats summarises the given rows.
func (fm *FittedMarket) groupStats(label string, rows []int, y []float64, values [][]float64, m, prior float64) marketGroup {
	g := marketGroup{Label: label, TE: nanFloats{math.NaN()}}
	if y != nil {
		var s, n float64
		for _, i := range rows {
			if !math.IsNaN(y[i]) {
				s += y[i]
				n++
			}
		}
		g.TE[0] = smoothMean(s, n, m, prior)
	}
	buf := make([]float64, 0, len(rows))
	for _, v := range values {
		buf = buf[:0]
		for _, i := range rows {
			if finite(v[i]) {
				buf = append(buf, v[i])
			}
		}
		mean, std, _, _ := summarize(buf)
		g.Mean = append(g.Mean, mean)
		g.Std = append(g.Std, std)
		g.Median = append(g.Median, stats.Median(buf))
	}
	return g
}

// smoothMean returns (s + m·prior) / (n + m), the prior if n + m is 0.
func smoothMean(s, n, m, prior float64) float64 {
	if n+m == 0 {
		return prior
	}
	return (s + m*prior) / (n + m)
}

// outOfFold returns each training row's target encoding computed from the
// rows of the other folds, with the same groups as seg.
func (fm *FittedMarket) outOfFold(seg *marketSegment, labels []string, y []float64, fold []int) []float64 {
	k := fm.settings.Folds
	nGroups := len(seg.Groups) - 1
	group := make([]int, len(labels))
	for i, l := range labels {
		group[i] = seg.Group[seg.index[l]]
	}
	// sum[f][g], cnt[f][g]: target sums of group g within fold f.
	sum, cnt := make([][]float64, k), make([][]float64, k)
	tot, totN := make([]float64, nGroups), make([]float64, nGroups)
	foldS, foldN := make([]float64, k), make([]float64, k)
	for f := range k {
		sum[f], cnt[f] = make([]float64, nGroups), make([]float64, nGroups)
	}
	for i, v := range y {
		if math.IsNaN(v) {
			continue
		}
		f, g := fold[i], group[i]
		sum[f][g] += v
		cnt[f][g]++
		tot[g] += v
		totN[g]++
		foldS[f] += v
		foldN[f]++
	}
	var allS, allN float64
	for f := range k {
		allS += foldS[f]
		allN += foldN[f]
	}
	m := fm.settings.smoothing()
	out := make([]float64, len(y))
	for i := range y {
		f, g := fold[i], group[i]
		prior := fm.prior
		if n := allN - foldN[f]; n > 0 {
			prior = (allS - foldS[f]) / n
		}
		out[i] = smoothMean(tot[g]-sum[f][g], totN[g]-cnt[f][g], m, prior)
	}
	return out
}
