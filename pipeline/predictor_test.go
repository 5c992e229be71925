package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// TestPredictorRoundTrip saves each family's best model, loads it back and
// checks the predictions are identical, and that damaged files are refused.
func TestPredictorRoundTrip(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	x, err := frame.ReadFile(data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range []string{"logistic", "tree", "forest", "gbdt"} {
		t.Run(fam, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{fam}, 0, t.TempDir()
			cfg.ModelParams = map[string]map[string]any{"forest": {"n_estimators": 20}}
			res, p := trainSaved(t, cfg)
			if p.Target.Task != model.Binary || !slices.Equal(p.Target.Classes, []string{"good", "bad"}) {
				t.Errorf("target = %+v; want binary with bad as class 1", p.Target)
			}
			a, err := p.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(res.ModelPath)
			if err != nil {
				t.Fatal(err)
			}
			again := filepath.Join(t.TempDir(), "again.tfm")
			if err := p.Save(again); err != nil {
				t.Fatal(err)
			}
			q, err := LoadPredictor(again, Families())
			if err != nil {
				t.Fatal(err)
			}
			b, err := q.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Values, b.Values) || !slices.Equal(a.Labels, b.Labels) {
				t.Error("predictions differ after save and load")
			}

			// Truncation and a flipped byte are caught by the checksum.
			for name, bad := range map[string][]byte{
				"truncated": raw[:len(raw)/2],
				"flipped":   flip(raw, len(raw)/3),
			} {
				path := filepath.Join(t.TempDir(), name+".tfm")
				os.WriteFile(path, bad, 0o644)
				if _, err := LoadPredictor(path, Families()); !errors.Is(err, model.ErrCorrupt) {
					t.Errorf("%s file: err = %v; want ErrCorrupt", name, err)
				}
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0xff
	return c
}

// TestSegmentMetrics checks the per-segment table covers every test row
// once and is ordered worst first.
func TestSegmentMetrics(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.SegmentColumn = filepath.Join("..", "testdata", "ames.csv"), "Sale_Price", "Neighborhood"
	cfg.TestRows = filepath.Join("..", "testdata", "splits", "ames.test_rows.txt")
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"ridge"}, 0, t.TempDir()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for i, s := range res.Segments {
		rows += s.Rows
		if i > 0 && s.Test["within20"] < res.Segments[i-1].Test["within20"] {
			t.Errorf("segment %s (within20 %.1f) after %s (%.1f): not worst first", s.Segment, s.Test["within20"], res.Segments[i-1].Segment, res.Segments[i-1].Test["within20"])
		}
	}
	if rows != res.TestRows || len(res.Segments) < 10 {
		t.Errorf("%d segments cover %d rows; want >= 10 segments covering %d", len(res.Segments), rows, res.TestRows)
	}
}

// trainSaved trains cfg and loads the model the run saved.
func trainSaved(t *testing.T, cfg *config.Config) (*Result, *Predictor) {
	t.Helper()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	return res, p
}

// TestPredictInBlocks: a batch larger than predictBlockRows, encoded and
// predicted a block at a time, gives every row the prediction it gets
// alone (the batch repeats credit data's rows, so row i must equal row
// i mod n of the original), and PredictContext stops on a cancelled
// context.
func TestPredictInBlocks(t *testing.T) {
	data := filepath.Join("..", "testdata", "credit_data.csv")
	x, err := frame.ReadFile(data, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := x.NumRows()
	rows := make([]int, 2*predictBlockRows+n/3)
	for i := range rows {
		rows[i] = i % n
	}
	big := x.Take(rows)
	for _, fam := range []string{"logistic", "gbdt"} { // one-hot and ordinal designs
		t.Run(fam, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = data, "Status", []string{fam}, 0, t.TempDir()
			_, p := trainSaved(t, cfg)
			want, err := p.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Predict(big)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				if got.Values[i] != want.Values[r] || got.Labels[i] != want.Labels[r] {
					t.Fatalf("row %d (block %d) = %v %s; alone %v %s", i, i/predictBlockRows, got.Values[i], got.Labels[i], want.Values[r], want.Labels[r])
				}
			}
			// Between blocks, an ended context stops the batch.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if pred, err := p.PredictContext(ctx, big); !errors.Is(err, context.Canceled) {
				t.Errorf("PredictContext with a cancelled context = %v, %v; want context.Canceled", pred != nil, err)
			}
		})
	}
}
