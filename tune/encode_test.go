package tune

import (
	"context"
	"fmt"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestEncodeRoundTrip enqueues Encode(params) as a trial and checks that
// Sample gives params back: Encode is Sample's inverse on the default
// spaces, hidden branch choices included.
func TestEncodeRoundTrip(t *testing.T) {
	tests := []struct {
		family string
		task   model.Task
		params map[string]any
	}{
		{"gbdt", model.Regression, map[string]any{"n_estimators": 2000, "early_stopping_rounds": 50, "validation_fraction": 0.1,
			"learning_rate": 0.05, "max_depth": 6, "min_child_weight": 2.0, "subsample": 0.8, "colsample_bytree": 0.7, "lambda": 0.01, "alpha": 0.1}},
		{"gbdt", model.Binary, map[string]any{"n_estimators": 300, "learning_rate": 0.1, "max_depth": 4, "min_child_weight": 1.0,
			"subsample": 1.0, "colsample_bytree": 1.0, "lambda": 1.0, "alpha": 0.001}},
		{"forest", model.Binary, map[string]any{"max_depth": 12, "min_samples_leaf": 3, "max_features": 0.33, "criterion": "entropy"}},
		{"forest", model.Regression, map[string]any{"min_samples_leaf": 1, "max_features": "sqrt"}},
		{"ridge", model.Regression, map[string]any{"alpha": 10.0}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.family, tt.params), func(t *testing.T) {
			space := SpaceFor(tt.family, tt.task)
			vals, dists, ok := space.Encode(tt.params)
			if !ok {
				t.Fatalf("Encode(%v) found no parameter", tt.params)
			}
			got := sampleEnqueued(t, space, vals, dists)
			if fmt.Sprint(got) != fmt.Sprint(tt.params) {
				t.Errorf("Sample(Encode(p)) = %v; want %v", got, tt.params)
			}
		})
	}
}

func sampleEnqueued(t *testing.T, space Space, vals map[string]float64, dists map[string]Distribution) map[string]any {
	t.Helper()
	ctx := context.Background()
	s, err := NewStudy(ctx, "encode", Config{Direction: Minimize, Storage: &Memory{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, vals, dists); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if _, err := s.Optimize(ctx, func(_ context.Context, tr *Trial) (float64, error) {
		got = space.Sample(tr)
		return 0, nil
	}, Budget{MaxTrials: 1}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestEncodeClampsAndSkips checks that an out-of-range value is clamped
// and that unknown parameters are ignored.
func TestEncodeClampsAndSkips(t *testing.T) {
	vals, _, ok := SpaceFor("ridge", model.Regression).Encode(map[string]any{"alpha": 1e9, "unknown": 3})
	if !ok || vals["alpha"] != 1e3 || len(vals) != 1 {
		t.Errorf("Encode = %v, %v; want alpha clamped to 1e3 alone", vals, ok)
	}
	if _, _, ok := SpaceFor("ridge", model.Regression).Encode(map[string]any{"c": 1.0}); ok {
		t.Error("Encode of no shared parameter reported ok")
	}
}
