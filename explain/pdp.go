package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/model"
)

// PDOptions tune partial dependence; the zero value works.
type PDOptions struct {
	// GridSize is the most grid points per feature; 0 means 20. A feature
	// with at most GridSize distinct values uses them all; otherwise the
	// grid is evenly spaced between its 5th and 95th percentiles, as
	// scikit-learn's partial_dependence does.
	GridSize int
	// Output is the index of the output (class) of f to report.
	Output int
	// Values, when not empty, is the 1-D grid to evaluate instead of
	// Grid's (a business rule's own grid, say).
	Values []float64
}

// PD1 is the partial dependence of one feature, with its ICE curves.
type PD1 struct {
	Feature int       `json:"feature"`
	Name    string    `json:"name"`
	Grid    []float64 `json:"grid"`
	// Average[g] is the mean of f over the rows with the feature set to
	// Grid[g]: the partial dependence curve.
	Average []float64 `json:"average"`
	// ICE holds one curve per row, row-major Rows×len(Grid): f of row r
	// with the feature set to Grid[g].
	ICE  []float64 `json:"ice"`
	Rows int       `json:"rows"`
}

// PD2 is the joint partial dependence of two features.
type PD2 struct {
	Features [2]int       `json:"features"`
	Names    [2]string    `json:"names"`
	Grids    [2][]float64 `json:"grids"`
	// Average is len(Grids[0])×len(Grids[1]), row-major.
	Average []float64 `json:"average"`
	// ICE is Rows×len(Grids[0])×len(Grids[1]), row-major: each row's
	// surface.
	ICE  []float64 `json:"ice"`
	Rows int       `json:"rows"`
}

// Grid returns the evaluation grid of column j of x (NaN ignored): its
// distinct values if there are at most size of them (size <= 0 means
// 20), otherwise size points evenly spaced between the 5th and 95th
// percentiles.
func Grid(x *model.Matrix, j, size int) []float64 {
	if size <= 0 {
		size = 20
	}
	var v []float64
	for i := range x.Rows {
		if a := x.At(i, j); !math.IsNaN(a) {
			v = append(v, a)
		}
	}
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	u := slices.Compact(slices.Clone(v))
	if len(u) <= size {
		return u
	}
	lo, hi := quantile(v, 0.05), quantile(v, 0.95)
	if lo == hi {
		return []float64{lo}
	}
	g := make([]float64, size)
	for i := range g {
		g[i] = lo + (hi-lo)*float64(i)/float64(size-1)
	}
	return g
}

// quantile is the linear-interpolation quantile of sorted v (numpy's
// default).
func quantile(v []float64, q float64) float64 {
	pos := q * float64(len(v)-1)
	i := int(pos)
	if i+1 >= len(v) {
		return v[len(v)-1]
	}
	return v[i] + (pos-float64(i))*(v[i+1]-v[i])
}

// PartialDependence computes the 1-D partial dependence and ICE curves of
// feature j of f over the rows of x (sample them with SampleRows to cap
// the cost: rows × grid evaluations of f).
func PartialDependence(ctx context.Context, f Func, outputs int, x *model.Matrix, j int, o PDOptions, names []string) (*PD1, error) {
	if err := checkPD(x, outputs, o, j); err != nil {
		return nil, err
	}
	grid, err := pdGrid(x, j, o)
	if err != nil {
		return nil, err
	}
	ice, err := iceValues(ctx, f, outputs, x, []int{j}, [][]float64{grid}, o.Output)
	if err != nil {
		return nil, err
	}
	return &PD1{Feature: j, Name: featureNames(names, x.Cols)[j], Grid: grid, ICE: ice, Rows: x.Rows,
		Average: colMeans(ice, x.Rows, len(grid))}, nil
}

// pdGrid is o.Values, or feature j's grid of x when o gives none.
func pdGrid(x *model.Matrix, j int, o PDOptions) ([]float64, error) {
	grid := o.Values
	if len(grid) == 0 {
		grid = Grid(x, j, o.GridSize)
	}
	if len(grid) == 0 {
		return nil, fmt.Errorf("explain: partial dependence: feature %d has no values", j)
	}
	return grid, nil
}

// PDOutputs is the partial dependence of one feature for every output of
// a function: each class's probability, for a classifier.
type PDOutputs struct {
	Feature int       `json:"feature"`
	Name    string    `json:"name"`
	Grid    []float64 `json:"grid"`
	// Average[o][g] is the mean of output o over the rows with the
	// feature set to Grid[g].
	Average [][]float64 `json:"average"`
	Rows    int         `json:"rows"`
}

// PartialDependenceOutputs is PartialDependence for every output of f at
// once (o.Output is not used), without ICE curves: one pass of rows ×
// grid evaluations of f, where a PartialDependence per output would take
// one pass each. A multiclass model's curves come from it.
func PartialDependenceOutputs(ctx context.Context, f Func, outputs int, x *model.Matrix, j int, o PDOptions, names []string) (*PDOutputs, error) {
	o.Output = 0
	if err := checkPD(x, outputs, o, j); err != nil {
		return nil, err
	}
	grid, err := pdGrid(x, j, o)
	if err != nil {
		return nil, err
	}
	avg := make([][]float64, outputs)
	for out := range avg {
		avg[out] = make([]float64, len(grid))
	}
	buf := model.NewMatrix(x.Rows, x.Cols)
	pred := make([]float64, x.Rows*outputs)
	for g, v := range grid {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		copy(buf.Data, x.Data)
		for r := range x.Rows {
			buf.Data[r*x.Cols+j] = v
		}
		if err := f(pred, buf); err != nil {
			return nil, fmt.Errorf("explain: partial dependence: predict: %w", err)
		}
		for r := range x.Rows {
			for out := range outputs {
				avg[out][g] += pred[r*outputs+out]
			}
		}
	}
	for out := range avg {
		for g := range avg[out] {
			avg[out][g] /= float64(x.Rows)
		}
	}
	return &PDOutputs{Feature: j, Name: featureNames(names, x.Cols)[j], Grid: grid, Average: avg, Rows: x.Rows}, nil
}

// PartialDependence2D computes the joint partial dependence (and
// per-row surfaces) of features a and b of f over the rows of x.
func PartialDependence2D(ctx context.Context, f Func, outputs int, x *model.Matrix, a, b int, o PDOptions, names []string) (*PD2, error) {
	if err := checkPD(x, outputs, o, a, b); err != nil {
		return nil, err
	}
	if a == b {
		return nil, fmt.Errorf("explain: partial dependence: features %d and %d are the same", a, b)
	}
	ga, gb := Grid(x, a, o.GridSize), Grid(x, b, o.GridSize)
	if len(ga) == 0 || len(gb) == 0 {
		return nil, fmt.Errorf("explain: partial dependence: a feature has no values")
	}
	ice, err := iceValues(ctx, f, outputs, x, []int{a, b}, [][]float64{ga, gb}, o.Output)
	if err != nil {
		return nil, err
	}
	nm := featureNames(names, x.Cols)
	return &PD2{Features: [2]int{a, b}, Names: [2]string{nm[a], nm[b]}, Grids: [2][]float64{ga, gb}, ICE: ice,
		Rows: x.Rows, Average: colMeans(ice, x.Rows, len(ga)*len(gb))}, nil
}

func checkPD(x *model.Matrix, outputs int, o PDOptions, feats ...int) error {
	if x == nil || x.Rows == 0 {
		return fmt.Errorf("explain: partial dependence: no rows")
	}
	for _, j := range feats {
		if j < 0 || j >= x.Cols {
			return fmt.Errorf("explain: partial dependence: feature %d of %d", j, x.Cols)
		}
	}
	if o.Output < 0 || o.Output >= outputs {
		return fmt.Errorf("explain: partial dependence: output %d of %d", o.Output, outputs)
	}
	return nil
}

// iceValues returns f(row r with feats set to every grid combination),
// Rows × Π len(grids), the last feature varying fastest.
func iceValues(ctx context.Context, f Func, outputs int, x *model.Matrix, feats []int, grids [][]float64, out int) ([]float64, error) {
	combos := 1
	for _, g := range grids {
		combos *= len(g)
	}
	res := make([]float64, x.Rows*combos)
	buf := model.NewMatrix(x.Rows, x.Cols)
	pred := make([]float64, x.Rows*outputs)
	idx := make([]int, len(feats))
	for c := range combos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rem := c
		for k := len(feats) - 1; k >= 0; k-- {
			idx[k] = rem % len(grids[k])
			rem /= len(grids[k])
		}
		copy(buf.Data, x.Data)
		for r := range x.Rows {
			for k, j := range feats {
				buf.Data[r*x.Cols+j] = grids[k][idx[k]]
			}
		}
		if err := f(pred, buf); err != nil {
			return nil, fmt.Errorf("explain: partial dependence: predict: %w", err)
		}
		for r := range x.Rows {
			res[r*combos+c] = pred[r*outputs+out]
		}
	}
	return res, nil
}

func colMeans(v []float64, rows, cols int) []float64 {
	out := make([]float64, cols)
	for r := range rows {
		for c := range cols {
			out[c] += v[r*cols+c]
		}
	}
	for c := range out {
		out[c] /= float64(rows)
	}
	return out
}

// Scorer scores predictions pred (outputs values per row) against targets
// y; higher is better.
type Scorer func(y, pred []float64) (float64, error)

// PermutationOptions tune permutation importance; the zero value works.
type PermutationOptions struct {
	// Repeats is the number of shuffles per feature; 0 means 5.
	Repeats int
	// Seed seeds the shuffles; feature j, repeat k has its own stream.
	Seed uint64
}

// Importance is permutation importance: the drop in score when a
// feature's column is shuffled, breaking its link with the target.
type Importance struct {
	FeatureNames []string `json:"feature_names"`
	// Baseline is the score on the unshuffled data.
	Baseline float64 `json:"baseline"`
	// Mean and Std are the mean and standard deviation of the drop over
	// repeats, one per feature.
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
	// Drops holds every repeat's drop, Features×Repeats row-major.
	Drops   []float64 `json:"drops"`
	Repeats int       `json:"repeats"`
}

// PermutationImportance returns, for every feature of x, the decrease of
// score(y, f(x)) when the feature's column is permuted, over o.Repeats
// seeded shuffles (Breiman, 2001; scikit-learn's
// permutation_importance). Each shuffle costs one evaluation of f on x.
func PermutationImportance(ctx context.Context, f Func, outputs int, x *model.Matrix, y []float64, score Scorer, o PermutationOptions, names []string) (*Importance, error) {
	if x == nil || x.Rows == 0 || len(y) != x.Rows {
		return nil, fmt.Errorf("explain: permutation importance: %d targets for %d rows", len(y), rowsOf(x))
	}
	reps := o.Repeats
	if reps <= 0 {
		reps = 5
	}
	pred := make([]float64, x.Rows*outputs)
	if err := f(pred, x); err != nil {
		return nil, fmt.Errorf("explain: permutation importance: predict: %w", err)
	}
	base, err := score(y, pred)
	if err != nil {
		return nil, fmt.Errorf("explain: permutation importance: %w", err)
	}
	p := x.Cols
	imp := &Importance{FeatureNames: featureNames(names, p), Baseline: base, Mean: make([]float64, p),
		Std: make([]float64, p), Drops: make([]float64, p*reps), Repeats: reps}
	buf := model.NewMatrix(x.Rows, p)
	copy(buf.Data, x.Data)
	col := make([]float64, x.Rows)
	for j := range p {
		for r := range x.Rows {
			col[r] = x.At(r, j)
		}
		for k := range reps {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rng := rand.New(rand.NewPCG(o.Seed, uint64(j)<<20|uint64(k)))
			perm := rng.Perm(x.Rows)
			for r, src := range perm {
				buf.Data[r*p+j] = col[src]
			}
			if err := f(pred, buf); err != nil {
				return nil, fmt.Errorf("explain: permutation importance: predict: %w", err)
			}
			s, err := score(y, pred)
			if err != nil {
				return nil, fmt.Errorf("explain: permutation importance: %w", err)
			}
			imp.Drops[j*reps+k] = base - s
		}
		for r := range x.Rows {
			buf.Data[r*p+j] = col[r]
		}
		d := imp.Drops[j*reps : (j+1)*reps]
		var m, v float64
		for _, e := range d {
			m += e
		}
		m /= float64(reps)
		for _, e := range d {
			v += (e - m) * (e - m)
		}
		imp.Mean[j], imp.Std[j] = m, math.Sqrt(v/float64(reps))
	}
	return imp, nil
}

func rowsOf(x *model.Matrix) int {
	if x == nil {
		return 0
	}
	return x.Rows
}

// ScorerFor returns the default score of a task: R² for regression, the
// negative log loss for classification (probabilities as Model.Predict
// writes them: one per row for binary, numClasses for multiclass).
func ScorerFor(task model.Task, numClasses int) Scorer {
	if !task.IsClassification() {
		return func(y, pred []float64) (float64, error) { return eval.R2(y, pred, nil) }
	}
	return func(y, pred []float64) (float64, error) {
		labels := make([]int, len(y))
		for i, v := range y {
			labels[i] = int(v)
		}
		k := numClasses
		if task == model.Binary {
			k = 2
		}
		l, err := eval.LogLoss(labels, pred, k, nil)
		return -l, err
	}
}
