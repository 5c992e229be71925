package ensemble

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
	"github.com/tabforge/tabforge/split"
)

// linearData returns n rows of 5 uniform features with y = 3·x0 + 2·x1 +
// N(0, 1) for regression, or y = 1[3·x0 + 2·x1 + N(0, 1) > 2.5] for binary
// classification, or a 3-class version cut at 1.8 and 3.2.
func linearData(n int, seed uint64, task model.Task) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &model.Dataset{X: model.NewMatrix(n, 5), Y: make([]float64, n), Task: task}
	for i := range n {
		row := d.X.Row(i)
		for j := range row {
			row[j] = rng.Float64()
		}
		v := 3*row[0] + 2*row[1] + rng.NormFloat64()
		switch task {
		case model.Regression:
			d.Y[i] = v
		case model.Binary:
			d.NumClasses = 2
			if v > 2.5 {
				d.Y[i] = 1
			}
		case model.Multiclass:
			d.NumClasses = 3
			d.Y[i] = map[bool]float64{true: 1, false: 0}[v > 1.8] + map[bool]float64{true: 1, false: 0}[v > 3.2]
		}
	}
	return d
}

func fit(t *testing.T, l model.Learner, d *model.Dataset) model.Model {
	t.Helper()
	m, err := l.Fit(context.Background(), d, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func predict(t *testing.T, m model.Model, x *model.Matrix) []float64 {
	t.Helper()
	p := make([]float64, x.Rows*m.NumOutputs())
	if err := m.Predict(p, x); err != nil {
		t.Fatal(err)
	}
	return p
}

func rmse(p, y []float64) float64 {
	s := 0.0
	for i := range y {
		s += (p[i] - y[i]) * (p[i] - y[i])
	}
	return math.Sqrt(s / float64(len(y)))
}

// TestStackingNoLeakage stacks a fully grown tree, which memorises its
// training rows (in-sample predictions equal y), with ridge regression,
// the right model for this linear target. Fed in-sample predictions, the
// meta-learner trusts the tree almost entirely; fed honest out-of-fold
// predictions it prefers ridge, and predicts unseen rows better.
func TestStackingNoLeakage(t *testing.T) {
	ctx := context.Background()
	train, test := linearData(400, 1, model.Regression), linearData(400, 2, model.Regression)
	learners := []model.Learner{tree.Params{Seed: 1}, linear.Regression{Alpha: 1}}
	folds, err := split.KFold(train.X.Rows, 5, true, 3)
	if err != nil {
		t.Fatal(err)
	}
	var members []model.Model
	var honest, inSample [][]float64
	for _, l := range learners {
		m := fit(t, l, train)
		members = append(members, m)
		inSample = append(inSample, predict(t, m, train.X))
		oof, err := OutOfFold(ctx, l, train, folds, model.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		honest = append(honest, oof)
	}
	if rmse(inSample[0], train.Y) > 1e-9 {
		t.Fatalf("the tree does not memorise: in-sample RMSE %v", rmse(inSample[0], train.Y))
	}
	good, err := FitStacking(ctx, members, honest, train.Y, model.Regression, 0, StackingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaky, err := FitStacking(ctx, members, inSample, train.Y, model.Regression, 0, StackingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gc, lc := good.meta.Coef(), leaky.meta.Coef()
	goodRMSE, leakyRMSE := rmse(predict(t, good, test.X), test.Y), rmse(predict(t, leaky, test.X), test.Y)
	t.Logf("meta coefficients (tree, ridge): honest %.3f, in-sample %.3f; test RMSE honest %.3f, in-sample %.3f", gc, lc, goodRMSE, leakyRMSE)
	if lc[0] < 0.9 {
		t.Errorf("in-sample stacking gives the memorising tree weight %.3f; the test expects > 0.9 (else it cannot detect leakage)", lc[0])
	}
	if gc[0] > 0.5 || gc[0] >= gc[1] {
		t.Errorf("honest stacking gives the tree weight %.3f and ridge %.3f; want tree <= 0.5 and below ridge", gc[0], gc[1])
	}
	if goodRMSE >= leakyRMSE {
		t.Errorf("test RMSE of honest stacking %.4f; want below in-sample stacking's %.4f", goodRMSE, leakyRMSE)
	}
}

func TestSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 500
	y := make([]float64, n)
	a, biased, b := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range y {
		y[i] = rng.NormFloat64() * 3
		e := rng.NormFloat64()
		a[i], biased[i], b[i] = y[i]+e, y[i]+e+3, y[i]+rng.NormFloat64()
	}
	mse := func(p []float64) float64 { r := rmse(p, y); return r * r }

	// The better of two: the biased member has the same errors plus a bias,
	// so any weight on it hurts.
	w, err := Select([][]float64{biased, a}, y, model.Regression, 20)
	if err != nil {
		t.Fatal(err)
	}
	if w[0] != 0 || w[1] != 1 {
		t.Errorf("Select(biased, good) = %v; want [0 1]", w)
	}

	// Complementary members with independent errors: the blend beats both.
	w, err = Select([][]float64{a, b}, y, model.Regression, 50)
	if err != nil {
		t.Fatal(err)
	}
	blend := make([]float64, n)
	for i := range blend {
		blend[i] = w[0]*a[i] + w[1]*b[i]
	}
	t.Logf("complementary: weights %v, MSE a %.3f, b %.3f, blend %.3f", w, mse(a), mse(b), mse(blend))
	if w[0] < 0.3 || w[1] < 0.3 || mse(blend) > 0.7*math.Min(mse(a), mse(b)) {
		t.Errorf("Select(a, b) = %v with blend MSE %.3f; want both weights >= 0.3 and MSE <= 70%% of the better member's %.3f",
			w, mse(blend), math.Min(mse(a), mse(b)))
	}
	if sum := w[0] + w[1]; math.Abs(sum-1) > 1e-12 {
		t.Errorf("weights sum to %v", sum)
	}

	// Binary: an informative member beats a constant 0.5.
	yb := make([]float64, n)
	good, flat := make([]float64, n), make([]float64, n)
	for i := range yb {
		if rng.Float64() < 0.5 {
			yb[i] = 1
		}
		good[i], flat[i] = 0.2+0.6*yb[i], 0.5
	}
	if w, err := Select([][]float64{flat, good}, yb, model.Binary, 10); err != nil || w[1] != 1 {
		t.Errorf("binary Select(flat, good) = %v, %v; want [0 1]", w, err)
	}

	for _, c := range []struct {
		name string
		oof  [][]float64
		y    []float64
	}{
		{"no members", nil, y},
		{"no rows", [][]float64{{}}, nil},
		{"short", [][]float64{a, a[:10]}, y},
		{"NaN", [][]float64{{math.NaN(), 1}}, []float64{1, 2}},
	} {
		if _, err := Select(c.oof, c.y, model.Regression, 5); err == nil {
			t.Errorf("Select(%s) succeeded; want an error", c.name)
		}
	}
}

func TestVotingWeights(t *testing.T) {
	train := linearData(200, 3, model.Regression)
	m1, m2 := fit(t, linear.Regression{Alpha: 1}, train), fit(t, tree.Params{MaxDepth: 3}, train)
	v, err := Voting([]model.Model{m1, m2}, []float64{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if w := v.Weights(); w[0] != 0.25 || w[1] != 0.75 {
		t.Errorf("weights %v; want [0.25 0.75]", w)
	}
	p, p1, p2 := predict(t, v, train.X), predict(t, m1, train.X), predict(t, m2, train.X)
	for i := range p {
		if want := 0.25*p1[i] + 0.75*p2[i]; math.Abs(p[i]-want) > 1e-12 {
			t.Fatalf("row %d: voting predicts %v; want %v", i, p[i], want)
		}
	}
	eq, _ := Voting([]model.Model{m1, m2}, nil)
	if w := eq.Weights(); w[0] != 0.5 || w[1] != 0.5 {
		t.Errorf("default weights %v; want [0.5 0.5]", w)
	}
	for _, c := range []struct {
		name    string
		members []model.Model
		w       []float64
	}{
		{"negative", []model.Model{m1, m2}, []float64{1, -1}},
		{"zero sum", []model.Model{m1, m2}, []float64{0, 0}},
		{"length", []model.Model{m1, m2}, []float64{1}},
		{"NaN", []model.Model{m1, m2}, []float64{math.NaN(), 1}},
		{"empty", nil, nil},
		{"outputs", []model.Model{m1, fit(t, linear.Logistic{C: 1}, linearData(200, 3, model.Multiclass))}, nil},
	} {
		if _, err := Voting(c.members, c.w); err == nil {
			t.Errorf("Voting(%s) succeeded; want an error", c.name)
		}
	}
}

func testRegistry() *model.Registry {
	reg := &model.Registry{}
	for _, set := range [][]model.Family{linear.Families(), tree.Families()} {
		for _, f := range set {
			reg.Register(f)
		}
	}
	reg.Register(Family(reg))
	return reg
}

// TestRoundTrip saves and loads voting, stacking (with passthrough) and a
// nested ensemble for each task and checks the predictions are identical.
// It also checks two decoding errors: a member of an unknown family, and
// an encoding of a later format, refused as such.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := testRegistry()
	fam, err := reg.Lookup(FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range []model.Task{model.Regression, model.Binary, model.Multiclass} {
		d := linearData(300, 5, task)
		var lin model.Learner = linear.Regression{Alpha: 1}
		if task.IsClassification() {
			lin = linear.Logistic{C: 1}
		}
		learners := []model.Learner{tree.Params{MaxDepth: 4, Seed: 2}, lin}
		folds, _ := split.KFold(d.X.Rows, 4, true, 1)
		var members []model.Model
		var oof [][]float64
		for _, l := range learners {
			members = append(members, fit(t, l, d))
			p, err := OutOfFold(ctx, l, d, folds, model.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			oof = append(oof, p)
		}
		vote, err := Voting(members, []float64{2, 1})
		if err != nil {
			t.Fatal(err)
		}
		stack, err := FitStacking(ctx, members, oof, d.Y, task, d.NumClasses, StackingOptions{Passthrough: d.X})
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		nested, err := Voting([]model.Model{stack, members[0]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []*Model{vote, stack, nested} {
			data, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			back, err := fam.Decode(data)
			if err != nil {
				t.Fatalf("%s %s: decode: %v", task, m.Kind(), err)
			}
			want, got := predict(t, m, d.X), predict(t, back, d.X)
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("%s %s: row %d predicts %v after the round trip, %v before", task, m.Kind(), i/m.NumOutputs(), got[i], want[i])
				}
				if task.IsClassification() && (want[i] < 0 || want[i] > 1) {
					t.Fatalf("%s %s: probability %v", task, m.Kind(), want[i])
				}
			}
			if back.Family() != FamilyName || back.NumOutputs() != m.NumOutputs() {
				t.Errorf("%s: decoded family %q with %d outputs", task, back.Family(), back.NumOutputs())
			}
		}
	}
	if _, err := fam.Decode([]byte(`{"format":"tabforge-ensemble/1","kind":"voting","outputs":1,"members":[{"family":"nope","data":""}]}`)); err == nil {
		t.Error("decoding a member of an unknown family succeeded")
	}
	// A later format's encoding may not decode by this build's rules (here
	// its members changed shape); it said "cannot unmarshal object".
	if _, err := fam.Decode([]byte(`{"format":"tabforge-ensemble/2","kind":"voting","outputs":1,"members":{"parts":[]}}`)); !errors.Is(err, formatversion.ErrNewer) {
		t.Errorf("decoding a tabforge-ensemble/2 encoding: %v; want an error wrapping formatversion.ErrNewer", err)
	}
	if _, err := fam.New(model.Regression, 0, nil); err == nil {
		t.Error("ensemble family New succeeded")
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := linearData(50, 1, model.Regression)
	folds, _ := split.KFold(50, 5, true, 1)
	if _, err := OutOfFold(ctx, linear.Regression{Alpha: 1}, d, folds, model.FitOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("OutOfFold with a cancelled context: %v; want context.Canceled", err)
	}
}

// TestCombinerUsed: a voting combiner drops its zero-weight members and
// combines the rest bit for bit as before; stacking keeps every member.
func TestCombinerUsed(t *testing.T) {
	c, err := VotingCombiner(4, 2, []float64{0, 0.3, 0, 0.7})
	if err != nil {
		t.Fatal(err)
	}
	used, u := c.Used()
	if !slices.Equal(used, []int{1, 3}) || u.NumMembers() != 2 || !slices.Equal(u.Weights(), []float64{0.3, 0.7}) {
		t.Fatalf("Used() = %v, %d members weighted %v; want [1 3], 2, [0.3 0.7]", used, u.NumMembers(), u.Weights())
	}
	preds := [][]float64{{1, 2, 3, 4}, {0.1, 0.2, 0.3, 0.4}, {5, 6, 7, 8}, {0.9, 0.8, 0.7, 0.6}}
	all, some := make([]float64, 4), make([]float64, 4)
	if err := c.Combine(all, preds); err != nil {
		t.Fatal(err)
	}
	if err := u.Combine(some, [][]float64{preds[1], preds[3]}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, some) {
		t.Errorf("the used members combine to %v; all of them to %v", some, all)
	}
	full, _ := VotingCombiner(2, 1, nil)
	if used, same := full.Used(); same != full || len(used) != 2 {
		t.Errorf("Used() of an equal-weight combiner = %v, copy %v; want both members, itself", used, same != full)
	}
}
