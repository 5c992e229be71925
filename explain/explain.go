package explain

import (
	"context"
	"errors"
	"fmt"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
)

// ErrNoRows is the error of an explanation asked for no rows: Explain
// (and pipeline.Explain, pipeline.LIME) of zero rows. An explanation of
// nothing has no base value to measure against when the background is
// the data's own rows, so it is refused rather than returned empty;
// callers that feed batches test for it with errors.Is.
var ErrNoRows = errors.New("explain: no rows to explain")

// Options configure Explain; the zero value explains with the best exact
// method available.
type Options struct {
	// Method picks the explainer; "" means MethodAuto. MethodTree or
	// MethodLinear on a model they do not support falls back to KernelSHAP
	// with a note in Values.Notes. MethodLIME is not a SHAP method and is
	// rejected here (call LIME).
	Method Method
	// Workers bounds parallelism; 0 means GOMAXPROCS. Results do not
	// depend on it.
	Workers int
	// Seed seeds KernelSHAP's coalitions and background sampling.
	Seed uint64
	// Background is KernelSHAP's and interventional SHAP's reference
	// data; nil means the explained rows themselves. KernelSHAP
	// summarises it to BackgroundSize rows; interventional SHAP averages
	// over up to InterventionalBackground of its rows, sampled with Seed.
	Background *model.Matrix
	// InterventionalBackground is the most background rows an
	// ensemble's interventional SHAP averages over; 0 means the
	// package's InterventionalBackground (100). Its cost is linear in
	// them: fewer rows buy exact values against a smaller sample, a
	// noisier base value, for a model too large to explain otherwise.
	InterventionalBackground int
	// BackgroundSize is the number of background rows KernelSHAP
	// integrates over; 0 means 50.
	BackgroundSize int
	// BackgroundSampling draws the background rows at random instead of
	// summarising them by k-means.
	BackgroundSampling bool
	// KernelSamples is KernelOptions.Samples.
	KernelSamples int
	// FeatureNames name the matrix columns; nil means f0, f1, ...
	FeatureNames []string
	// Progress is KernelOptions.Progress: KernelSHAP reports its rows,
	// and an ensemble's interventional SHAP its members' rows, one
	// member after another, each weighted by its cost (MemberProgress).
	// The exact explainers take well under a second and report none.
	Progress progress.Func
}

// Explain computes SHAP values of model m for the rows of x: exact
// TreeSHAP for tree, forest and gbdt models, exact linear SHAP for ols,
// ridge and logistic models, the members' exact values combined for an
// ensemble whose combination is linear in them (EnsembleSHAP), the
// members' interventional values (InterventionalSHAP against
// o.Background) combined the same way for an ensemble of gbdt or
// logistic classifiers (binary or multiclass) or log(1+y) fits without
// passthrough columns,
// and KernelSHAP (on Predict) for anything else, noting the fallback and
// its reason in Values.Notes. A package ensemble model's members share
// x's columns; a saved predictor whose members each have their own
// feature chain and design is explained by pipeline.Explain, which does
// the same per member on the input columns.
func Explain(ctx context.Context, m model.Model, x *model.Matrix, o Options) (*Values, error) {
	if m == nil {
		return nil, errors.New("explain: nil model")
	}
	if x == nil || x.Rows == 0 {
		return nil, ErrNoRows
	}
	method := o.Method
	if method == "" {
		method = MethodAuto
	}
	var notes []string
	switch method {
	case MethodAuto, MethodTree:
		e, err := NewTreeEnsemble(m)
		if err == nil {
			return e.TreeSHAP(ctx, x, o.Workers, o.FeatureNames)
		}
		if method == MethodTree {
			notes = append(notes, fmt.Sprintf("TreeSHAP does not support %s models; fell back to KernelSHAP", m.Family()))
			break
		}
		if em, ok := m.(*ensemble.Model); ok {
			v, why, err := explainEnsemble(ctx, em, x, o)
			if v != nil || err != nil {
				return v, err
			}
			notes = append(notes, fmt.Sprintf("no exact or interventional explainer for this ensemble: %s; used KernelSHAP", why))
			break
		}
		v, err := LinearSHAP(m, x, o.FeatureNames)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		notes = append(notes, fmt.Sprintf("no exact explainer for %s models; used KernelSHAP", m.Family()))
	case MethodLinear:
		v, err := LinearSHAP(m, x, o.FeatureNames)
		if err == nil || !errors.Is(err, ErrUnsupported) {
			return v, err
		}
		notes = append(notes, fmt.Sprintf("linear SHAP does not support %s models; fell back to KernelSHAP", m.Family()))
	case MethodKernel:
	case MethodLIME:
		return nil, errors.New("explain: LIME is not a SHAP method; call LIME")
	default:
		return nil, fmt.Errorf("explain: unknown method %q", method)
	}
	bgx := o.Background
	if bgx == nil {
		bgx = x
	}
	bg, err := background(ctx, bgx, o)
	if err != nil {
		return nil, err
	}
	v, err := KernelSHAP(ctx, m.Predict, m.NumOutputs(), x, bg, KernelOptions{Samples: o.KernelSamples, Seed: o.Seed, Workers: o.Workers, Progress: o.Progress}, o.FeatureNames)
	if err != nil {
		return nil, err
	}
	v.Notes = append(notes, v.Notes...)
	return v, nil
}

// explainEnsemble explains m with EnsembleSHAP, else with
// ensembleInterventional. When neither supports m it returns why not
// (the interventional explainer's reason, the wider of the two) and no
// values.
func explainEnsemble(ctx context.Context, m *ensemble.Model, x *model.Matrix, o Options) (*Values, string, error) {
	v, err := EnsembleSHAP(ctx, m, x, o.Workers, o.FeatureNames)
	if err == nil || !errors.Is(err, ErrUnsupported) {
		return v, "", err
	}
	v, err = ensembleInterventional(ctx, m, x, o)
	if err == nil || !errors.Is(err, ErrUnsupported) {
		return v, "", err
	}
	return nil, Why(err), nil
}

// background summarises x as o asks.
func background(ctx context.Context, x *model.Matrix, o Options) (*Background, error) {
	n := o.BackgroundSize
	if n <= 0 {
		n = 50
	}
	if o.BackgroundSampling {
		return SampleBackground(x, n, o.Seed), nil
	}
	return KMeansBackground(ctx, x, n, o.Seed)
}

// RowsError reports requested rows outside the data.
type RowsError struct {
	Row, Rows int
}

func (e *RowsError) Error() string {
	return fmt.Sprintf("explain: row %d is out of range: the data has %d rows (0-%d)", e.Row, e.Rows, e.Rows-1)
}

// maxRows bounds the rows a row list may name.
const maxRows = 1 << 24

// ParseRows parses a row list such as "0,5,10-20" (0-based, ranges
// inclusive) into indices in the order given.
func ParseRows(s string) ([]int, error) {
	var out []int
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ',' {
			continue
		}
		part := s[start:i]
		start = i + 1
		if part == "" {
			return nil, fmt.Errorf("explain: empty item in row list %q", s)
		}
		var lo, hi int
		if k := indexByte(part, '-'); k > 0 {
			a, err1 := atoi(part[:k])
			b, err2 := atoi(part[k+1:])
			if err1 != nil || err2 != nil || b < a {
				return nil, fmt.Errorf("explain: bad row range %q (want A-B with 0 <= A <= B)", part)
			}
			lo, hi = a, b
		} else {
			a, err := atoi(part)
			if err != nil {
				return nil, fmt.Errorf("explain: bad row %q (want a 0-based index)", part)
			}
			lo, hi = a, a
		}
		// Bound the whole list, not each range: "0-16000000" repeated a
		// hundred times passed the per-range bound and asked for 13 GB.
		if hi-lo >= maxRows-len(out) {
			return nil, fmt.Errorf("explain: row list %q names more than %d rows", s, maxRows)
		}
		for r := lo; r <= hi; r++ {
			out = append(out, r)
		}
	}
	return out, nil
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// atoi parses a non-negative decimal integer.
func atoi(s string) (int, error) {
	if s == "" || len(s) > 12 {
		return 0, errors.New("bad number")
	}
	n := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("bad number")
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
}
