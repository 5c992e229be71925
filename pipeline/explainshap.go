package pipeline

import (
	"math"
	"slices"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
)

// predictedClass stands for "each row's predicted class" as the output
// shapOutput names.
const predictedClass = -1

// predictedOutputs returns, for each row of v, the output the report
// plots: 0 with one output, else the output the row's values add up
// highest (its predicted class: the largest softmax score or
// probability; the first of equals). All of a multiclass model's outputs
// are computed, for the importance chart's sum over classes, and the
// plots showed the first class's: with 200 classes, on the 0.5% of rows
// of that class its values say why, on the others only why not. A row's
// predicted class is the question SHAP answers for it (as shap's
// force and waterfall plots of one row are read).
func predictedOutputs(v *explain.Values) []int {
	ks := make([]int, v.Rows)
	if v.Outputs < 2 {
		return ks
	}
	for r := range ks {
		best := v.Sum(r, 0)
		for o := 1; o < v.Outputs; o++ {
			if s := v.Sum(r, o); s > best {
				best, ks[r] = s, o
			}
		}
	}
	return ks
}

// shapData is output ks[r] of row r of v for the report's plots. With
// raw, a feature that is an input column of x under its own name shows the input's
// values, the units the user knows: a linear model's design standardises
// its numeric inputs, and penguins' bill lengths of 32 to 60 mm were
// plotted from -2 to 2. Features marked in cat (category codes,
// datetimes) show as NaN: no numeric value.
func shapData(v *explain.Values, ks []int, cat []bool, x *frame.Frame, raw bool) *report.SHAP {
	cols := make([]*frame.Column, v.Features)
	if raw {
		for j, name := range v.FeatureNames {
			if c, ok := x.Lookup(name); ok && c.Kind == frame.Numeric {
				cols[j] = c
			}
		}
	}
	sh := &report.SHAP{Features: v.FeatureNames}
	for r := range v.Rows {
		sh.Values = append(sh.Values, slices.Clone(v.Row(r, ks[r])))
		row := r
		if v.RowIndex != nil {
			row = v.RowIndex[r]
		}
		fv := make([]float64, v.Features)
		if len(v.X) >= (r+1)*v.Features {
			copy(fv, v.X[r*v.Features:(r+1)*v.Features])
		}
		for j := range fv {
			switch {
			case cat[j]:
				fv[j] = math.NaN()
			case cols[j] != nil:
				fv[j] = cols[j].Num[row]
			case len(v.X) < (r+1)*v.Features:
				fv[j] = math.NaN()
			}
		}
		sh.FeatureValues = append(sh.FeatureValues, fv)
	}
	return sh
}

// shapOutput names the quantity output k of v decomposes, for the SHAP
// plots' axes: a binary gbdt's values are log-odds, a tree's
// probabilities, a log-target regression's log(1 + y), and the page said
// only "impact on the prediction".
func shapOutput(v *explain.Values, k int, t Target) string {
	margin := v.Output == explain.OutputMargin
	if k == predictedClass {
		if margin {
			return "softmax score of the predicted class"
		}
		return "probability of the predicted class"
	}
	label := outputLabel(v, k)
	switch t.Task {
	case model.Binary:
		if margin {
			return "log-odds of " + label
		}
		return "probability of " + label
	case model.Multiclass:
		if margin {
			// Short enough for a dependence plot's y axis, which cut
			// "class Adelie's score (log-odds scale, before the softmax)".
			return "softmax score of " + label
		}
		return "probability of class " + label
	}
	if margin {
		return "log(1 + " + t.Name + ")"
	}
	return "predicted " + t.Name
}
