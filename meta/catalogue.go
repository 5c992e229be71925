package meta

import "math"

// Meta-feature names: the keys of Features.Values.
const (
	// Simple, over every row.
	Rows                 = "rows"
	Columns              = "columns"
	Dimensionality       = "dimensionality" // columns / rows
	NumericShare         = "numeric_share"
	CategoricalShare     = "categorical_share"
	DatetimeShare        = "datetime_share"
	MissingShare         = "missing_share"           // missing cells / all cells
	RowsWithMissingShare = "rows_with_missing_share" // rows with a missing cell / rows
	MeanLevels           = "mean_levels"             // mean levels of the categorical columns
	Classes              = "classes"
	MinorityShare        = "minority_share" // the rarest class's share of the rows
	Imbalance            = "imbalance"      // largest class / smallest class
	TargetSkew           = "target_skew"    // regression only
	TargetKurtosis       = "target_kurtosis"

	// Statistical, over the numeric columns of a sample.
	SkewMean       = "skew_mean"
	SkewSD         = "skew_sd"
	KurtosisMean   = "kurtosis_mean"
	KurtosisSD     = "kurtosis_sd"
	TargetCorrMean = "target_corr_mean" // mean |Pearson r| (regression) or correlation ratio η (classification)
	TargetCorrMax  = "target_corr_max"

	// Information-theoretic, in bits, over a sample.
	ClassEntropy   = "class_entropy"
	MutualInfoMean = "mutual_info_mean" // mean over columns of I(column; target), both binned
	MutualInfoMax  = "mutual_info_max"

	// Landmarkers: CV accuracy (classification) or R² (regression) on a
	// small sample.
	Landmark1NN      = "landmark_1nn"
	LandmarkStump    = "landmark_stump"
	LandmarkTree     = "landmark_tree3"
	LandmarkLinear   = "landmark_linear" // ridge α=1, or L2 logistic regression C=1
	LandmarkConstant = "landmark_constant"
)

// transform puts a meta-feature on the scale distances are measured on.
type transform uint8

const (
	identity  transform = iota
	logScale            // ln(max(v, 1e-6)): counts and ratios, where ×2 should matter alike at any size
	signedLog           // sign(v)·ln(1+|v|): skew and kurtosis, whose tails are long
	clampLow            // max(v, -1): R² scores, whose failures can be arbitrarily negative
)

func (t transform) apply(v float64) float64 {
	switch t {
	case logScale:
		return math.Log(math.Max(v, 1e-6))
	case signedLog:
		return math.Copysign(math.Log1p(math.Abs(v)), v)
	case clampLow:
		return math.Max(v, -1)
	}
	return v
}

// Spec says how a meta-feature enters the distance.
type Spec struct {
	Name      string
	transform transform
	// Default is the scale used while the knowledge base is too small to
	// measure one (see Scaler); Min the least scale it may measure, so a
	// meta-feature nearly constant among known datasets does not dominate.
	Default, Min float64
	// Weight is the meta-feature's weight in the distance.
	Weight float64
}

// Catalogue lists every meta-feature Compute may produce with how it
// enters the distance. Landmarkers weigh twice as much as the rest: they
// measure directly how model families fare on the data, which is what
// configurations transfer on. The default scales are rough spreads of
// each quantity across tabular benchmarks (a factor e in rows or columns,
// a fifth in a share, a tenth in a score).
func Catalogue() []Spec {
	s := func(name string, t transform, def, lo, w float64) Spec {
		return Spec{Name: name, transform: t, Default: def, Min: lo, Weight: w}
	}
	return []Spec{
		s(Rows, logScale, 1, 0.3, 1),
		s(Columns, logScale, 1, 0.3, 1),
		s(Dimensionality, logScale, 1, 0.3, 1),
		s(NumericShare, identity, 0.2, 0.05, 1),
		s(CategoricalShare, identity, 0.2, 0.05, 1),
		s(DatetimeShare, identity, 0.2, 0.05, 0.5),
		s(MissingShare, identity, 0.1, 0.02, 1),
		s(RowsWithMissingShare, identity, 0.2, 0.05, 0.5),
		s(MeanLevels, logScale, 1, 0.3, 0.5),
		s(Classes, logScale, 0.5, 0.2, 1),
		s(MinorityShare, identity, 0.1, 0.02, 1),
		s(Imbalance, logScale, 0.7, 0.2, 1),
		s(TargetSkew, signedLog, 0.7, 0.2, 1),
		s(TargetKurtosis, signedLog, 1, 0.3, 1),
		s(SkewMean, signedLog, 0.7, 0.2, 1),
		s(SkewSD, signedLog, 0.7, 0.2, 0.5),
		s(KurtosisMean, signedLog, 1, 0.3, 1),
		s(KurtosisSD, signedLog, 1, 0.3, 0.5),
		s(TargetCorrMean, identity, 0.1, 0.02, 1),
		s(TargetCorrMax, identity, 0.2, 0.05, 1),
		s(ClassEntropy, identity, 0.3, 0.05, 1),
		s(MutualInfoMean, identity, 0.05, 0.01, 1),
		s(MutualInfoMax, identity, 0.1, 0.02, 1),
		s(Landmark1NN, identity, 0.1, 0.02, 2),
		s(LandmarkStump, identity, 0.1, 0.02, 2),
		s(LandmarkTree, identity, 0.1, 0.02, 2),
		s(LandmarkLinear, clampLow, 0.1, 0.02, 2),
		s(LandmarkConstant, clampLow, 0.1, 0.02, 1),
	}
}
