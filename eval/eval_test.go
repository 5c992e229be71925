package eval

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

const tol = 1e-12

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return scalar.EqualWithinAbsOrRel(a, b, tol, tol)
}

func TestRegressionMetrics(t *testing.T) {
	// Hand-computed: y = 1 2 3 4, pred = 1.5 2 2 5.
	// errors 0.5 0 -1 1: SSE = 2.25, MSE = 0.5625, RMSE = 0.75, MAE = 0.625.
	// mean y = 2.5, SS_tot = 5, R2 = 1 - 2.25/5 = 0.55.
	// MAPE = (0.5/1 + 0 + 1/3 + 1/4)/4 = 0.2708333...
	// within 20%: |0.5|<=0.2? no; 0<=0.4 yes; 1<=0.6 no; 1<=0.8 no -> 25%.
	y := []float64{1, 2, 3, 4}
	pred := []float64{1.5, 2, 2, 5}
	m, err := Regression(y, pred)
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{KeyR2: 0.55, KeyRMSE: 0.75, KeyMAE: 0.625, KeyMAPE: (0.5 + 1.0/3 + 0.25) / 4, KeyWithin20: 25}
	for k, w := range want {
		if !near(m[k], w) {
			t.Errorf("Regression %s = %v; want %v", k, m[k], w)
		}
	}
	if len(m) != len(want) {
		t.Errorf("Regression keys %v; want %v", m, want)
	}
}

func TestRegressionWeighted(t *testing.T) {
	// Weight 2 on a row equals repeating it.
	y := []float64{1, 2, 3, 10}
	pred := []float64{1.2, 2.5, 2, 7}
	w := []float64{1, 2, 0, 1}
	yRep := []float64{1, 2, 2, 10}
	pRep := []float64{1.2, 2.5, 2.5, 7}
	fns := map[string]func(y, p, w []float64) (float64, error){
		"R2": R2, "RMSE": RMSE, "MAE": MAE, "MAPE": MAPE,
		"Within": func(y, p, w []float64) (float64, error) { return WithinPct(y, p, 0.2, w) },
	}
	for name, fn := range fns {
		got, err := fn(y, pred, w)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fn(yRep, pRep, nil)
		if !near(got, want) {
			t.Errorf("weighted %s = %v; repeated rows give %v", name, got, want)
		}
	}
}

// TestRegressionHugeScale: metrics of targets near the largest float are
// the small-scale metrics times the scale (they overflowed to NaN: the
// squares of errors near 1e300 are +Inf).
func TestRegressionHugeScale(t *testing.T) {
	y := []float64{1, 2, 3, 4}
	pred := []float64{1.5, 2, 2, 5}
	small, err := Regression(y, pred)
	if err != nil {
		t.Fatal(err)
	}
	for _, scale := range []float64{1e300, -1e300, 0x1p1000, 1e-300} {
		ys, ps := make([]float64, len(y)), make([]float64, len(y))
		for i := range y {
			ys[i], ps[i] = y[i]*scale, pred[i]*scale
		}
		big, err := Regression(ys, ps)
		if err != nil {
			t.Fatal(err)
		}
		want := Metrics{KeyR2: small[KeyR2], KeyRMSE: small[KeyRMSE] * math.Abs(scale), KeyMAE: small[KeyMAE] * math.Abs(scale)}
		for k, w := range want {
			if !near(big[k], w) {
				t.Errorf("scale %g: %s = %v; want %v", scale, k, big[k], w)
			}
		}
	}
}

func TestRegressionEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(y, p, w []float64) (float64, error)
		y, pred []float64
		want    float64
	}{
		// sklearn r2_score(force_finite=True): constant y.
		{"R2 constant perfect", R2, []float64{3, 3}, []float64{3, 3}, 1},
		{"R2 constant wrong", R2, []float64{3, 3}, []float64{3, 4}, 0},
		{"R2 single row", R2, []float64{3}, []float64{3}, math.NaN()},
		// y = 0 has no percentage error: sklearn's |1-0|/eps = 4.5e15
		// read as a model's failure. Undefined, right or wrong.
		{"MAPE zero target", MAPE, []float64{0, 2}, []float64{1, 2}, math.NaN()},
		{"MAPE zero target exact", MAPE, []float64{0, 2}, []float64{0, 2}, math.NaN()},
		// A tiny target keeps sklearn's value.
		{"MAPE tiny target", MAPE, []float64{1e-300}, []float64{0}, 1e-300 / 2.220446049250313e-16},
		{"Within zero target exact", func(y, p, w []float64) (float64, error) { return WithinPct(y, p, 0.2, w) }, []float64{0, 0}, []float64{0, 1e-9}, 50},
		// boundary: |12-10| = 2 = 0.2*10 counts (<=).
		{"Within boundary", func(y, p, w []float64) (float64, error) { return WithinPct(y, p, 0.25, w) }, []float64{8}, []float64{10}, 100},
	}
	for _, tc := range tests {
		got, err := tc.fn(tc.y, tc.pred, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !near(got, tc.want) {
			t.Errorf("%s = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestMAPEZeroTargets: a zero target makes MAPE undefined only when it
// weighs: with weight 0 its row is not part of the mean, and the others'
// MAPE stands. Regression reports the undefined MAPE as NaN, which
// Metrics' JSON writes as null.
func TestMAPEZeroTargets(t *testing.T) {
	// Row 2: |2-1|/2 = 0.5.
	if got, err := MAPE([]float64{0, 2}, []float64{1, 1}, []float64{0, 1}); err != nil || got != 0.5 {
		t.Errorf("MAPE with a zero target of weight 0 = %v, %v; want 0.5", got, err)
	}
	m, err := Regression([]float64{0, 2, 4}, []float64{1, 1, 4})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(m[KeyMAPE]) || math.IsNaN(m[KeyMAE]) {
		t.Errorf("Regression with a zero target: %v; want mape NaN, the others defined", m)
	}
	b, err := json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"mape":null`) {
		t.Errorf("Regression's metrics as JSON = %s, %v; want mape null", b, err)
	}
}

func TestRegressionErrors(t *testing.T) {
	tests := []struct {
		name    string
		y, pred []float64
		w       []float64
		want    string // substring of the error
	}{
		{"empty", nil, nil, nil, "no rows"},
		{"length", []float64{1, 2}, []float64{1}, nil, "length mismatch"},
		{"NaN y", []float64{1, math.NaN()}, []float64{1, 2}, nil, "y[1]"},
		{"Inf pred", []float64{1, 2}, []float64{math.Inf(1), 2}, nil, "pred[0]"},
		{"negative weight", []float64{1, 2}, []float64{1, 2}, []float64{1, -1}, "weights[1]"},
		{"zero weights", []float64{1, 2}, []float64{1, 2}, []float64{0, 0}, "sum to zero"},
		{"weights length", []float64{1, 2}, []float64{1, 2}, []float64{1}, "length mismatch"},
	}
	for _, tc := range tests {
		for name, fn := range map[string]func(y, p, w []float64) (float64, error){"R2": R2, "RMSE": RMSE, "MAE": MAE, "MAPE": MAPE} {
			_, err := fn(tc.y, tc.pred, tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %s: error %v; want one containing %q", name, tc.name, err, tc.want)
			}
		}
	}
	if _, err := Regression(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Regression(nil, nil) error %v; want ErrEmpty", err)
	}
	if _, err := WithinPct([]float64{1}, []float64{1}, -0.1, nil); err == nil {
		t.Error("WithinPct with negative tolerance: nil error")
	}
}

func TestClassificationLabelMetrics(t *testing.T) {
	// Binary: y = 1 1 1 0 0 0 0 1, pred = 1 0 1 0 1 0 0 1.
	// tp = 3, fn = 1, fp = 1, tn = 3: precision 3/4, recall 3/4, F1 3/4, accuracy 6/8.
	y := []int{1, 1, 1, 0, 0, 0, 0, 1}
	pred := []int{1, 0, 1, 0, 1, 0, 0, 1}
	check := func(name string, fn func([]int, []int, int, []float64) (float64, error), yy, pp []int, k int, w []float64, want float64) {
		t.Helper()
		got, err := fn(yy, pp, k, w)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !near(got, want) {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
	check("Accuracy", Accuracy, y, pred, 2, nil, 0.75)
	check("Precision", Precision, y, pred, 2, nil, 0.75)
	check("Recall", Recall, y, pred, 2, nil, 0.75)
	check("F1", F1, y, pred, 2, nil, 0.75)
	// Weight 3 on the false positive (row 4): precision 3/6, recall 3/4, F1 = 2·(1/2)(3/4)/(5/4) = 0.6.
	w := []float64{1, 1, 1, 1, 3, 1, 1, 1}
	check("weighted Precision", Precision, y, pred, 2, w, 0.5)
	check("weighted F1", F1, y, pred, 2, w, 0.6)
	check("weighted Accuracy", Accuracy, y, pred, 2, w, 6.0/10)

	// Multiclass macro: y = 0 0 1 1 2 2, pred = 0 1 1 1 0 2.
	// class 0: tp1 fp1 fn1 -> P .5 R .5 F .5; class 1: tp2 fp1 fn0 -> P 2/3 R 1 F .8;
	// class 2: tp1 fp0 fn1 -> P 1 R .5 F 2/3. Class 3 never occurs and is left out.
	ym := []int{0, 0, 1, 1, 2, 2}
	pm := []int{0, 1, 1, 1, 0, 2}
	check("macro Precision", Precision, ym, pm, 4, nil, (0.5+2.0/3+1)/3)
	check("macro Recall", Recall, ym, pm, 4, nil, (0.5+1+0.5)/3)
	check("macro F1", F1, ym, pm, 4, nil, (0.5+0.8+2.0/3)/3)

	cm, err := ConfusionMatrix(ym, pm, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}
	for i := range want {
		if !slices.Equal(cm[i], want[i]) {
			t.Errorf("ConfusionMatrix row %d = %v; want %v", i, cm[i], want[i])
		}
	}
	// No positive predicted: precision 0 (zero_division), recall 0.
	check("no positives Precision", Precision, []int{1, 0}, []int{0, 0}, 2, nil, 0)
}

func TestLabelErrors(t *testing.T) {
	if _, err := Accuracy([]int{0, 2}, []int{0, 1}, 2, nil); err == nil || !strings.Contains(err.Error(), "y[1]") {
		t.Errorf("class out of range: error %v", err)
	}
	if _, err := F1([]int{0, 1}, []int{0}, 2, nil); !errors.Is(err, ErrLength) {
		t.Errorf("length mismatch: error %v", err)
	}
	if _, err := Recall(nil, nil, 2, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: error %v", err)
	}
	if _, err := Precision([]int{0}, []int{0}, 1, nil); err == nil {
		t.Error("k = 1: nil error")
	}
}

func TestROCAUC(t *testing.T) {
	tests := []struct {
		name  string
		y     []int
		score []float64
		w     []float64
		want  float64
	}{
		// Perfect separation and perfect inversion.
		{"perfect", []int{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, nil, 1},
		{"inverted", []int{1, 1, 0, 0}, []float64{0.1, 0.2, 0.8, 0.9}, nil, 0},
		// All scores tied: every pair is half a win.
		{"all tied", []int{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, nil, 0.5},
		// sklearn doc example: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75.
		{"sklearn example", []int{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, nil, 0.75},
		// Ties across classes: pairs (pos 0.5 vs neg 0.5) = 1/2, (pos 0.5 vs neg 0.2) = 1,
		// (pos 0.9 vs both) = 2 -> 3.5 of 4.
		{"partial ties", []int{0, 1, 0, 1}, []float64{0.5, 0.5, 0.2, 0.9}, nil, 3.5 / 4},
		// Weights: pos 0.9 (w 2) beats both negatives (w 1, 3); pos 0.3 (w 1) beats neg 0.1 (w 1)
		// and loses to neg 0.5 (w 3): (2·4 + 1·1)/(3·4) = 9/12.
		{"weighted", []int{1, 1, 0, 0}, []float64{0.9, 0.3, 0.1, 0.5}, []float64{2, 1, 1, 3}, 0.75},
		// A zero-weight row is ignored.
		{"zero weight", []int{1, 0, 0}, []float64{0.9, 0.1, 0.95}, []float64{1, 1, 0}, 1},
		// Scores need not be probabilities.
		{"margins", []int{0, 1}, []float64{-3, 7}, nil, 1},
		{"single class", []int{1, 1}, []float64{0.2, 0.3}, nil, math.NaN()},
		{"single weighted class", []int{1, 0}, []float64{0.2, 0.3}, []float64{1, 0}, math.NaN()},
	}
	for _, tc := range tests {
		got, err := ROCAUC(tc.y, tc.score, 2, tc.w)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !near(got, tc.want) {
			t.Errorf("ROCAUC %s = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestROCAUCMulticlass(t *testing.T) {
	// 3 classes, OvR: class 0 scores rank it perfectly (1), class 1 inverted
	// against the rest (0), class 2 all tied (0.5) -> macro 0.5.
	y := []int{0, 1, 2, 0}
	prob := []float64{
		0.9, 0.0, 0.3,
		0.1, 0.0, 0.3,
		0.2, 0.5, 0.3,
		0.8, 0.5, 0.3,
	}
	got, err := ROCAUC(y, prob, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	// class 1: positive row 1 (score 0.0) vs negatives 0.0, 0.5, 0.5 -> 0.5/3.
	want := (1 + 0.5/3 + 0.5) / 3
	if !near(got, want) {
		t.Errorf("multiclass ROCAUC = %v; want %v", got, want)
	}
	// Class 3 absent from y is left out of the macro average.
	prob4 := []float64{0.7, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1}
	got, err = ROCAUC([]int{0, 1, 2}, prob4, 4, nil)
	if err != nil || got != 1 {
		t.Errorf("ROCAUC with an absent class = %v, %v; want 1", got, err)
	}
}

func TestROCAUCErrors(t *testing.T) {
	if _, err := ROCAUC([]int{0, 1}, []float64{0.1, math.NaN()}, 2, nil); err == nil || !strings.Contains(err.Error(), "score[1]") {
		t.Errorf("NaN score: error %v", err)
	}
	if _, err := ROCAUC([]int{0, 1}, []float64{0.1}, 2, nil); !errors.Is(err, ErrLength) {
		t.Errorf("short score: error %v", err)
	}
	if _, err := ROCAUC([]int{0, 3}, []float64{0.1, 0.2}, 2, nil); err == nil {
		t.Error("class 3 with k = 2: nil error")
	}
}

func TestLogLoss(t *testing.T) {
	tests := []struct {
		name string
		y    []int
		prob []float64
		k    int
		w    []float64
		want float64
	}{
		// -(ln 0.8 + ln 0.6)/2.
		{"binary", []int{1, 0}, []float64{0.8, 0.4}, 2, nil, -(math.Log(0.8) + math.Log(0.6)) / 2},
		// Weighted: -(2 ln 0.8 + ln 0.6)/3.
		{"weighted", []int{1, 0}, []float64{0.8, 0.4}, 2, []float64{2, 1}, -(2*math.Log(0.8) + math.Log(0.6)) / 3},
		// A confident miss is clipped at eps = 2.22e-16 (sklearn 1.2 "auto").
		{"clipped", []int{1}, []float64{0}, 2, nil, -math.Log(2.220446049250313e-16)},
		// Multiclass rows are renormalised: 0.2/(0.2+0.2+0.4) = 0.25.
		{"renormalised", []int{1}, []float64{0.2, 0.2, 0.4}, 3, nil, -math.Log(0.25)},
	}
	for _, tc := range tests {
		got, err := LogLoss(tc.y, tc.prob, tc.k, tc.w)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !near(got, tc.want) {
			t.Errorf("LogLoss %s = %v; want %v", tc.name, got, tc.want)
		}
	}
	if _, err := LogLoss([]int{1}, []float64{1.2}, 2, nil); err == nil || !strings.Contains(err.Error(), "prob[0]") {
		t.Errorf("probability 1.2: error %v", err)
	}
	if _, err := LogLoss([]int{1}, []float64{0.5, 0.5}, 3, nil); !errors.Is(err, ErrLength) {
		t.Errorf("short multiclass prob: error %v", err)
	}
}

func TestClassification(t *testing.T) {
	y := []float64{1, 0, 1, 0}
	prob := []float64{0.9, 0.6, 0.4, 0.1}
	m, err := Classification(y, prob, 2)
	if err != nil {
		t.Fatal(err)
	}
	// labels 1 1 0 0: accuracy 0.5; tp 1 fp 1 fn 1: P = R = F1 = 0.5.
	// AUC: pos 0.9 beats both, pos 0.4 beats 0.1 only -> 3/4.
	want := Metrics{
		KeyAccuracy: 0.5, KeyPrecision: 0.5, KeyRecall: 0.5, KeyF1: 0.5, KeyAUC: 0.75,
		KeyLogLoss: -(math.Log(0.9) + math.Log(0.4) + math.Log(0.4) + math.Log(0.9)) / 4,
	}
	for k, w := range want {
		if !near(m[k], w) {
			t.Errorf("Classification %s = %v; want %v", k, m[k], w)
		}
	}
	if len(m) != len(want) {
		t.Errorf("Classification keys %v", m)
	}
	errCases := []struct {
		name string
		y    []float64
		prob []float64
		k    int
	}{
		{"fractional class", []float64{0.5, 1}, []float64{0.1, 0.2}, 2},
		{"class too large", []float64{2, 1}, []float64{0.1, 0.2}, 2},
		{"NaN class", []float64{math.NaN(), 1}, []float64{0.1, 0.2}, 2},
		{"prob NaN", []float64{0, 1}, []float64{0.1, math.NaN()}, 2},
		{"prob negative", []float64{0, 1}, []float64{-0.1, 0.2}, 2},
		{"prob length", []float64{0, 1}, []float64{0.1, 0.2, 0.7}, 3},
		{"empty", nil, nil, 2},
	}
	for _, tc := range errCases {
		if _, err := Classification(tc.y, tc.prob, tc.k); err == nil {
			t.Errorf("Classification %s: nil error", tc.name)
		}
	}
	// A single-class fold: auc is NaN, the rest is defined.
	m, err = Classification([]float64{1, 1}, []float64{0.7, 0.2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(m[KeyAUC]) || m[KeyAccuracy] != 0.5 {
		t.Errorf("single-class metrics %v; want auc NaN, accuracy 0.5", m)
	}
}

func TestPredictLabels(t *testing.T) {
	got, err := PredictLabels([]float64{0.5, 0.51, 0.2}, 2)
	if err != nil || !slices.Equal(got, []int{0, 1, 0}) {
		t.Errorf("binary PredictLabels = %v, %v; want [0 1 0]", got, err)
	}
	// Ties go to the first class.
	got, err = PredictLabels([]float64{0.4, 0.4, 0.2, 0.1, 0.3, 0.6}, 3)
	if err != nil || !slices.Equal(got, []int{0, 2}) {
		t.Errorf("multiclass PredictLabels = %v, %v; want [0 2]", got, err)
	}
	if _, err := PredictLabels([]float64{0.4, 0.6}, 3); err == nil {
		t.Error("PredictLabels with 2 values for 3 classes: nil error")
	}
}

func TestSummarize(t *testing.T) {
	folds := []Metrics{
		{KeyRMSE: 1, KeyAUC: 0.6},
		{KeyRMSE: 2, KeyAUC: math.NaN()},
		{KeyRMSE: 3, KeyAUC: 0.8},
	}
	mean, std := Summarize(folds)
	// rmse: mean 2, sample std sqrt(((1)^2+0+(1)^2)/2) = 1.
	// auc: NaN skipped -> mean 0.7, std sqrt((0.01+0.01)/1).
	if !near(mean[KeyRMSE], 2) || !near(std[KeyRMSE], 1) {
		t.Errorf("rmse mean, std = %v, %v; want 2, 1", mean[KeyRMSE], std[KeyRMSE])
	}
	if !near(mean[KeyAUC], 0.7) || !near(std[KeyAUC], math.Sqrt(0.02)) {
		t.Errorf("auc mean, std = %v, %v; want 0.7, %v", mean[KeyAUC], std[KeyAUC], math.Sqrt(0.02))
	}
	mean, std = Summarize([]Metrics{{KeyR2: 0.5}, {KeyAUC: math.NaN()}})
	if mean[KeyR2] != 0.5 || !math.IsNaN(std[KeyR2]) || !math.IsNaN(mean[KeyAUC]) {
		t.Errorf("sparse Summarize mean %v std %v", mean, std)
	}
}

func TestHigher(t *testing.T) {
	for metric, want := range map[string]bool{
		KeyR2: true, KeyWithin20: true, KeyAccuracy: true, KeyAUC: true, KeyF1: true, KeyPrecision: true, KeyRecall: true,
		KeyRMSE: false, KeyMAE: false, KeyMAPE: false, KeyLogLoss: false, "unknown": false,
	} {
		if got := Higher(metric); got != want {
			t.Errorf("Higher(%q) = %v; want %v", metric, got, want)
		}
	}
}
