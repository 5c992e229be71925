package model_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
)

// expData is y = exp(1 + 0.5·x) − 1 with multiplicative noise: linear in
// log(1+y), badly curved in y.
func expData(n int) *model.Dataset {
	x := model.NewMatrix(n, 1)
	y := make([]float64, n)
	for i := range n {
		v := float64(i) / float64(n) * 8
		x.Data[i] = v
		noise := 0.1 * math.Sin(float64(i)*1.7)
		y[i] = math.Exp(1+0.5*v+noise) - 1
	}
	return &model.Dataset{X: x, Y: y, Task: model.Regression}
}

func olsFamily(t *testing.T) model.Family {
	t.Helper()
	for _, f := range linear.Families() {
		if f.Name == linear.FamilyOLS {
			return model.WithTargetTransform(f)
		}
	}
	t.Fatal("no ols family")
	return model.Family{}
}

// mustFit fits l on d.
func mustFit(t *testing.T, l model.Learner, d *model.Dataset) model.Model {
	t.Helper()
	m, err := l.Fit(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// roundTrip encodes m, decodes it through fam, checks that the decoded
// model predicts d alike, and returns the encoding.
func roundTrip(t *testing.T, fam model.Family, m model.Model, d *model.Dataset) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := fam.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if sse(back, d) != sse(m, d) {
		t.Errorf("decoded %T predicts differently", m)
	}
	return b
}

func sse(m model.Model, d *model.Dataset) float64 {
	pred := make([]float64, d.X.Rows)
	if err := m.Predict(pred, d.X); err != nil {
		panic(err)
	}
	s := 0.0
	for i, p := range pred {
		s += (p - d.Y[i]) * (p - d.Y[i])
	}
	return s
}

func TestLogTargetFitsMultiplicativeData(t *testing.T) {
	fam := olsFamily(t)
	d := expData(400)
	raw, err := fam.New(model.Regression, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	logL, err := fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"log"}`))
	if err != nil {
		t.Fatal(err)
	}
	rm, lm := mustFit(t, raw, d), mustFit(t, logL, d)
	if a, b := sse(lm, d), sse(rm, d); !(a < b/10) {
		t.Errorf("log-target SSE %g, raw %g: want the log fit 10× better on exponential data", a, b)
	}
	if got := lm.Params()[model.TargetTransformKey]; got != model.TargetLog {
		t.Errorf("params %v: want %s=%s", lm.Params(), model.TargetTransformKey, model.TargetLog)
	}
	if s := lm.(*model.LogTargetModel).Smear; !(s > 1 && s < 1.1) {
		t.Errorf("smearing factor %g: want a little above 1 for small symmetric noise", s)
	}

	// Round trip through the family's Decode, and the raw model still
	// decodes through the same function.
	b := roundTrip(t, fam, lm, d)
	rb, _ := rm.MarshalBinary()
	if _, err := fam.Decode(rb); err != nil {
		t.Errorf("raw model no longer decodes: %v", err)
	}
	if _, err := fam.Decode(b[:len(b)-len(rb)/2][:20]); err == nil {
		t.Error("truncated log-target model decoded")
	}

	// Raw and log learners must not share a cache key.
	kr, _ := json.Marshal(raw)
	kl, _ := json.Marshal(logL)
	if string(kr) == string(kl) {
		t.Errorf("raw and log learners encode alike: %s", kr)
	}
}

func TestLogTargetErrors(t *testing.T) {
	fam := olsFamily(t)
	for _, tc := range []struct {
		name, params, want string
		task               model.Task
	}{
		{"unknown transform", `{"target_transform":"sqrt"}`, `want "log"`, model.Regression},
		{"not a string", `{"target_transform":1}`, "want a string", model.Regression},
		{"classification", `{"target_transform":"log"}`, "binary", model.Binary},
		{"unknown inner key", `{"target_transform":"log","bogus":1}`, "bogus", model.Regression},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fam.New(tc.task, 1, json.RawMessage(tc.params))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v: want it to mention %q", err, tc.want)
			}
		})
	}
	l, err := fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"log"}`))
	if err != nil {
		t.Fatal(err)
	}
	d := expData(50)
	d.Y[7] = -3
	if _, err := l.Fit(context.Background(), d, model.FitOptions{}); err == nil || !strings.Contains(err.Error(), "row 7") {
		t.Errorf("negative target: err %v, want one naming row 7", err)
	}
	if none, err := fam.New(model.Regression, 1, json.RawMessage(`{"target_transform":"none"}`)); err != nil {
		t.Error(err)
	} else if _, isLog := none.(*model.LogTargetLearner); isLog {
		t.Error("target_transform none gave a log learner")
	}
}
