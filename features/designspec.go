package features

import (
	"fmt"

	"github.com/tabforge/tabforge/model"
)

// Synthetic category labels. Real labels equal to them are merged with
// them, exactly as the peers' fillna("__missing__") merges a literal
// "__missing__" with missing values.
const (
	// MissingLevel is the category missing values become under
	// MissingAsLevel.
	MissingLevel = "__missing__"
	// OtherLevel is the category that pools the rarest training levels
	// when DesignSpec.MaxOneHotLevels caps a one-hot encoding.
	OtherLevel = "__other__"
)

// NumericImputation says how missing numeric and datetime values are
// filled.
type NumericImputation string

// Numeric imputations.
const (
	// ImputeMedian fills with the median of the training rows (NaN
	// skipped; the mean of the two middle values for an even count), like
	// sklearn's SimpleImputer(strategy="median").
	ImputeMedian NumericImputation = "median"
	// ImputeMean fills with the mean of the training rows (NaN skipped).
	ImputeMean NumericImputation = "mean"
)

// CategoricalMissing says how missing categorical values are encoded.
type CategoricalMissing string

// Categorical missing-value policies.
const (
	// MissingAsLevel makes missing its own category, MissingLevel, learned
	// like any other label (the peers' protocol). If no training row was
	// missing, a missing value at transform time is an unseen category.
	MissingAsLevel CategoricalMissing = "level"
	// MissingAsMode replaces missing by the most frequent training label
	// (ties: the lexicographically smallest), like sklearn's
	// SimpleImputer(strategy="most_frequent"). If every training row is
	// missing, it falls back to MissingAsLevel.
	MissingAsMode CategoricalMissing = "mode"
	// MissingAsNaN encodes missing as NaN in an ordinal feature and as all
	// zeros in a one-hot block. With ordinal codes it needs
	// DesignSpec.Missing, since the learner must handle NaN.
	MissingAsNaN CategoricalMissing = "nan"
)

// DesignSpec says how to build a design matrix from a frame. Its zero value
// is the peers' tree preprocessing: median imputation, ordinal codes,
// missing categories as MissingLevel, no scaling. DesignSpecFor derives a
// spec from a model family's model.Input.
//
// Numeric columns come first in the output (frame order), then the
// features expanded from datetime columns, then categorical features: the
// column order of the peers' ColumnTransformer. Constant columns are kept
// (they scale to 0 and are harmless to every learner).
type DesignSpec struct {
	// OneHot encodes each categorical column as one 0/1 column per training
	// level, in lexicographic label order like sklearn's OneHotEncoder; an
	// unseen label gives all zeros. Otherwise a categorical column becomes
	// one ordinal feature: the index of its label among the sorted training
	// labels (like sklearn's OrdinalEncoder), -1 for an unseen label, and
	// the feature is flagged in Categorical.
	OneHot bool `json:"one_hot,omitempty"`
	// Scale standardises numeric and datetime features with the mean and
	// population standard deviation of the training rows (after
	// imputation), like sklearn's StandardScaler; a (near) constant
	// feature gets scale 1.
	Scale bool `json:"scale,omitempty"`
	// Missing says the learner handles NaN: numeric and datetime features
	// are not imputed (scaling statistics then skip NaN). It does not
	// change categorical encoding; see CategoricalMissing.
	Missing bool `json:"missing,omitempty"`
	// NumericImpute is the fill for missing numeric values; "" means
	// ImputeMedian. A column missing in every training row is filled
	// with 0.
	NumericImpute NumericImputation `json:"numeric_impute,omitempty"`
	// CategoricalMissing is the encoding of missing categories; "" means
	// MissingAsLevel.
	CategoricalMissing CategoricalMissing `json:"categorical_missing,omitempty"`
	// MaxOneHotLevels caps the levels of a one-hot column: if a column has
	// more training levels (MissingLevel included), the MaxOneHotLevels
	// most frequent are kept (ties: smaller label first) and the rest are
	// pooled into one OtherLevel column. 0 means no cap. Ordinal encoding
	// ignores it.
	MaxOneHotLevels int `json:"max_one_hot_levels,omitempty"`
	// MinOneHotCount also pools, in a column MaxOneHotLevels caps, the
	// kept levels seen in fewer than MinOneHotCount training rows: once a
	// column has too many levels to encode them all, the most frequent of
	// an id-like column are still seen once or twice each, too few rows
	// for their coefficients to be more than noise, yet each is a dense
	// column of every row. 0 means no minimum; columns within
	// MaxOneHotLevels keep every level.
	MinOneHotCount int `json:"min_one_hot_count,omitempty"`
	// MaxOneHotColumns caps the one-hot columns of all categorical columns
	// together (see capOneHot): if their levels, after MaxOneHotLevels,
	// add up to more, every column keeps at most its L most frequent
	// levels and pools the rest as with MaxOneHotLevels, L the largest
	// that fits, but at least 1. 0 means no cap. Ordinal encoding ignores
	// it.
	MaxOneHotColumns int `json:"max_one_hot_columns,omitempty"`
	// DropColumns names columns that are not read at all; names absent
	// from the frame are ignored.
	DropColumns []string `json:"drop_columns,omitempty"`
}

// DesignSpecFor returns the default spec for a model family's input
// requirements.
func DesignSpecFor(in model.Input) DesignSpec {
	return DesignSpec{OneHot: in.OneHot, Scale: in.Scale, Missing: in.Missing}
}

func (s DesignSpec) impute() NumericImputation {
	if s.NumericImpute == "" {
		return ImputeMedian
	}
	return s.NumericImpute
}

func (s DesignSpec) categoricalMissing() CategoricalMissing {
	if s.CategoricalMissing == "" {
		return MissingAsLevel
	}
	return s.CategoricalMissing
}

func (s DesignSpec) validate() error {
	switch s.NumericImpute {
	case "", ImputeMedian, ImputeMean:
	default:
		return fmt.Errorf("features: unknown numeric imputation %q (allowed: median, mean)", s.NumericImpute)
	}
	switch s.CategoricalMissing {
	case "", MissingAsLevel, MissingAsMode:
	case MissingAsNaN:
		if !s.OneHot && !s.Missing {
			return fmt.Errorf("features: categorical missing %q with ordinal codes needs Missing (a learner that handles NaN)", s.CategoricalMissing)
		}
	default:
		return fmt.Errorf("features: unknown categorical missing policy %q (allowed: level, mode, nan)", s.CategoricalMissing)
	}
	if s.MaxOneHotLevels < 0 {
		return fmt.Errorf("features: MaxOneHotLevels is %d, want >= 0", s.MaxOneHotLevels)
	}
	if s.MinOneHotCount < 0 {
		return fmt.Errorf("features: MinOneHotCount is %d, want >= 0", s.MinOneHotCount)
	}
	if s.MaxOneHotColumns < 0 {
		return fmt.Errorf("features: MaxOneHotColumns is %d, want >= 0", s.MaxOneHotColumns)
	}
	return nil
}
