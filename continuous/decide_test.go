package continuous

import (
	"slices"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
)

// TestBlocking: a failed r2 floor blocks a challenger unless the champion
// scores lower than the challenger on the same rows; other gates always
// block.
func TestBlocking(t *testing.T) {
	floor := pipeline.Gate{Name: "min_r2_threshold", Metric: "r2", Threshold: 0.75, Value: 0.6}
	rule := pipeline.Gate{Name: "rule", Metric: "r2", Detail: "price below cost"}
	latency := pipeline.Gate{Name: "max_latency", Metric: "latency_ms", Threshold: 5, Value: 9, Max: true}
	for _, tc := range []struct {
		name   string
		gates  pipeline.Gates
		champ  float64
		blocks int
	}{
		{"floor, champion worse", pipeline.Gates{floor}, 0.5, 0},
		{"floor, champion better", pipeline.Gates{floor}, 0.7, 1},
		{"floor, a tie", pipeline.Gates{floor}, 0.6, 0},
		{"rule", pipeline.Gates{floor, rule}, 0.5, 1},
		{"latency", pipeline.Gates{latency}, 0.5, 1},
		{"passed", pipeline.Gates{{Name: "min_r2_threshold", Metric: "r2", Passed: true}}, 0.5, 0},
	} {
		d := &Decision{Metric: "r2", ChampionScore: tc.champ, ChallengerScore: 0.6}
		if got := blocking(tc.gates, d); len(got) != tc.blocks {
			t.Errorf("%s: blocking = %q; want %d", tc.name, got, tc.blocks)
		}
	}
	if got := blocking(pipeline.Gates{floor}, &Decision{Metric: "r2", ChampionScore: 0.7}); !slices.Equal(got, pipeline.Gates{floor}.Failures()) {
		t.Errorf("blocking = %q; want the gate's failure", got)
	}
}
