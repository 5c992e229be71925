package features

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
)

// sameFrame reports how a and b differ: names, kinds, values (NaN equal
// to NaN, floats compared exactly) or labels. Columns named in skip are
// not compared.
func sameFrame(a, b *frame.Frame, skip ...string) error {
	if !slices.Equal(a.Names(), b.Names()) {
		return fmt.Errorf("columns %q vs %q", a.Names(), b.Names())
	}
	if a.NumRows() != b.NumRows() {
		return fmt.Errorf("%d vs %d rows", a.NumRows(), b.NumRows())
	}
	for j, ca := range a.Columns() {
		if slices.Contains(skip, ca.Name) {
			continue
		}
		cb := b.Col(j)
		if ca.Kind != cb.Kind {
			return fmt.Errorf("column %q: kind %s vs %s", ca.Name, ca.Kind, cb.Kind)
		}
		for i := range ca.Len() {
			if ca.Kind == frame.Categorical {
				if ca.Label(i) != cb.Label(i) {
					return fmt.Errorf("column %q row %d: %q vs %q", ca.Name, i, ca.Label(i), cb.Label(i))
				}
			} else if !sameFloats(ca.Num[i:i+1], cb.Num[i:i+1]) {
				return fmt.Errorf("column %q row %d: %v vs %v", ca.Name, i, ca.Num[i], cb.Num[i])
			}
		}
	}
	return nil
}

// panelSpec describes a synthetic city × month panel like txhousing.
type panelSpec struct {
	cities, months int
	noise          bool // target is pure noise; else a city level plus a trend plus lagged structure
	seed           uint64
}

// synthPanel returns a panel with columns city, region (4 levels), kind
// (3 levels), date (monthly from 2005-01), sales, listings and y. Some
// cities miss some months and some rows miss y.
func synthPanel(s panelSpec) *frame.Frame {
	rng := rand.New(rand.NewPCG(s.seed, 2))
	var city, region, kind []string
	var date, sales, listings, y []float64
	for c := range s.cities {
		level := 100 + 20*rng.NormFloat64()
		size := 50 + 30*rng.Float64()
		prev := level
		for m := range s.months {
			if rng.Float64() < 0.03 { // a gap in the panel
				continue
			}
			city = append(city, fmt.Sprintf("c%02d", c))
			region = append(region, fmt.Sprintf("r%d", c%4))
			kind = append(kind, fmt.Sprintf("k%d", rng.IntN(3)))
			date = append(date, ym(2005+m/12, m%12+1))
			sales = append(sales, size+5*rng.NormFloat64())
			listings = append(listings, 3*size+10*rng.NormFloat64())
			var v float64
			if s.noise {
				v = rng.NormFloat64()
			} else {
				prev = 0.7*prev + 0.3*(level+0.5*float64(m)) + 2*rng.NormFloat64()
				v = prev
			}
			if rng.Float64() < 0.02 {
				v = math.NaN()
			}
			y = append(y, v)
		}
	}
	return frame.MustNew(
		frame.NewCategoricalFromStrings("city", city),
		frame.NewCategoricalFromStrings("region", region),
		frame.NewCategoricalFromStrings("kind", kind),
		frame.NewDatetime("date", date),
		frame.NewNumeric("sales", sales),
		frame.NewNumeric("listings", listings),
		frame.NewNumeric("y", y),
	)
}

// splitBefore drops the rows with a missing target and splits the rest
// into those whose time column is before cutoff (train) and the others.
func splitBefore(f *frame.Frame, timeCol string, cutoff float64, target string) (train, test *frame.Frame) {
	tc, _ := f.Lookup(timeCol)
	yc, _ := f.Lookup(target)
	var tr, te []int
	for i := range f.NumRows() {
		if math.IsNaN(yc.Num[i]) {
			continue
		}
		if tc.Num[i] < cutoff {
			tr = append(tr, i)
		} else {
			te = append(te, i)
		}
	}
	return f.Take(tr), f.Take(te)
}

// advancedTransformers returns the three transformers configured for a
// synthPanel, each alone, and all three chained.
func advancedTransformers() map[string]Chain {
	temporal := Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "city", LagColumns: []string{"sales"}}
	market := Market{Segments: []string{"city", "region"}, Target: "y", Columns: []string{"sales", "listings"}, Seed: 3}
	inter := Interaction{Target: "y", Categorical: true, Seed: 3}
	return map[string]Chain{
		"temporal":    {temporal},
		"market":      {market},
		"interaction": {inter},
		"all":         {temporal, market, inter},
	}
}

// TestAdvancedProperties checks, for each transformer and the chain of
// all three: the fitted state depends on the training rows only; a test
// row's features depend neither on its target (leakage property b) nor
// on other test rows; and the JSON round trip transforms identically.
func TestAdvancedProperties(t *testing.T) {
	ctx := context.Background()
	full := synthPanel(panelSpec{cities: 8, months: 30, seed: 1})
	cutoff := ym(2006, 7)
	train, test := splitBefore(full, "date", cutoff, "y")
	for name, chain := range advancedTransformers() {
		t.Run(name, func(t *testing.T) {
			fc, trainOut, err := chain.FitTransform(ctx, train)
			if err != nil {
				t.Fatal(err)
			}
			state, err := json.Marshal(fc)
			if err != nil {
				t.Fatal(err)
			}
			out, err := fc.Transform(test)
			if err != nil {
				t.Fatal(err)
			}
			if out.NumCols() <= test.NumCols() {
				t.Fatalf("no columns added: %q", out.Names())
			}
			if trainOut.NumRows() != train.NumRows() || trainOut.NumCols() != out.NumCols() {
				t.Errorf("training frame %d×%d; want %d×%d", trainOut.NumRows(), trainOut.NumCols(), train.NumRows(), out.NumCols())
			}

			// (b) Shuffling the test targets, or dropping them, changes no
			// test-row feature.
			yc, _ := test.Lookup("y")
			ys := slices.Clone(yc.Num)
			rand.New(rand.NewPCG(9, 9)).Shuffle(len(ys), func(i, j int) { ys[i], ys[j] = ys[j], ys[i] })
			for i := range ys {
				ys[i] = ys[i]*10 + 1000
			}
			shuffled, _ := test.With(frame.NewNumeric("y", ys))
			out2, err := fc.Transform(shuffled)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameFrame(out, out2, "y"); err != nil {
				t.Errorf("test targets shuffled: features changed: %v", err)
			}
			out3, err := fc.Transform(test.Drop("y"))
			if err != nil {
				t.Fatalf("Transform without the target: %v", err)
			}
			if err := sameFrame(out.Drop("y"), out3); err != nil {
				t.Errorf("test targets dropped: features changed: %v", err)
			}

			// A test row's features do not depend on the other test rows.
			var odd []int
			for i := 1; i < test.NumRows(); i += 2 {
				odd = append(odd, i)
			}
			part, err := fc.Transform(test.Take(odd))
			if err != nil {
				t.Fatal(err)
			}
			if err := sameFrame(out.Take(odd), part); err != nil {
				t.Errorf("transforming a subset of the test rows: %v", err)
			}

			// Changing the test rows (here: other random values) leaves
			// the fitted state unchanged, since Fit sees train only.
			other := full
			for _, col := range []string{"y", "sales", "listings"} {
				c, _ := full.Lookup(col)
				v := slices.Clone(c.Num)
				dc, _ := full.Lookup("date")
				for i := range v {
					if dc.Num[i] >= cutoff {
						v[i] = -v[i] * 3
					}
				}
				other, _ = other.With(frame.NewNumeric(col, v))
			}
			otherTrain, otherTest := splitBefore(other, "date", cutoff, "y")
			if err := sameFrame(otherTest, test); err == nil {
				t.Fatal("test rows not changed")
			}
			fc2, err := chain.Fit(ctx, otherTrain)
			if err != nil {
				t.Fatal(err)
			}
			state2, _ := json.Marshal(fc2)
			if string(state) != string(state2) {
				t.Error("fitting twice on the same training rows gave different states")
			}

			// JSON round trip: identical output and identical encoding.
			var back FittedChain
			if err := json.Unmarshal(state, &back); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			again, err := back.Transform(test)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameFrame(out, again); err != nil {
				t.Errorf("decoded transformer: %v", err)
			}
			state3, _ := json.Marshal(back)
			if string(state) != string(state3) {
				t.Error("re-encoding the decoded transformer changed the JSON")
			}
		})
	}
}

func TestAdvancedDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ kind, data string }{
		{KindTemporal, `{}`},
		{KindTemporal, `{"version":1,"settings":{"time_column":"d","lags":[1],"windows":[]},"source":"datetime","unit":"day","origin":0,"step":0,"parts":[],"vars":[],"segments":[]}`},
		{KindTemporal, `{"version":1,"settings":{"time_column":"d","lags":[1],"windows":[]},"source":"datetime","unit":"day","origin":0,"step":1,"parts":["nope"],"vars":[],"segments":[]}`},
		{KindMarket, `{"version":2}`},
		{KindMarket, `{"version":1,"settings":{"segments":["s"]},"prior":[null],"segments":[]}`},
		{KindInteraction, `{"version":1,"settings":{"target":"y"},"ranked":[],"pairs":[{"a":"x","b":"y","op":"pow"}]}`},
		{KindInteraction, `{"version":1,"extra":true}`},
	} {
		if f, err := DecodeFitted(tt.kind, []byte(tt.data)); err == nil {
			t.Errorf("DecodeFitted(%q, %s) = %v; want error", tt.kind, tt.data, f)
		}
	}
	// A valid state decodes.
	if _, err := DecodeFitted(KindTemporal, []byte(`{"version":1,"settings":{"time_column":"d","lags":[1],"windows":[]},"source":"datetime","unit":"day","origin":0,"step":1,"parts":["dow"],"vars":[],"segments":null}`)); err != nil {
		t.Errorf("DecodeFitted of a valid temporal state: %v", err)
	}
}

// TestChainFitTransformOutOfFold checks that Chain passes a
// TrainTransformer's out-of-fold training frame on, while Fit and
// FitTransform give the same fitted chain.
func TestChainFitTransformOutOfFold(t *testing.T) {
	ctx := context.Background()
	train := marketTrain()
	chain := Chain{Market{Segments: []string{"seg"}, Target: "y", Folds: 3, MinCount: 1}, Drop{Columns: []string{"area"}}}
	fc, x, err := chain.FitTransform(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	fc2, err := chain.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := json.Marshal(fc)
	s2, _ := json.Marshal(fc2)
	if string(s1) != string(s2) {
		t.Errorf("Fit and FitTransform give different chains:\n%s\n%s", s1, s2)
	}
	if _, ok := x.Lookup("area"); ok {
		t.Error("FitTransform did not apply the last step")
	}
	inSample, err := fc.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	if sameFloats(column(t, x, "seg_y_te"), column(t, inSample, "seg_y_te")) {
		t.Error("FitTransform's training encodings equal the in-sample ones; want out-of-fold")
	}
}

// designAndFit encodes trainX and testX with a Design fitted on trainX
// (target dropped), fits learner and returns the test R².
func designAndFit(t *testing.T, learner model.Learner, spec DesignSpec, trainX, testX *frame.Frame, target string) float64 {
	t.Helper()
	ctx := context.Background()
	spec.DropColumns = append(spec.DropColumns, target)
	d, err := FitDesign(ctx, trainX, spec)
	if err != nil {
		t.Fatal(err)
	}
	xtr, err := d.Matrix(trainX)
	if err != nil {
		t.Fatal(err)
	}
	xte, err := d.Matrix(testX)
	if err != nil {
		t.Fatal(err)
	}
	ytr, _ := trainX.Lookup(target)
	yte, _ := testX.Lookup(target)
	m, err := learner.Fit(ctx, &model.Dataset{X: xtr, Y: ytr.Num, Task: model.Regression, FeatureNames: d.FeatureNames()}, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pred := make([]float64, xte.Rows)
	if err := m.Predict(pred, xte); err != nil {
		t.Fatal(err)
	}
	return r2(yte.Num, pred)
}

// r2 is the coefficient of determination of pred against y.
func r2(y, pred []float64) float64 {
	mean := nanMean(y)
	var sse, sst float64
	for i := range y {
		sse += (y[i] - pred[i]) * (y[i] - pred[i])
		sst += (y[i] - mean) * (y[i] - mean)
	}
	return 1 - sse/sst
}

var (
	treeSpec   = DesignSpec{Missing: true}
	linearSpec = DesignSpec{OneHot: true, Scale: true}
	quickGBDT  = gbdt.Params{NEstimators: 100, LearningRate: 0.1, MaxDepth: 4, Seed: 1}
)

// TestNoiseLeakage is acceptance check (a): with a pure-noise target and
// all three transformers on, models trained on the out-of-fold
// transformed training rows explain nothing on a temporal holdout, nor in
// a shuffled 3-fold cross-validation inside the training rows. A leaking
// target encoding or a same-period lag would show R² well above 0 here:
// as a control, the same cross-validation on in-sample encodings (what
// Fitted.Transform(train) gives) must exceed the bound. A segment "lot"
// of 300 small groups, without smoothing, makes that leak visible.
func TestNoiseLeakage(t *testing.T) {
	ctx := context.Background()
	full := synthPanel(panelSpec{cities: 40, months: 60, noise: true, seed: 5})
	lot := make([]string, full.NumRows())
	for i := range lot {
		lot[i] = fmt.Sprint("l", (i*7919)%300) // scattered across cities and months
	}
	full, _ = full.With(frame.NewCategoricalFromStrings("lot", lot))
	train, test := splitBefore(full, "date", ym(2009, 1), "y")
	chain := Chain{
		Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "city", LagColumns: []string{"sales"}},
		Market{Segments: []string{"city", "region", "lot"}, Target: "y", Columns: []string{"sales"}, Smoothing: -1, MinCount: 1, Seed: 3},
		Interaction{Target: "y", Categorical: true, Seed: 3},
	}
	fc, trainX, err := chain.FitTransform(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	testX, err := fc.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	// 0.02 is the acceptance bound of issue 4.
	const bound = 0.02
	for _, c := range []struct {
		name    string
		learner model.Learner
		spec    DesignSpec
	}{
		{"gbdt", quickGBDT, treeSpec},
		{"ridge", linear.Regression{Alpha: 1}, linearSpec},
	} {
		got := designAndFit(t, c.learner, c.spec, trainX, testX, "y")
		t.Logf("%s: holdout R² on a noise target = %.4f", c.name, got)
		if got > bound {
			t.Errorf("%s: holdout R² on a noise target = %.4f; want <= %v", c.name, got, bound)
		}
	}
	cv := cvR2(t, trainX, "y")
	t.Logf("gbdt: 3-fold CV R² inside train on a noise target = %.4f", cv)
	if cv > bound {
		t.Errorf("gbdt: CV R² on a noise target = %.4f; want <= %v", cv, bound)
	}
	inSample, err := fc.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	leaky := cvR2(t, inSample, "y")
	t.Logf("control: CV R² with in-sample (leaking) encodings = %.4f", leaky)
	if leaky <= bound {
		t.Errorf("control: CV R² with in-sample encodings = %.4f; want > %v (else the check cannot see a leak)", leaky, bound)
	}
}

// cvR2 returns the R² of a shuffled 3-fold cross-validation of quickGBDT
// on f (all columns but target are features).
func cvR2(t *testing.T, f *frame.Frame, target string) float64 {
	t.Helper()
	ctx := context.Background()
	fold := assignFolds(f.NumRows(), 3, 11)
	var y, pred []float64
	for k := range 3 {
		var in, out []int
		for i, fo := range fold {
			if fo == k {
				out = append(out, i)
			} else {
				in = append(in, i)
			}
		}
		tr, te := f.Take(in), f.Take(out)
		d, err := FitDesign(ctx, tr, DesignSpec{Missing: true, DropColumns: []string{target}})
		if err != nil {
			t.Fatal(err)
		}
		xtr, err := d.Matrix(tr)
		if err != nil {
			t.Fatal(err)
		}
		xte, err := d.Matrix(te)
		if err != nil {
			t.Fatal(err)
		}
		ytr, _ := tr.Lookup(target)
		yte, _ := te.Lookup(target)
		m, err := gbdt.Train(ctx, quickGBDT, &model.Dataset{X: xtr, Y: ytr.Num, Task: model.Regression}, nil, model.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := make([]float64, xte.Rows)
		if err := m.Predict(p, xte); err != nil {
			t.Fatal(err)
		}
		y, pred = append(y, yte.Num...), append(pred, p...)
	}
	return r2(y, pred)
}

// TestTxhousingLags is a sanity check on real data: txhousing (target
// median, volume left out), temporal split at 2012-09-01 as in
// shared/anchors/baselines.md. Lag features of median by city must beat
// the basic features on test R², for a GBDT and for ridge.
func TestTxhousingLags(t *testing.T) {
	if testing.Short() {
		t.Skip("reads testdata/txhousing.csv and fits four models")
	}
	ctx := context.Background()
	full, err := frame.ReadFile("../testdata/txhousing.csv", frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full = full.Drop("volume")
	if c, ok := full.Lookup("date"); !ok || c.Kind != frame.Datetime {
		t.Fatal("txhousing.csv: no datetime column date")
	}
	train, test := splitBefore(full, "date", ym(2012, 9), "median")
	if train.NumRows() != 6383 || test.NumRows() != 1603 {
		t.Fatalf("split %d/%d rows; want 6383/1603 as in the baselines", train.NumRows(), test.NumRows())
	}
	fc, trainX, err := Chain{Temporal{TimeColumn: "date", Target: "median", SegmentColumn: "city"}}.FitTransform(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	testX, err := fc.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	// The baselines drop date (year and month are columns).
	basicTrain, basicTest := train.Drop("date"), test.Drop("date")
	advTrain, advTest := trainX.Drop("date"), testX.Drop("date")
	for _, c := range []struct {
		name    string
		learner model.Learner
		spec    DesignSpec
	}{
		// The XGBoost(500, 0.05, d6) baseline's settings.
		{"gbdt", gbdt.Params{NEstimators: 500, LearningRate: 0.05, MaxDepth: 6, Seed: 42}, treeSpec},
		{"ridge", linear.Regression{Alpha: 1}, linearSpec},
	} {
		basic := designAndFit(t, c.learner, c.spec, basicTrain, basicTest, "median")
		adv := designAndFit(t, c.learner, c.spec, advTrain, advTest, "median")
		t.Logf("txhousing (no volume) %s: test R² basic %.4f, basic+temporal %.4f", c.name, basic, adv)
		if !(adv > basic) {
			t.Errorf("%s: temporal features do not improve test R² (%.4f -> %.4f)", c.name, basic, adv)
		}
	}
}
