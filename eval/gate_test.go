package eval

import (
	"encoding/json"
	"math"
	"testing"
)

// TestGateJSON: a gate on an undefined metric (R² of one test row) is
// written with a null value, not an encoding error that loses the run's
// result, and reads back as NaN.
func TestGateJSON(t *testing.T) {
	gates := []Gate{
		{Name: "min_r2_threshold", Metric: "r2", Threshold: 0.75, Value: math.NaN()},
		{Name: "min_business_accuracy", Metric: "within20", Threshold: 70, Value: 81.5, Passed: true},
	}
	b, err := json.Marshal(gates)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"min_r2_threshold","metric":"r2","threshold":0.75,"passed":false,"value":null},` +
		`{"name":"min_business_accuracy","metric":"within20","threshold":70,"passed":true,"value":81.5}]`
	if string(b) != want {
		t.Errorf("encoded %s\nwant    %s", b, want)
	}
	var back []Gate
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || !math.IsNaN(back[0].Value) || back[1] != gates[1] || back[0].Name != gates[0].Name {
		t.Errorf("decoded %+v; want %+v with NaN read back", back, gates)
	}
}
