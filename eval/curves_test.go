package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

// bruteAP is average precision from its definition: the mean, over the
// positive rows (by weight), of the precision among the rows scoring at
// least as high as that row.
func bruteAP(y []int, score, w []float64) float64 {
	wt := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var sum, pos float64
	for i := range y {
		if y[i] != 1 {
			continue
		}
		var tp, all float64
		for j := range y {
			if score[j] >= score[i] {
				all += wt(j)
				if y[j] == 1 {
					tp += wt(j)
				}
			}
		}
		sum += wt(i) * tp / all
		pos += wt(i)
	}
	return sum / pos
}

func TestOperatingPoints(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 13))
	cases := []struct {
		name     string
		n        int
		levels   int // distinct scores: few means many ties
		weighted bool
	}{
		{"continuous", 300, 0, false},
		{"ties", 300, 6, false},
		{"weighted", 300, 0, true},
		{"weighted ties", 200, 4, true},
		{"tiny", 3, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := make([]int, c.n)
			s := make([]float64, c.n)
			var w []float64
			if c.weighted {
				w = make([]float64, c.n)
			}
			for i := range y {
				y[i] = r.IntN(2)
				s[i] = r.Float64() + 0.4*float64(y[i])
				if c.levels > 0 {
					s[i] = math.Floor(s[i] * float64(c.levels))
				}
				if w != nil {
					w[i] = 0.5 + r.Float64()
				}
			}
			y[0], y[c.n-1] = 0, 1
			pts, err := OperatingPoints(y, s, w)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ROCAUC(y, s, 2, w)
			if err != nil {
				t.Fatal(err)
			}
			if got := AreaUnderROC(pts); !scalar.EqualWithinAbsOrRel(got, want, 1e-12, 1e-12) {
				t.Errorf("AreaUnderROC = %v; ROCAUC = %v", got, want)
			}
			if got, want := AveragePrecision(pts), bruteAP(y, s, w); !scalar.EqualWithinAbsOrRel(got, want, 1e-12, 1e-12) {
				t.Errorf("AveragePrecision = %v; by definition %v", got, want)
			}
			first, last := pts[0], pts[len(pts)-1]
			if first.TP != 0 || first.FP != 0 || last.TN != 0 || last.FN != 0 {
				t.Errorf("ends %+v and %+v, want nothing then everything predicted positive", first, last)
			}
			for i := 1; i < len(pts); i++ {
				if pts[i].Threshold >= pts[i-1].Threshold || pts[i].TP < pts[i-1].TP || pts[i].FP < pts[i-1].FP {
					t.Fatalf("points %d and %d not in order: %+v %+v", i-1, i, pts[i-1], pts[i])
				}
			}
		})
	}
}

// A perfect ranking has ROC AUC and average precision 1; the 2×2 counts
// at each point agree with counting by hand.
func TestOperatingPointsSmall(t *testing.T) {
	y := []int{0, 0, 1, 1}
	s := []float64{0.1, 0.4, 0.35, 0.8}
	pts, err := OperatingPoints(y, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	// sklearn.metrics.roc_auc_score([0,0,1,1],[.1,.4,.35,.8]) = 0.75 and
	// average_precision_score = 0.8333 (the scikit-learn user guide's example).
	if got := AreaUnderROC(pts); got != 0.75 {
		t.Errorf("AreaUnderROC = %v; want 0.75", got)
	}
	if got := AveragePrecision(pts); !scalar.EqualWithinAbsOrRel(got, 5.0/6, 1e-12, 1e-12) {
		t.Errorf("AveragePrecision = %v; want 5/6", got)
	}
	at := pts[2] // threshold 0.4: rows 0.8 and 0.4 positive
	if at.Threshold != 0.4 || at.TP != 1 || at.FP != 1 || at.TN != 1 || at.FN != 1 || at.F1() != 0.5 {
		t.Errorf("point at 0.4 = %+v", at)
	}
	perfect, _ := OperatingPoints([]int{0, 1, 1}, []float64{0.2, 0.7, 0.9}, nil)
	if AreaUnderROC(perfect) != 1 || AveragePrecision(perfect) != 1 {
		t.Errorf("perfect ranking: AUC %v AP %v", AreaUnderROC(perfect), AveragePrecision(perfect))
	}
}

func TestOperatingPointsErrors(t *testing.T) {
	cases := []struct {
		name string
		y    []int
		s    []float64
		want error
	}{
		{"empty", nil, nil, ErrEmpty},
		{"length", []int{0, 1}, []float64{0.5}, ErrLength},
	}
	for _, c := range cases {
		if _, err := OperatingPoints(c.y, c.s, nil); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v; want %v", c.name, err, c.want)
		}
	}
	if _, err := OperatingPoints([]int{0, 2}, []float64{0.1, 0.2}, nil); err == nil {
		t.Error("label 2: no error")
	}
	if _, err := OperatingPoints([]int{0, 1}, []float64{math.NaN(), 0.2}, nil); err == nil {
		t.Error("NaN score: no error")
	}
	one, _ := OperatingPoints([]int{0, 0}, []float64{0.1, 0.2}, nil)
	if !math.IsNaN(AveragePrecision(one)) || !math.IsNaN(AreaUnderROC(one)) {
		t.Error("one class: want NaN AUC and AP")
	}
}
