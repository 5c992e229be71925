package meta

import (
	"math"
	"slices"
	"sort"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// statFeatures summarises the numeric columns: the mean and standard
// deviation over columns of their skewness and kurtosis, and the mean and
// largest strength of their relation to the target. Constant columns are
// left out; without any numeric column there are none.
func statFeatures(v map[string]float64, t *pipeline.TrainingTable) {
	var skews, kurts, corrs []float64
	for _, c := range t.X.Columns() {
		if c.Kind != frame.Numeric {
			continue
		}
		m := moments(c.Num)
		if math.IsNaN(m.skew) {
			continue
		}
		skews, kurts = append(skews, m.skew), append(kurts, m.kurt)
		var r float64
		if t.Task.IsClassification() {
			r = correlationRatio(c.Num, t.Y, len(t.Classes))
		} else {
			r = math.Abs(pearson(c.Num, t.Y))
		}
		if !math.IsNaN(r) {
			corrs = append(corrs, r)
		}
	}
	if len(skews) > 0 {
		s, k := moments(skews), moments(kurts)
		v[SkewMean], v[SkewSD], v[KurtosisMean], v[KurtosisSD] = s.mean, s.sd, k.mean, k.sd
	}
	if len(corrs) > 0 {
		v[TargetCorrMean], v[TargetCorrMax] = moments(corrs).mean, slices.Max(corrs)
	}
}

// pearson is the correlation of x and y over the rows where x is present.
func pearson(x, y []float64) float64 {
	var n, sx, sy float64
	for i, a := range x {
		if !math.IsNaN(a) {
			n++
			sx += a
			sy += y[i]
		}
	}
	mx, my := sx/n, sy/n
	var sxy, sxx, syy float64
	for i, a := range x {
		if math.IsNaN(a) {
			continue
		}
		dx, dy := a-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// correlationRatio is η = sqrt(between-class / total sum of squares) of
// x grouped by the class index in y, over the rows where x is present;
// for two classes it equals the absolute point-biserial correlation.
func correlationRatio(x, y []float64, k int) float64 {
	k = max(k, len(classCounts(y, 0)))
	sum, cnt := make([]float64, k), make([]float64, k)
	var total, n float64
	for i, a := range x {
		if !math.IsNaN(a) {
			sum[int(y[i])] += a
			cnt[int(y[i])]++
			total += a
			n++
		}
	}
	mean := total / n
	var sst float64
	for _, a := range x {
		if !math.IsNaN(a) {
			sst += (a - mean) * (a - mean)
		}
	}
	if sst == 0 {
		return math.NaN()
	}
	var ssb float64
	for j := range k {
		if cnt[j] > 0 {
			d := sum[j]/cnt[j] - mean
			ssb += cnt[j] * d * d
		}
	}
	return math.Sqrt(ssb / sst)
}

// infoBins is the most bins a column or a numeric target is cut into for
// mutual information: enough to see a relation, few enough that a
// 20k-row sample fills them (MI of binned data is biased up by about
// (bins−1)(classes−1)/(2n ln 2) bits).
const infoBins = 10

// infoFeatures are the class entropy (classification) and the mutual
// information of each column with the target (classes, or a numeric
// target cut at its deciles), in bits.
func infoFeatures(v map[string]float64, t *pipeline.TrainingTable) {
	var ty []int
	var nt int
	if t.Task.IsClassification() {
		counts := classCounts(t.Y, len(t.Classes))
		v[ClassEntropy] = entropy(counts)
		nt = len(counts)
		ty = make([]int, len(t.Y))
		for i, c := range t.Y {
			ty[i] = int(c)
		}
	} else {
		ty, nt = binNumeric(t.Y)
	}
	var mis []float64
	for _, c := range t.X.Columns() {
		var cx []int
		var nx int
		if c.Kind == frame.Categorical {
			cx, nx = binCategorical(c)
		} else {
			cx, nx = binNumeric(c.Num)
		}
		mis = append(mis, mutualInfo(cx, nx, ty, nt))
	}
	v[MutualInfoMean], v[MutualInfoMax] = moments(mis).mean, slices.Max(mis)
}

// entropy is the Shannon entropy in bits of a distribution given as counts.
func entropy(counts []int) float64 {
	n := 0
	for _, c := range counts {
		n += c
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	return h
}

// mutualInfo is I(X;Y) in bits of two coded variables with nx and ny
// codes: H(X) + H(Y) − H(X,Y) from their joint counts.
func mutualInfo(x []int, nx int, y []int, ny int) float64 {
	joint := make([]int, nx*ny)
	cx, cy := make([]int, nx), make([]int, ny)
	for i, a := range x {
		joint[a*ny+y[i]]++
		cx[a]++
		cy[y[i]]++
	}
	return max(0, entropy(cx)+entropy(cy)-entropy(joint))
}

// binNumeric codes values by the bin between their quantiles
// (at most infoBins bins of about equal counts; ties share a bin), with
// one more bin for missing values.
func binNumeric(x []float64) ([]int, int) {
	sorted := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) {
			sorted = append(sorted, v)
		}
	}
	sort.Float64s(sorted)
	var cuts []float64
	for b := 1; b < infoBins && len(sorted) > 0; b++ {
		c := sorted[b*len(sorted)/infoBins]
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	missing := len(cuts) + 1
	out := make([]int, len(x))
	for i, v := range x {
		if math.IsNaN(v) {
			out[i] = missing
		} else {
			out[i] = sort.Search(len(cuts), func(j int) bool { return cuts[j] > v })
		}
	}
	return out, missing + 1
}

// binCategorical codes a categorical column by its infoBins−1 most
// frequent levels, the rest pooled, with one more code for missing.
func binCategorical(c *frame.Column) ([]int, int) {
	freq := make([]int, len(c.Levels))
	for _, code := range c.Codes {
		if code >= 0 {
			freq[code]++
		}
	}
	order := make([]int, len(freq))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return freq[order[a]] > freq[order[b]] })
	keep := min(len(order), infoBins-1)
	code := make([]int, len(freq))
	for rank, lvl := range order {
		code[lvl] = min(rank, keep) // levels past keep share code keep
	}
	missing := keep + 1
	out := make([]int, len(c.Codes))
	for i, cc := range c.Codes {
		if cc < 0 {
			out[i] = missing
		} else {
			out[i] = code[cc]
		}
	}
	return out, missing + 1
}
