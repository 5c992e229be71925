package features

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
)

// KindInteraction is the DecodeFitted kind of a *FittedInteraction.
const KindInteraction = "interaction"

// Interaction operators.
const (
	opProduct = "product" // a × b, numeric, named a_x_b
	opRatio   = "ratio"   // a / b, numeric, named a_div_b
	opCross   = "cross"   // "la|lb", categorical, named a_x_b
)

// maxCrossLevels is the most training levels a categorical column may
// have to be crossed.
const maxCrossLevels = 10

// Interaction adds pairwise products and ratios of the most important
// numeric columns and crosses of low-cardinality categorical columns.
//
// Fit ranks the numeric columns (all but Target) by the total gain of a
// quick gradient-boosted model of the target (30 trees of depth 3, NaN
// allowed) on the training rows with a known target, keeps the TopK with
// positive gain, and takes their pairs in rank order: (1st, 2nd), (1st,
// 3rd), (2nd, 3rd), (1st, 4th), ... Each pair (a, b), a ranked higher,
// gives a_x_b = a·b and a_div_b = a/b (NaN when |b| < 1e-12 or the result
// is not finite). With Categorical, every pair of categorical columns with
// 2 to 10 training levels (in frame order) gives a categorical a_x_b whose
// label is "la|lb" (missing if either is missing; a pair unseen in
// training is an unseen label for later encoders). Numeric pairs and
// crosses alternate until MaxNew columns are chosen. The chosen pairs are
// the fitted state.
//
// The target is read by Fit only; Transform computes every feature from
// the row's own input columns, so training rows get the same values from
// Transform as from FitTransform.
type Interaction struct {
	// Target names the target (numeric, or categorical with two labels),
	// read on training rows only.
	Target string `json:"target"`
	// TopK is the number of top-ranked numeric columns paired; 0 means 5.
	TopK int `json:"top_k,omitempty"`
	// MaxNew caps the number of new columns; 0 means 20.
	MaxNew int `json:"max_new,omitempty"`
	// Categorical enables crosses of categorical columns.
	Categorical bool `json:"categorical,omitempty"`
	// Seed seeds the ranking model.
	Seed uint64 `json:"seed,omitempty"`
}

var (
	_ Transformer = Interaction{}
	_ Encodable   = (*FittedInteraction)(nil)
)

func (it Interaction) topK() int {
	if it.TopK == 0 {
		return 5
	}
	return it.TopK
}

func (it Interaction) maxNew() int {
	if it.MaxNew == 0 {
		return 20
	}
	return it.MaxNew
}

// InteractionPair is one chosen feature: Op applied to columns A and B.
type InteractionPair struct {
	A  string `json:"a"`
	B  string `json:"b"`
	Op string `json:"op"` // "product", "ratio" or "cross"
}

// Name returns the name of the pair's column.
func (p InteractionPair) Name() string {
	if p.Op == opRatio {
		return p.A + "_div_" + p.B
	}
	return p.A + "_x_" + p.B
}

// FittedInteraction is a fitted Interaction: the chosen pairs. It is
// immutable, safe for concurrent use and Encodable.
type FittedInteraction struct {
	settings Interaction
	ranked   []string // numeric columns by importance, the top k
	pairs    []InteractionPair
}

// Pairs returns the chosen pairs in output order.
func (fi *FittedInteraction) Pairs() []InteractionPair { return slices.Clone(fi.pairs) }

// Fit ranks the numeric columns of train and chooses the pairs.
func (it Interaction) Fit(ctx context.Context, train *frame.Frame) (Fitted, error) {
	f, err := it.fit(ctx, train)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (it Interaction) fit(ctx context.Context, train *frame.Frame) (*FittedInteraction, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("features: interaction: %w", err)
	}
	switch {
	case it.Target == "":
		return nil, fmt.Errorf("features: interaction: no target")
	case it.TopK < 0 || it.MaxNew < 0:
		return nil, fmt.Errorf("features: interaction: top k %d, max new %d: want >= 0", it.TopK, it.MaxNew)
	case train.NumRows() == 0:
		return nil, fmt.Errorf("features: interaction: %w", ErrEmpty)
	}
	y, err := trainingTarget(train, it.Target)
	if err != nil {
		return nil, fmt.Errorf("features: interaction: %w", err)
	}
	fi := &FittedInteraction{settings: it}
	fi.settings.TopK, fi.settings.MaxNew = it.topK(), it.maxNew()
	if fi.ranked, err = it.rank(ctx, train, y); err != nil {
		return nil, fmt.Errorf("features: interaction: %w", err)
	}
	var numeric []InteractionPair
	for j := 1; j < len(fi.ranked); j++ {
		for i := range j {
			a, b := fi.ranked[i], fi.ranked[j]
			numeric = append(numeric, InteractionPair{a, b, opProduct}, InteractionPair{a, b, opRatio})
		}
	}
	var crosses []InteractionPair
	if it.Categorical {
		var low []string
		for _, c := range train.Columns() {
			if c.Kind == frame.Categorical && c.Name != it.Target {
				if n := usedLevels(c); n >= 2 && n <= maxCrossLevels {
					low = append(low, c.Name)
				}
			}
		}
		for i := range low {
			for j := i + 1; j < len(low); j++ {
				crosses = append(crosses, InteractionPair{low[i], low[j], opCross})
			}
		}
	}
	// Alternate a numeric pair (product, ratio) and a cross up to the cap.
	limit := fi.settings.MaxNew
	for len(fi.pairs) < limit && (len(numeric) > 0 || len(crosses) > 0) {
		for k := 0; k < 2 && len(numeric) > 0 && len(fi.pairs) < limit; k++ {
			fi.pairs, numeric = append(fi.pairs, numeric[0]), numeric[1:]
		}
		if len(crosses) > 0 && len(fi.pairs) < limit {
			fi.pairs, crosses = append(fi.pairs, crosses[0]), crosses[1:]
		}
	}
	for i, p := range fi.pairs {
		if _, ok := train.Lookup(p.Name()); ok || slices.ContainsFunc(fi.pairs[:i], func(q InteractionPair) bool { return q.Name() == p.Name() }) {
			return nil, fmt.Errorf("features: interaction: new column %q is already in the frame or repeated", p.Name())
		}
	}
	return fi, nil
}

// usedLevels counts the distinct codes present in c.
func usedLevels(c *frame.Column) int {
	seen := map[int32]bool{}
	for _, code := range c.Codes {
		if code >= 0 {
			seen[code] = true
		}
	}
	return len(seen)
}

// Ranking model: a quick, shallow booster.
const (
	rankTrees = 30
	rankDepth = 3
)

// rank returns the numeric columns of train (but the target) with
// positive gain in a quick GBDT fit of y, most important first (ties in
// frame order), at most TopK of them.
func (it Interaction) rank(ctx context.Context, train *frame.Frame, y []float64) ([]string, error) {
	var cols []*frame.Column
	for _, c := range train.Columns() {
		if c.Kind == frame.Numeric && c.Name != it.Target {
			cols = append(cols, c)
		}
	}
	var rows []int
	for i, v := range y {
		if !math.IsNaN(v) {
			rows = append(rows, i)
		}
	}
	if len(cols) < 2 || len(rows) < 2 {
		return nil, nil
	}
	x := model.NewMatrix(len(rows), len(cols))
	yy := make([]float64, len(rows))
	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.Name
	}
	for k, i := range rows {
		yy[k] = y[i]
		r := x.Row(k)
		for j, c := range cols {
			r[j] = c.Num[i]
			if math.IsInf(r[j], 0) {
				r[j] = math.NaN()
			}
		}
	}
	d := &model.Dataset{X: x, Y: yy, Task: model.Regression, FeatureNames: names}
	m, err := gbdt.Train(ctx, gbdt.Params{NEstimators: rankTrees, MaxDepth: rankDepth, Seed: it.Seed}, d, nil, model.FitOptions{})
	if err != nil {
		return nil, fmt.Errorf("rank numeric columns: %w", err)
	}
	gain := m.Importance(gbdt.ImportanceGain)
	order := make([]int, len(cols))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(gain[b], gain[a]) })
	var out []string
	for _, j := range order {
		if len(out) == it.topK() || !(gain[j] > 0) {
			break
		}
		out = append(out, names[j])
	}
	return out, nil
}

// Transform appends the chosen pair features to x, reading only the
// pairs' input columns.
func (fi *FittedInteraction) Transform(x *frame.Frame) (*frame.Frame, error) {
	cols := make([]*frame.Column, len(fi.pairs))
	for k, p := range fi.pairs {
		c, err := p.column(x)
		if err != nil {
			return nil, fmt.Errorf("features: interaction: %w", err)
		}
		cols[k] = c
	}
	out, err := appendColumns(x, cols)
	if err != nil {
		return nil, fmt.Errorf("features: interaction: %w", err)
	}
	return out, nil
}

// column computes the pair's column for x.
func (p InteractionPair) column(x *frame.Frame) (*frame.Column, error) {
	want := frame.Numeric
	if p.Op == opCross {
		want = frame.Categorical
	}
	var in [2]*frame.Column
	for k, name := range []string{p.A, p.B} {
		c, ok := x.Lookup(name)
		if !ok {
			return nil, &MissingColumnError{Column: name}
		}
		if c.Kind != want {
			return nil, &ColumnError{Column: name, Err: fmt.Errorf("%w: %s, want %s", ErrWrongKind, c.Kind, want)}
		}
		in[k] = c
	}
	n := x.NumRows()
	if p.Op == opCross {
		labels := make([]string, n)
		for i := range n {
			if in[0].Codes[i] >= 0 && in[1].Codes[i] >= 0 {
				labels[i] = in[0].Label(i) + "|" + in[1].Label(i)
			}
		}
		return frame.NewCategoricalFromStrings(p.Name(), labels), nil
	}
	a, b := in[0].Num, in[1].Num
	v := make([]float64, n)
	for i := range n {
		switch p.Op {
		case opProduct:
			v[i] = a[i] * b[i]
		default:
			v[i] = math.NaN()
			if math.Abs(b[i]) >= 1e-12 {
				v[i] = a[i] / b[i]
			}
		}
		if math.IsInf(v[i], 0) {
			v[i] = math.NaN()
		}
	}
	return frame.NewNumeric(p.Name(), v), nil
}

// Kind returns KindInteraction.
func (fi *FittedInteraction) Kind() string { return KindInteraction }

// interactionVersion is the version of FittedInteraction's JSON encoding.
const interactionVersion = 1

type interactionJSON struct {
	Version  int               `json:"version"`
	Settings Interaction       `json:"settings"`
	Ranked   []string          `json:"ranked"`
	Pairs    []InteractionPair `json:"pairs"`
}

// MarshalJSON implements json.Marshaler.
func (fi *FittedInteraction) MarshalJSON() ([]byte, error) {
	return json.Marshal(interactionJSON{Version: interactionVersion, Settings: fi.settings, Ranked: fi.ranked, Pairs: fi.pairs})
}

// UnmarshalJSON implements json.Unmarshaler and validates the state.
func (fi *FittedInteraction) UnmarshalJSON(data []byte) error {
	if err := checkVersion(data, "interactions", interactionVersion, interactionVersion); err != nil {
		return err
	}
	var in interactionJSON
	if err := decodeStrict(data, &in); err != nil {
		return err
	}
	for _, p := range in.Pairs {
		if p.A == "" || p.B == "" || (p.Op != opProduct && p.Op != opRatio && p.Op != opCross) {
			return fmt.Errorf("invalid pair %+v", p)
		}
	}
	*fi = FittedInteraction{settings: in.Settings, ranked: in.Ranked, pairs: in.Pairs}
	return nil
}
