package gbdt

import (
	"context"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestLatestHoldout: with time keys the held-out rows are the latest ones,
// and rows sharing a time stay on one side.
func TestLatestHoldout(t *testing.T) {
	tests := []struct {
		name  string
		times []float64
		nv    int
		want  []int // held-out rows, sorted
	}{
		{"distinct", []float64{5, 1, 4, 2, 3}, 2, []int{0, 2}},
		{"tie at the cut moves it back", []float64{1, 2, 3, 3, 3, 4}, 2, []int{2, 3, 4, 5}},
		{"one time for all but the first", []float64{1, 2, 2, 2}, 1, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid, train := latest(tt.times, tt.nv)
			slices.Sort(valid)
			if !slices.Equal(valid, tt.want) {
				t.Errorf("held out %v, want %v", valid, tt.want)
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
			want := refitRounds(best, d.X.Rows-600, d.X.Rows)
			if got := refit.(*Model).Rounds(); got != want || want <= best {
				t.Errorf("refit holds %d rounds; want %d (best %d scaled by 3000/2400)", got, want, best)
			}
		})
	}
}
