package gbdt

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestLatestHoldout: with time keys the held-out rows are the latest
// ones, rows sharing a time stay on one side, and the cut goes to the
// time boundary nearest to nv rows from the end (the earlier of two
// equally near), as split.Latest cuts the train/test split.
func TestLatestHoldout(t *testing.T) {
	tests := []struct {
		name  string
		times []float64
		nv    int
		want  []int // held-out rows, sorted
	}{
		{"distinct", []float64{5, 1, 4, 2, 3}, 2, []int{0, 2}},
		// The cut at position 5 falls one row before the end of the run
		// of 3s (positions 2-5): the run stays in training.
		{"cut near a run's end moves forward", []float64{1, 2, 3, 3, 3, 3, 4}, 2, []int{6}},
		{"cut near a run's end, rows unsorted", []float64{3, 4, 1, 3, 3, 2, 3}, 2, []int{1}},
		// The cut at position 3 falls one row after the run's start (2).
		{"cut near a run's start moves back", []float64{1, 2, 3, 3, 3, 3, 4, 5}, 5, []int{2, 3, 4, 5, 6, 7}},
		{"equally near: the earlier boundary", []float64{1, 2, 2, 3}, 2, []int{1, 2, 3}},
		{"run at the end holds more than nv", []float64{1, 2, 3, 3, 3, 4}, 1, []int{5}},
		{"run at the end holds more than nv, half the rows", []float64{1, 2, 3, 3, 3, 0}, 1, []int{2, 3, 4}},
		{"run at the end holds more than half, not twice nv", []float64{1, 2, 2, 2}, 2, []int{1, 2, 3}},
		// Moving back would leave no training row: the run goes to training.
		{"run at the start", []float64{1, 1, 1, 1, 1, 1, 2, 3}, 6, []int{6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid, train, ok := latest(tt.times, tt.nv)
			if !ok {
				t.Fatalf("latest(%v, %d) found no time boundary", tt.times, tt.nv)
			}
			slices.Sort(valid)
			if !slices.Equal(valid, tt.want) {
				t.Errorf("latest(%v, %d) held out %v; want %v", tt.times, tt.nv, valid, tt.want)
			}
			if len(valid)+len(train) != len(tt.times) || len(train) == 0 {
				t.Errorf("split %v / %v does not partition %d rows with training rows left", valid, train, len(tt.times))
			}
			for _, v := range valid {
				for _, r := range train {
					if tt.times[r] >= tt.times[v] {
						t.Errorf("training row %d (time %v) is not before held-out row %d (time %v)", r, tt.times[r], v, tt.times[v])
					}
				}
			}
		})
	}
}

// TestHoldoutRandomFallback: when time cannot give a holdout near the
// asked share, the holdout is the seeded random draw of that share. With
// one time for every row time orders nothing (holding out only the last
// row, as before, left early stopping one row to watch); with the latest
// time holding most rows, its rows were held out and early stopping fitted
// on the few before it.
func TestHoldoutRandomFallback(t *testing.T) {
	for _, tt := range []struct {
		name  string
		early int // rows at time 0; the rest are at time 1
	}{
		{"one time", 200},
		{"latest time holds most rows", 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := synthTask(model.Regression, 200, 2)
			d.Time = make([]float64, d.X.Rows)
			for i := tt.early; i < d.X.Rows; i++ {
				d.Time[i] = 1
			}
			train, valid := holdout(d, 0.1, 3)
			if got, want := valid.X.Rows, 20; got != want { // round(0.1 × 200)
				t.Errorf("held out %d rows; want %d", got, want)
			}
			if train.X.Rows+valid.X.Rows != d.X.Rows {
				t.Errorf("%d + %d rows; want %d", train.X.Rows, valid.X.Rows, d.X.Rows)
			}
			untimed := *d
			untimed.Time = nil
			_, want := holdout(&untimed, 0.1, 3)
			if !slices.Equal(valid.Y, want.Y) {
				t.Errorf("held-out targets %v; want the untimed draw's %v", valid.Y, want.Y)
			}
		})
	}
}

// TestEarlyStoppingOneRow: a one-row fit (the first fold of an as-of
// split can be that small) has nothing to hold out and trains without
// early stopping, with or without times.
func TestEarlyStoppingOneRow(t *testing.T) {
	for _, timed := range []bool{false, true} {
		d := synthTask(model.Regression, 1, 2)
		if timed {
			d.Time = []float64{7}
		}
		p := Params{NEstimators: 5, LearningRate: 0.3, EarlyStoppingRounds: 10, ValidationFraction: 0.2, Refit: true, Seed: 3}
		m, err := p.Fit(context.Background(), d, model.FitOptions{})
		if err != nil {
			t.Fatalf("timed %v: %v", timed, err)
		}
		if got := m.(*Model).Rounds(); got != 5 {
			t.Errorf("timed %v: %d rounds; want all 5 (no early stopping)", timed, got)
		}
	}
}

// TestPooledStopRates: a refit pools the stop rates of other fits (the CV
// folds') with its own, and says what it found itself; without early
// stopping a model has no rate.
func TestPooledStopRates(t *testing.T) {
	for _, task := range []model.Task{model.Regression, model.Binary, model.Multiclass} {
		t.Run(string(task), func(t *testing.T) {
			d := synthTask(task, 2000, 4)
			p := Params{NEstimators: 2000, LearningRate: 0.3, EarlyStoppingRounds: 10, ValidationFraction: 0.2, Refit: true, Seed: 3}
			alone, err := p.Fit(context.Background(), d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			own, ok := model.StopRate(alone)
			if !ok {
				t.Fatal("an early-stopped refit reports no stop rate")
			}
			other := 3 * own
			pooled, err := p.PoolStopRates([]float64{other}).Fit(context.Background(), d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			want := int(math.Round((own + other) / 2 * float64(d.X.Rows)))
			if got := pooled.(*Model).Rounds(); got != want {
				t.Errorf("pooled refit holds %d rounds; want %d (mean of %.4f and %.4f per row × %d rows); alone %d",
					got, want, own, other, d.X.Rows, alone.(*Model).Rounds())
			}
			if got, _ := model.StopRate(pooled); got != own {
				t.Errorf("pooled refit's own stop rate = %v; want %v, the rate its holdout found", got, own)
			}
			fixed := Params{NEstimators: 20, LearningRate: 0.3, Seed: 3}
			m, err := fixed.Fit(context.Background(), d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := model.StopRate(m); ok {
				t.Errorf("a model without early stopping reports stop rate %v", r)
			}
		})
	}
}

// TestEarlyStoppingRefit: Fit stops early on its held-out rows, keeps the
// best round, and with Refit trains again on every row for the scaled
// number of rounds, for every task.
func TestEarlyStoppingRefit(t *testing.T) {
	for _, task := range []model.Task{model.Regression, model.Binary, model.Multiclass} {
		t.Run(string(task), func(t *testing.T) {
			d := synthTask(task, 3000, 4)
			d.Time = make([]float64, d.X.Rows)
			for i := range d.Time {
				d.Time[i] = float64(i / 10)
			}
			p := Params{NEstimators: 2000, LearningRate: 0.3, EarlyStoppingRounds: 10, ValidationFraction: 0.2, Seed: 3}
			stopped, err := p.Fit(context.Background(), d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			best := stopped.(*Model).Rounds()
			if best <= 0 || best >= 2000-10 {
				t.Fatalf("early stopping kept %d rounds of 2000", best)
			}
			p.Refit = true
			refit, err := p.Fit(context.Background(), d, model.FitOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			want := refitRounds([]float64{float64(best) / float64(d.X.Rows-600)}, d.X.Rows)
			if got := refit.(*Model).Rounds(); got != want || want <= best {
				t.Errorf("refit holds %d rounds; want %d (best %d scaled by 3000/2400)", got, want, best)
			}
		})
	}
}

// TestFitKeepsRareClassInTraining: with one positive among 60 rows, the
// early-stopping holdout drew it for some seeds, leaving the fit rows of
// one class, and Fit failed ("every training label is class 0") where
// Train alone fits. The holdout now leaves every class a training row.
func TestFitKeepsRareClassInTraining(t *testing.T) {
	d := synthTask(model.Binary, 60, 3)
	d.Y = make([]float64, 60)
	d.Y[17] = 1
	drawn := 0
	for seed := range uint64(40) {
		p := Params{NEstimators: 20, EarlyStoppingRounds: 5, ValidationFraction: 0.2, Seed: seed}
		perm := stream(seed, stageHoldout, 0).Perm(60)
		if slices.Contains(perm[:12], 17) {
			drawn++
		}
		if _, err := p.Fit(context.Background(), d, model.FitOptions{}); err != nil {
			t.Errorf("seed %d: Fit: %v", seed, err)
		}
	}
	if drawn == 0 {
		t.Fatal("no seed drew the positive into the holdout; the test checks nothing")
	}
}
