package drift_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// TestPredictionDrift trains a ridge model of txhousing's median price
// and tests its predictions: random halves of the data give the same
// prediction distribution; 2000–04 against 2011–15 do not.
func TestPredictionDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	data := filepath.Join("..", "testdata", "txhousing.csv")
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "median", []string{"ridge"}, 0, t.TempDir()
	cfg.Drop = []string{"volume", "date"}
	res, err := pipeline.Train(context.Background(), cfg, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.LoadPredictor(res.ModelPath, pipeline.Families())
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(data, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	perm := rand.New(rand.NewPCG(1, 2)).Perm(f.NumRows())
	a, b := f.Take(perm[:len(perm)/2]), f.Take(perm[len(perm)/2:])
	r, err := drift.Compare(context.Background(), a, b, drift.Options{Target: "median", Predict: p.PredictionColumn})
	if err != nil {
		t.Fatal(err)
	}
	if r.Prediction == nil || r.Prediction.Name != "prediction" || r.Prediction.Kind != frame.Numeric || r.Prediction.Drifted {
		t.Errorf("random halves: prediction drift %+v; want a numeric column, not drifted", r.Prediction)
	}
	year, _ := f.Lookup("year")
	var early, late []int
	for i, y := range year.Num {
		if y <= 2004 {
			early = append(early, i)
		} else if y >= 2011 {
			late = append(late, i)
		}
	}
	r, err = drift.Compare(context.Background(), f.Take(early), f.Take(late), drift.Options{Predict: p.PredictionColumn})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Prediction.Drifted || r.Target != nil {
		t.Errorf("2000–04 vs 2011–15: prediction %+v, target %v; want drifted predictions and no target", r.Prediction, r.Target)
	}
	t.Logf("prediction drift 2000–04 vs 2011–15: %s %.3g", r.Prediction.Method, r.Prediction.Statistic)
	// A model that cannot predict is an error that says which side.
	if _, err := drift.Compare(context.Background(), f.Drop("city"), f.Drop("city"), drift.Options{Predict: p.PredictionColumn}); err == nil {
		t.Error("a model missing its input column: no error")
	}
}
