package explain

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/progress"
)

// imputed returns d with every NaN replaced by its column's mean, so that
// linear members (which refuse NaN) can join tree members on it.
func imputed(d *model.Dataset) *model.Dataset {
	out := *d
	out.X = model.NewMatrix(d.X.Rows, d.X.Cols)
	copy(out.X.Data, d.X.Data)
	for j := range d.X.Cols {
		sum, n := 0.0, 0
		for r := range d.X.Rows {
			if v := d.X.At(r, j); !math.IsNaN(v) {
				sum, n = sum+v, n+1
			}
		}
		for r := range d.X.Rows {
			if math.IsNaN(out.X.At(r, j)) {
				out.X.Data[r*d.X.Cols+j] = sum / float64(max(1, n))
			}
		}
	}
	return &out
}

// stacking fits a stacking ensemble of members on d, their in-sample
// predictions standing in for out-of-fold ones (any predictions make a
// meta-learner to explain).
func stacking(t *testing.T, d *model.Dataset, passthrough bool, members ...model.Model) *ensemble.Model {
	t.Helper()
	oof := make([][]float64, len(members))
	for i, m := range members {
		oof[i] = predict(t, m, d.X)
	}
	o := ensemble.StackingOptions{}
	if passthrough {
		o.Passthrough = d.X
	}
	m, err := ensemble.FitStacking(context.Background(), members, oof, d.Y, d.Task, d.NumClasses, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func voting(t *testing.T, w []float64, members ...model.Model) *ensemble.Model {
	t.Helper()
	m, err := ensemble.Voting(members, w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEnsembleSHAPLocalAccuracy explains every ensemble kind the exact
// path supports on the Ames housing data: the values with the base add
// up to the ensemble's prediction (or, for logistic stacking, its
// meta-learner's log-odds) to 1e-9, and Explain picks the exact path.
func TestEnsembleSHAPLocalAccuracy(t *testing.T) {
	reg, bin := amesData(t)
	reg, bin = imputed(reg), imputed(bin)
	multi := tertiles(reg)
	gb := fitGBDT(t, reg, gbdt.Params{NEstimators: 30, MaxDepth: 4})
	fo := fitForest(t, reg, 8, 6)
	ri := fitRidge(t, reg)
	trB, foB := fitTree(t, bin, 5), fitForest(t, bin, 6, 5)
	trM, foM := fitTree(t, multi, 5), fitForest(t, multi, 6, 5)
	for _, tc := range []struct {
		name   string
		m      *ensemble.Model
		d      *model.Dataset
		method Method
		output Output
	}{
		{"voting-regression", voting(t, []float64{0.5, 0.3, 0.2}, gb, fo, ri), reg, MethodCombined, OutputPrediction},
		{"voting-trees", voting(t, nil, gb, fo), reg, MethodTree, OutputPrediction},
		{"voting-binary", voting(t, []float64{1, 3}, trB, foB), bin, MethodTree, OutputPrediction},
		{"voting-multiclass", voting(t, nil, trM, foM), multi, MethodTree, OutputPrediction},
		{"stacking-regression", stacking(t, reg, false, gb, fo, ri), reg, MethodCombined, OutputPrediction},
		{"stacking-passthrough", stacking(t, reg, true, gb, ri), reg, MethodCombined, OutputPrediction},
		{"stacking-binary", stacking(t, bin, false, trB, foB), bin, MethodTree, OutputMargin},
		{"stacking-multiclass", stacking(t, multi, true, trM, foM), multi, MethodTree, OutputMargin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := head(tc.d.X, 40)
			v, err := Explain(context.Background(), tc.m, x, Options{Workers: 2, FeatureNames: tc.d.FeatureNames})
			if err != nil {
				t.Fatal(err)
			}
			if v.Method != tc.method || v.Output != tc.output || !v.Exact {
				t.Fatalf("method %s output %s exact %v; want %s %s exact (notes %q)", v.Method, v.Output, v.Exact, tc.method, tc.output, v.Notes)
			}
			want := predict(t, tc.m, x)
			if tc.output == OutputMargin {
				want = stackingMargin(t, tc.m, x)
			}
			if _, err := v.CheckLocalAccuracy(want, 1e-9); err != nil {
				t.Fatal(err)
			}
			if _, err := v.CheckLocalAccuracy(want, v.Tolerance); err != nil {
				t.Fatalf("stated tolerance: %v", err)
			}
		})
	}
}

// stackingMargin is a stacking ensemble's meta-learner margin on x.
func stackingMargin(t *testing.T, m *ensemble.Model, x *model.Matrix) []float64 {
	k := m.NumOutputs()
	var preds [][]float64
	for _, mm := range m.Members() {
		preds = append(preds, predict(t, mm, x))
	}
	cols := len(preds)*k + m.Passthrough()
	z := model.NewMatrix(x.Rows, cols)
	for r := range x.Rows {
		for i, p := range preds {
			copy(z.Row(r)[i*k:], p[r*k:(r+1)*k])
		}
		if m.Passthrough() > 0 {
			copy(z.Row(r)[len(preds)*k:], x.Row(r))
		}
	}
	out := make([]float64, x.Rows*k)
	LinearMargin(m.Meta(), out, z)
	return out
}

// TestEnsembleSHAPIsTheMembersCombined checks the values themselves, not
// only their sum: a voting ensemble's are its weights times its members'.
func TestEnsembleSHAPIsTheMembersCombined(t *testing.T) {
	d := synth(model.Regression, 300, 6, 7, false)
	a, b := fitGBDT(t, d, gbdt.Params{NEstimators: 10, MaxDepth: 3}), fitRidge(t, d)
	x := head(d.X, 10)
	v, err := EnsembleSHAP(context.Background(), voting(t, []float64{3, 1}, a, b), x, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	va, err := Explain(context.Background(), a, x, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vb, err := Explain(context.Background(), b, x, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for r := range x.Rows {
		for j := range 6 {
			want := 0.75*va.Row(r, 0)[j] + 0.25*vb.Row(r, 0)[j]
			if got := v.Row(r, 0)[j]; math.Abs(got-want) > 1e-12 {
				t.Fatalf("row %d feature %d: %v; want 0.75·%v + 0.25·%v", r, j, got, va.Row(r, 0)[j], vb.Row(r, 0)[j])
			}
		}
	}
}

// TestEnsembleSHAPAgreesWithKernelSHAP compares the exact ensemble path
// with KernelSHAP on the same ensemble. KernelSHAP estimates
// interventional Shapley values over its background; TreeSHAP's
// path-dependent values equal those only for additive trees, so the
// members are depth-1 boosted stumps (their covers are training counts
// under squared error: the background is the training data) and a ridge
// model (linear SHAP uses its training means). With 8 features KernelSHAP
// enumerates every coalition, so its answer is exact too and the
// tolerance is rounding: 1e-8.
func TestEnsembleSHAPAgreesWithKernelSHAP(t *testing.T) {
	const p = 8
	d := synth(model.Regression, 200, p, 17, false)
	stumps := fitGBDT(t, d, gbdt.Params{NEstimators: 40, MaxDepth: 1, Subsample: 1})
	m := voting(t, []float64{0.6, 0.4}, stumps, fitRidge(t, d))
	x := head(d.X, 6)
	exact, err := Explain(context.Background(), m, x, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kern, err := KernelSHAP(context.Background(), m.Predict, 1, x, &Background{X: d.X}, KernelOptions{Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if exact.Method != MethodCombined || !kern.Exact {
		t.Fatalf("methods %s and %s (kernel exact %v); want combined and an enumerated KernelSHAP", exact.Method, kern.Method, kern.Exact)
	}
	if d := maxAbsDiff(exact.Values, kern.Values); d > 1e-8 {
		t.Fatalf("exact ensemble values differ from KernelSHAP's by %g", d)
	}
	if d := math.Abs(exact.BaseValue[0] - kern.BaseValue[0]); d > 1e-8 {
		t.Fatalf("base values %v and %v", exact.BaseValue[0], kern.BaseValue[0])
	}
}

// TestEnsembleInterventional covers ensembles whose combination is not
// linear in what the members' exact explainers decompose, but whose
// members InterventionalSHAP explains: Explain gives the members'
// interventional values against the background, combined, saying which
// link; they add up to the ensemble's prediction from its mean
// prediction over the background, and the rows are reported over all
// members in order.
func TestEnsembleInterventional(t *testing.T) {
	reg := synth(model.Regression, 300, 5, 23, false)
	pos := *reg
	pos.Y = make([]float64, len(reg.Y))
	for i, y := range reg.Y {
		pos.Y[i] = math.Abs(y)
	}
	bin := synth(model.Binary, 300, 5, 24, false)
	multi := synth(model.Multiclass, 300, 5, 25, false)
	logGB, err := (&model.LogTargetLearner{Inner: gbdt.Params{NEstimators: 10, MaxDepth: 3}}).Fit(context.Background(), &pos, model.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, link string
		m          *ensemble.Model
		d          *model.Dataset
	}{
		{"gbdt-classifier", "sigmoid", voting(t, nil, fitGBDT(t, bin, gbdt.Params{NEstimators: 10, MaxDepth: 3}), fitForest(t, bin, 4, 4)), bin},
		{"logistic-stacking", "sigmoid", stacking(t, bin, false, fitLogistic(t, bin), fitTree(t, bin, 4)), bin},
		{"log-target", "exp", voting(t, nil, logGB, fitForest(t, &pos, 4, 4)), &pos},
		{"multiclass", "softmax", voting(t, nil, fitGBDT(t, multi, gbdt.Params{NEstimators: 5, MaxDepth: 3}), fitForest(t, multi, 4, 4), fitLogistic(t, multi)), multi},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, p := head(tc.d.X, 7), tc.d.X.Cols
			bg := &model.Matrix{Rows: 60, Cols: p, Data: tc.d.X.Data[200*p : 260*p]}
			var events []progress.Event
			v, err := Explain(context.Background(), tc.m, x, Options{Background: bg, Workers: 2,
				Progress: func(e progress.Event) { events = append(events, e) }})
			if err != nil {
				t.Fatal(err)
			}
			notes := strings.Join(v.Notes, "; ")
			if v.Method != MethodInterventional || !strings.Contains(notes, "interventional SHAP over 60 background rows") || !strings.Contains(notes, tc.link+" link") {
				t.Fatalf("method %s, notes %q; want interventional SHAP through the %s link", v.Method, v.Notes, tc.link)
			}
			want := predict(t, tc.m, x)
			if v.Output == OutputMargin {
				want = stackingMargin(t, tc.m, x)
			}
			if _, err := v.CheckLocalAccuracy(want, 1e-9); err != nil {
				t.Fatal(err)
			}
			if v.Output == OutputPrediction {
				mean := make([]float64, v.Outputs)
				for i, f := range predict(t, tc.m, bg) {
					mean[i%v.Outputs] += f / float64(bg.Rows)
				}
				if maxAbsDiff(v.BaseValue, mean) > 1e-12 {
					t.Errorf("base value %v; the mean prediction over the background is %v", v.BaseValue, mean)
				}
			}
			costs := make([]float64, len(tc.m.Members()))
			for i, mm := range tc.m.Members() {
				if costs[i], err = ProbeCost(context.Background(), mm, x, bg, 0); err != nil {
					t.Fatal(err)
				}
			}
			checkMemberEvents(t, events, costs, x.Rows)
		})
	}
}

// checkMemberEvents checks the events of members explained one after
// another over rows rows each, costs[i] the cost of member i's row: one
// event per row and a first Step 0, Steps rising to Total =
// members·rows, and the Step after each member's last row its share of
// the total cost (rounded).
func checkMemberEvents(t *testing.T, events []progress.Event, costs []float64, rows int) {
	t.Helper()
	total := len(costs) * rows
	if len(events) != total+1 || events[0].Step != 0 || events[total].Step != total {
		t.Fatalf("%d progress events; want Steps 0 to %d", len(events), total)
	}
	sum, done := 0.0, 0.0
	for _, c := range costs {
		sum += c
	}
	for i, c := range costs {
		done += c
		if e, want := events[(i+1)*rows], math.Round(done/sum*float64(total)); float64(e.Step) != want {
			t.Errorf("after member %d: Step %d of %d; want %v, its share of the cost", i, e.Step, total, want)
		}
	}
	for i, e := range events {
		if e.Total != total || e.Name != string(MethodInterventional) || (i > 0 && e.Step < events[i-1].Step) {
			t.Fatalf("event %d = %+v after Step %d; want a Step of %d, not falling", i, e, events[max(0, i-1)].Step, total)
		}
	}
}

// TestMemberProgressWeighsCost: two members of 4 rows each whose rows
// cost 3 and 1 report 8 row-equivalents of work: the first member's
// rows 1.5 each, the second's 0.5 (rounded half away from zero), so
// that the time left, estimated from the pace so far, holds. Equal
// costs count rows.
func TestMemberProgressWeighsCost(t *testing.T) {
	for _, tc := range []struct {
		costs []float64
		want  []int
	}{
		{[]float64{3, 1}, []int{0, 2, 3, 5, 6, 7, 7, 8, 8}},
		{[]float64{2, 2}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{[]float64{0, 0}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
	} {
		var got []int
		for i := range tc.costs {
			pf := MemberProgress(func(e progress.Event) {
				if e.Total != 8 {
					t.Fatalf("costs %v: Total %d; want 8", tc.costs, e.Total)
				}
				got = append(got, e.Step)
			}, tc.costs, i, 4)
			for s := range 5 {
				pf(progress.Event{Stage: progress.ExplainRow, Step: s, Total: 4})
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("costs %v: Steps %v; want %v", tc.costs, got, tc.want)
		}
	}
}

// TestMemberProgressNoRows: members explained over zero rows report
// one event, Step and Total 0; the share of the work done used to be
// 0/0, and its NaN became a Step of math.MinInt64 on amd64.
func TestMemberProgressNoRows(t *testing.T) {
	for _, costs := range [][]float64{{3, 1}, {0, 0}} {
		var got []progress.Event
		for i := range costs {
			pf := MemberProgress(func(e progress.Event) { got = append(got, e) }, costs, i, 0)
			pf(progress.Event{Stage: progress.ExplainRow, Step: 0, Total: 0})
		}
		if len(got) != 1 || got[0].Step != 0 || got[0].Total != 0 {
			t.Errorf("costs %v over 0 rows: events %+v; want one, Step 0 of 0", costs, got)
		}
	}
}

// TestEnsembleSHAPFallsBack covers ensembles neither the exact nor the
// interventional path explains (a custom member, a meta-learner's
// passthrough columns): Explain uses
// KernelSHAP and says why.
func TestEnsembleSHAPFallsBack(t *testing.T) {
	reg := synth(model.Regression, 300, 5, 23, false)
	bin := synth(model.Binary, 300, 5, 24, false)
	for _, tc := range []struct {
		name, why string
		m         *ensemble.Model
		d         *model.Dataset
	}{
		{"custom-member", "interventional SHAP explains tree", voting(t, nil, notTree{5}, fitTree(t, reg, 4)), reg},
		{"passthrough", "passthrough", stacking(t, bin, true, fitLogistic(t, bin), fitTree(t, bin, 4)), bin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := head(tc.d.X, 4)
			v, err := Explain(context.Background(), tc.m, x, Options{Background: tc.d.X, BackgroundSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			if v.Method != MethodKernel || len(v.Notes) == 0 || !strings.Contains(v.Notes[0], tc.why) || !strings.Contains(v.Notes[0], "KernelSHAP") {
				t.Fatalf("method %s, notes %q; want KernelSHAP with a note saying %q", v.Method, v.Notes, tc.why)
			}
			if _, err := EnsembleSHAP(context.Background(), tc.m, x, 1, nil); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("EnsembleSHAP error %v; want ErrUnsupported", err)
			}
			want := predict(t, tc.m, x)
			if v.Output == OutputMargin {
				want = stackingMargin(t, tc.m, x)
			}
			if _, err := v.CheckLocalAccuracy(want, v.Tolerance); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCombineSHAPUnweighedMember: a member greedy selection gives weight
// 0 (pipeline passes zero values without a method for it) does not turn
// the combined values into "combined" ones nor join the note's list of
// methods; the weighed member's method and exactness carry over.
func TestCombineSHAPUnweighedMember(t *testing.T) {
	d := synth(model.Binary, 300, 5, 27, false)
	x, bg := head(d.X, 4), &model.Matrix{Rows: 20, Cols: 5, Data: d.X.Data[100*5 : 120*5]}
	v, err := InterventionalSHAP(context.Background(), fitGBDT(t, d, gbdt.Params{NEstimators: 5, MaxDepth: 3}), x, bg, InterventionalOptions{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := &Values{Rows: 4, Outputs: 1, Features: 5, Values: make([]float64, 20), BaseValue: make([]float64, 1), Exact: true}
	c, err := ensemble.VotingCombiner(2, 1, []float64{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	got, err := CombineSHAP(c, []*Values{v, zero})
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != MethodInterventional || got.Exact || !strings.Contains(got.Notes[0], "(interventional SHAP)") {
		t.Fatalf("method %s, exact %v, notes %q; want interventional, not exact, the note naming it alone", got.Method, got.Exact, got.Notes)
	}
	if d := maxAbsDiff(got.Values, v.Values); d > 0 {
		t.Fatalf("values differ from the weighed member's by %g", d)
	}
}
