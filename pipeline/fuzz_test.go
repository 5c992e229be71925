package pipeline

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// fuzzSeeds trains small real models on credit_data (a single gbdt, a
// logistic, a tree, and an ensemble) and returns their saved
// payloads, the gbdt's XGBoost JSON and rows to predict.
func fuzzSeeds(f *testing.F) (payloads [][]byte, xgb []byte, x *frame.Frame) {
	f.Helper()
	data := filepath.Join("..", "testdata", "credit_data.csv")
	all, err := frame.ReadFile(data, frame.ReadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	x = all.Take([]int{0, 1, 2, 3, 4, 5, 6, 7})
	for _, models := range [][]string{{"gbdt"}, {"logistic"}, {"tree"}, {"logistic", "tree"}} {
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Models, cfg.Out = data, "Status", models, f.TempDir()
		cfg.CVFolds = 0
		if len(models) > 1 {
			cfg.CVFolds = 2
		}
		cfg.ForceProductionQuality = false
		cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 5, "max_depth": 3}, "tree": {"max_depth": 4}}
		res, err := Train(context.Background(), cfg, Options{})
		if err != nil {
			f.Fatal(err)
		}
		p, err := LoadPredictor(res.ModelPath, Families())
		if err != nil {
			f.Fatal(err)
		}
		b, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		payloads = append(payloads, b)
		if models[0] == "gbdt" {
			var buf bytes.Buffer
			if err := ExportXGBoost(&buf, p); err != nil {
				f.Fatal(err)
			}
			xgb = buf.Bytes()
		}
	}
	return payloads, xgb, x
}

// FuzzDecodePredictor feeds damaged model payloads to the loader: it must
// refuse them with an error or return a predictor that predicts (or
// refuses the rows) without panicking.
func FuzzDecodePredictor(f *testing.F) {
	payloads, _, x := fuzzSeeds(f)
	for _, p := range payloads {
		f.Add(p)
	}
	reg := Families()
	f.Fuzz(func(t *testing.T, payload []byte) {
		p, err := decodePredictor(payload, reg)
		if err != nil {
			return
		}
		p.Family()
		p.Predict(x) //nolint:errcheck // an error is a fine answer; a panic is not
	})
}

// FuzzImportXGBoost feeds damaged XGBoost JSON to the importer, then
// predicts with whatever it accepted.
func FuzzImportXGBoost(f *testing.F) {
	_, xgb, x := fuzzSeeds(f)
	f.Add(xgb)
	f.Add([]byte(`{"learner":{"gradient_booster":{"model":{"trees":[]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ImportXGBoost(bytes.NewReader(data), "y")
		if err != nil {
			return
		}
		p.Family()
		p.Predict(x) //nolint:errcheck // an error is a fine answer; a panic is not
	})
}
