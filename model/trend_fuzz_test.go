package model_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/tree"
)

// trendSeeds fits a trend-target model of fam on trendData and returns
// its encoding, for the fuzz corpus.
func trendSeeds(f *testing.F, fam model.Family, train *model.Dataset) []byte {
	f.Helper()
	l, err := fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"trend","trend_features":["year","month"]}`))
	if err != nil {
		f.Fatal(err)
	}
	m, err := l.Fit(context.Background(), train, model.FitOptions{})
	if err != nil {
		f.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzDecodeTrend decodes corrupted trend-target encodings, as a user's
// damaged model file would give them: each must decode to an error or to
// a regression model whose predictions on the three-feature rows (with
// NaN and infinite time values too) are an error or finite, one per row,
// and whose TreeSHAP explanation, when it has one, adds up to them.
func FuzzDecodeTrend(f *testing.F) {
	fams := []model.Family{model.WithTargetTransform(tree.Families()[0]), model.WithTargetTransform(gbdt.Families()[0])}
	train, later := trendData(3, 2002)
	for _, fam := range fams {
		f.Add(trendSeeds(f, fam, train))
	}
	// A multiclass classifier's encoding under a valid trend header: a
	// file pieced together from two models.
	cl, err := tree.Families()[0].New(model.Multiclass, 1, nil)
	if err != nil {
		f.Fatal(err)
	}
	cls := *train
	cls.Task, cls.NumClasses, cls.Y = model.Multiclass, 3, make([]float64, len(train.Y))
	for i := range cls.Y {
		cls.Y[i] = float64(i % 3)
	}
	cm, err := cl.Fit(context.Background(), &cls, model.FitOptions{})
	if err != nil {
		f.Fatal(err)
	}
	cb, err := cm.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	reg := trendSeeds(f, fams[0], train)
	n := 15 + 4 + int(uint32(reg[15])|uint32(reg[16])<<8|uint32(reg[17])<<16|uint32(reg[18])<<24) // magic, length, header
	f.Add(append(append([]byte(nil), reg[:n]...), cb...))

	inputs := []*model.Matrix{later.X}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		x := model.NewMatrix(later.X.Rows, later.X.Cols)
		copy(x.Data, later.X.Data)
		for r := range x.Rows {
			x.Data[r*x.Cols] = v // the year
		}
		inputs = append(inputs, x)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fam := range fams {
			m, err := fam.Decode(data)
			if err != nil {
				continue
			}
			if u, ok := m.(interface{ Unwrap() model.Model }); ok && u.Unwrap().NumOutputs() != 1 {
				t.Fatalf("decoded a %T around a model of %d outputs as a regression model", m, u.Unwrap().NumOutputs())
			}
			for _, x := range inputs {
				dst := make([]float64, x.Rows)
				if err := m.Predict(dst, x); err != nil {
					continue
				}
				for r, v := range dst {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%T predicts %v for row %d (%v) without an error", m, v, r, x.Row(r))
					}
				}
				e, err := explain.NewTreeEnsemble(m)
				if err != nil {
					continue
				}
				if e.NumOutputs() != 1 {
					t.Fatalf("TreeSHAP of a regression model has %d outputs", e.NumOutputs())
				}
				v, err := e.TreeSHAP(context.Background(), x, 1, nil)
				if err != nil {
					continue
				}
				for r := range x.Rows {
					// Rounding in the sum grows with its terms: a damaged leaf of
					// 1e58 leaves no digits of a prediction of 26 in the sum.
					scale := math.Abs(v.BaseValue[0])
					for _, p := range v.Row(r, 0) {
						scale += math.Abs(p)
					}
					if s := v.Sum(r, 0); !(math.Abs(s-dst[r]) <= 1e-6*(1+math.Abs(dst[r])+scale)) {
						t.Fatalf("%T: row %d (%v): SHAP values add up to %v, the prediction is %v", m, r, x.Row(r), s, dst[r])
					}
				}
			}
		}
	})
}
