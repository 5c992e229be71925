package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// TestDecodePredictorTarget loads a saved binary gbdt whose header's
// target was damaged: class labels that do not fit the model are a
// corrupt file, not a predictor that panics indexing them at predict
// time (found by FuzzDecodePredictor: "clasres" for "classes").
func TestDecodePredictorTarget(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.Out = data, "Status", []string{"gbdt"}, t.TempDir()
	cfg.CVFolds, cfg.ForceProductionQuality = 0, false
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 3, "max_depth": 2}}
	_, p := trainSaved(t, cfg)
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_, payload, err := model.DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	all, err := frame.ReadFile(data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := all.Take([]int{0, 1, 2})
	for _, tt := range []struct {
		task    string
		classes []string
		ok      bool
	}{
		{"binary", p.Target.Classes, true},
		{"binary", nil, false},
		{"binary", []string{"good"}, false},
		{"binary", []string{"good", "bad", "ugly"}, false},
		{"multiclass", []string{"good", "bad"}, false}, // the model scores one output
	} {
		got, err := decodePredictor(withTarget(t, payload, tt.task, tt.classes), Families())
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("%s target with classes %q: error %v; want ok %v or a corrupt file", tt.task, tt.classes, err, tt.ok)
			continue
		}
		if err == nil {
			if _, err := got.Predict(x); err != nil {
				t.Errorf("%s target with classes %q: Predict: %v", tt.task, tt.classes, err)
			}
		}
	}
}

// withTarget is payload with its header's target task and classes
// replaced.
func withTarget(t *testing.T, payload []byte, task string, classes []string) []byte {
	n := binary.LittleEndian.Uint64(payload)
	var head map[string]any
	if err := json.Unmarshal(payload[8:8+n], &head); err != nil {
		t.Fatal(err)
	}
	head["target"] = map[string]any{"name": "Status", "task": task, "classes": classes}
	h, err := json.Marshal(head)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), payload[8+n:]...)
}
