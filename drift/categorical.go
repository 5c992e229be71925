package drift

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/tabforge/tabforge/frame"
)

// missingLabel is the category of missing values.
const missingLabel = "(missing)"

// otherLabel pools the categories beyond maxBins in Column.Bins.
const otherLabel = "(other)"

// maxBins is the most categories Column.Bins lists one by one.
const maxBins = 30

// minPooled is the smallest count (reference + current) a category needs
// to be its own cell of the chi-squared test; rarer ones are pooled, as
// the test's approximation needs expected counts of about 5 per cell.
const minPooled = 10

// counts maps a category to its number of rows.
type counts map[string]int

func (c counts) total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// categorySample counts a categorical column's rows per label (missing
// rows under missingLabel) and returns the share of missing rows. Levels
// no row uses do not appear.
func categorySample(c *frame.Column) (counts, float64) {
	perCode := make([]int, len(c.Levels))
	missing := 0
	for _, code := range c.Codes {
		if code < 0 {
			missing++
		} else {
			perCode[code]++
		}
	}
	out := counts{}
	for code, n := range perCode {
		if n > 0 {
			out[c.Levels[code]] += n
		}
	}
	if missing > 0 {
		out[missingLabel] = missing
	}
	return out, share(missing, len(c.Codes))
}

// numberLabels counts the rows of a numeric column per value, non-finite
// values under missingLabel.
func numberLabels(v []float64) counts {
	out := counts{}
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			out[missingLabel]++
		} else {
			out[frame.NumberLabel(x)]++
		}
	}
	return out
}

// distinctUsed counts the levels of a categorical column that rows use.
func distinctUsed(c *frame.Column) int {
	used := make([]bool, len(c.Levels))
	n := 0
	for _, code := range c.Codes {
		if code >= 0 && !used[code] {
			used[code] = true
			n++
		}
	}
	return n
}

// categorical tests the category counts a (reference) and b (current).
func categorical(col *Column, a, b counts, o Options) {
	na, nb := a.total(), b.total()
	col.ReferenceValues, col.CurrentValues = na, nb
	keys := unionKeys(a, b)
	p, q := make([]float64, len(keys)), make([]float64, len(keys))
	bins := make([]Bin, len(keys))
	for i, k := range keys {
		p[i], q[i] = share(a[k], na), share(b[k], nb)
		bins[i] = Bin{Label: k, Reference: p[i], Current: q[i]}
	}
	col.PSI = psi(bins)
	col.PSIBand = psiBand(col.PSI)
	col.Bins = topBins(bins)
	if na <= o.testRows() {
		s, pv := chiSquaredHomogeneity(a, b, keys)
		col.Method, col.Threshold = ChiSquared, o.pValue()
		col.Statistic, col.PValue, col.Drifted = s, &pv, pv < col.Threshold
		return
	}
	col.Method, col.Threshold = JensenShannon, o.distance()
	js := max(stat.JensenShannon(p, q), 0)
	col.Noise = jsNoise(a, b, keys)
	col.Statistic = math.Sqrt(max(js-col.Noise, 0))
	col.Drifted = col.Statistic >= col.Threshold
}

// jsNoise is the Jensen–Shannon divergence (in nats) that two samples of
// na and nb rows of one categorical distribution exceed only 5% of the
// time. Sampling noise alone makes the plug-in divergence positive, by
// about (k−1)/8·(1/na + 1/nb) over k categories (the bias Miller and
// Madow's correction removes from entropies), so a small current sample
// of a column with many categories looks drifted against any reference:
// a month of Texas housing (46 rows, one a city) is at distance ~0.35
// from the rest with no drift at all.
//
// When the smaller sample has at least 5 rows a category, 8·JS·na·nb/(na+nb)
// is close to chi-squared with k−1 degrees of freedom (JS is then half
// the G statistic of the 2×k table over the sample sizes), and its 95th
// percentile bounds the noise. Sparser tables, where that approximation
// is too low, draw the noise: both samples again from the pooled
// distribution (seeded by the sizes, so reports are reproducible).
func jsNoise(a, b counts, keys []string) float64 {
	k, na, nb := len(keys), a.total(), b.total()
	if k < 2 || na == 0 || nb == 0 {
		return 0
	}
	if min(na, nb) >= 5*k {
		neff := float64(na) * float64(nb) / float64(na+nb)
		return distuv.ChiSquared{K: float64(k - 1)}.Quantile(0.95) / (8 * neff)
	}
	pool := make([]float64, k)
	for i, key := range keys {
		pool[i] = float64(a[key]+b[key]) / float64(na+nb)
	}
	r := rand.New(rand.NewPCG(uint64(na), uint64(nb)<<16^uint64(k)))
	draws := make([]float64, jsResamples)
	for i := range draws {
		draws[i] = stat.JensenShannon(multinomial(r, pool, na), multinomial(r, pool, nb))
	}
	slices.Sort(draws)
	return draws[int(0.95*float64(len(draws)))]
}

// jsResamples is the number of draws of jsNoise's sparse null.
const jsResamples = 200

// multinomial draws n rows over the categories of the shares p and
// returns the drawn shares (conditional binomials: O(len(p)) draws).
func multinomial(r *rand.Rand, p []float64, n int) []float64 {
	out := make([]float64, len(p))
	left, mass := n, 1.0
	for i, pi := range p {
		if left == 0 || mass <= 0 {
			break
		}
		x := float64(left)
		if q := pi / mass; q < 1 {
			x = distuv.Binomial{N: float64(left), P: max(q, 0), Src: r}.Rand()
		}
		out[i] = x / float64(n)
		left -= int(x)
		mass -= pi
	}
	return out
}

// unionKeys returns the categories of a and b, the most frequent in a
// first (then in b), ties by name, so that the order is deterministic.
func unionKeys(a, b counts) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(a[y], a[x]), cmp.Compare(b[y], b[x]), cmp.Compare(x, y))
	})
	return keys
}

// chiSquaredHomogeneity tests whether a and b come from one categorical
// distribution: Pearson's statistic on the 2×k table of counts, with the
// categories rarer than minPooled (both samples together) pooled into one
// cell, and its p-value from the chi-squared distribution with k−1
// degrees of freedom. Unlike a goodness-of-fit test against the
// reference, a category only one side has does not make it infinite.
func chiSquaredHomogeneity(a, b counts, keys []string) (float64, float64) {
	var ra, rb []float64
	var poolA, poolB float64
	for _, k := range keys {
		x, y := float64(a[k]), float64(b[k])
		if x+y < minPooled {
			poolA, poolB = poolA+x, poolB+y
			continue
		}
		ra, rb = append(ra, x), append(rb, y)
	}
	if poolA+poolB > 0 {
		ra, rb = append(ra, poolA), append(rb, poolB)
	}
	k := len(ra)
	if k < 2 {
		return 0, 1
	}
	na, nb := sum(ra), sum(rb)
	n := na + nb
	obs := append(slices.Clone(ra), rb...)
	exp := make([]float64, 2*k)
	for i := range k {
		t := ra[i] + rb[i]
		exp[i], exp[k+i] = na*t/n, nb*t/n
	}
	s := stat.ChiSquare(obs, exp)
	return s, distuv.ChiSquared{K: float64(k - 1)}.Survival(s)
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// topBins keeps the maxBins bins with the largest share on either side
// and pools the rest into otherLabel.
func topBins(bins []Bin) []Bin {
	if len(bins) <= maxBins {
		return bins
	}
	sorted := slices.Clone(bins)
	slices.SortStableFunc(sorted, func(x, y Bin) int {
		return cmp.Compare(max(y.Reference, y.Current), max(x.Reference, x.Current))
	})
	out := sorted[:maxBins:maxBins]
	rest := Bin{Label: otherLabel}
	for _, b := range sorted[maxBins:] {
		rest.Reference += b.Reference
		rest.Current += b.Current
	}
	return append(out, rest)
}

// formatFloat formats v with at most digits significant digits.
func formatFloat(v float64, digits int) string {
	return strconv.FormatFloat(v, 'g', digits, 64)
}
