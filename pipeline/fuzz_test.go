package pipeline

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// fuzzSeeds trains small real models on credit_data (a single gbdt, a
// logistic, a tree, an ensemble, and trees per Home segment routed by
// the predictor) and returns their saved payloads
// (unwrapped from their envelopes), the gbdt's XGBoost JSON and rows to
// predict.
func fuzzSeeds(f *testing.F) (payloads [][]byte, xgb []byte, x *frame.Frame) {
	f.Helper()
	data := filepath.Join("..", "testdata", "credit_data.csv")
	all, err := frame.ReadFile(data, frame.ReadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	x = all.Take([]int{0, 1, 2, 3, 4, 5, 6, 7})
	for _, seed := range []struct {
		models    []string
		segmentBy string // "" for none
	}{{[]string{"gbdt"}, ""}, {[]string{"logistic"}, ""}, {[]string{"tree"}, ""}, {[]string{"logistic", "tree"}, ""}, {[]string{"tree"}, "Home"}} {
		models := seed.models
		cfg := config.Default()
		cfg.Data, cfg.Target, cfg.Models, cfg.Out = data, "Status", models, f.TempDir()
		cfg.CVFolds = 0
		if len(models) > 1 {
			cfg.CVFolds = 2
		}
		if seed.segmentBy != "" {
			// Home's owner, rent and parents rows pass 300 and get their
			// own trees; the other homes go to the global one.
			cfg.SegmentBy, cfg.MinSegmentRows = seed.segmentBy, 300
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
		// decodePredictor reads what is inside the envelope; an envelope
		// itself (compressed, checksummed) never gets past its first bytes.
		_, inner, err := model.DecodeEnvelope(b)
		if err != nil {
			f.Fatal(err)
		}
		if seed.segmentBy != "" && (p.Routes == nil || len(p.Routes.Models) == 0) {
			f.Fatalf("segment_by %s: the predictor routes to no segment model", seed.segmentBy)
		}
		payloads = append(payloads, inner)
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
// refuses the rows) without panicking, and that saves and loads back to
// one that predicts the same (a model a user loads may be saved again).
// It predicts real rows and rows built from its own schema: a damaged
// schema refuses the real rows, and only the schema's rows then reach
// the model.
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
		rows := []*frame.Frame{x}
		// A schema whose names make no frame (repeated names) gets the
		// real rows alone.
		if sr, err := schemaFrame(p); err == nil && len(p.Schema) > 0 {
			rows = append(rows, sr)
		}
		want, werr := make([]*Prediction, len(rows)), make([]error, len(rows))
		for i, r := range rows {
			want[i], werr[i] = p.Predict(r)
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatalf("a predictor that loads does not save: %v", err)
		}
		kind, inner, err := model.DecodeEnvelope(b)
		if err != nil || kind != PredictorKind {
			t.Fatalf("a saved predictor's envelope: kind %q, %v", kind, err)
		}
		back, err := decodePredictor(inner, reg)
		if err != nil {
			t.Fatalf("a saved predictor does not load back: %v", err)
		}
		for i, r := range rows {
			got, gerr := back.Predict(r)
			if (gerr == nil) != (werr[i] == nil) || werr[i] == nil && !samePrediction(got, want[i]) {
				t.Fatalf("saved and loaded back, a predictor predicts rows %d %+v (%v); it predicted %+v (%v)", i, got, gerr, want[i], werr[i])
			}
		}
	})
}

// schemaRows are five rows of p's numeric inputs, from missing to far
// outside any split.
func schemaRows(t *testing.T, p *Predictor) *frame.Frame {
	x, err := schemaFrame(p)
	if err != nil {
		t.Fatalf("rows for schema %v: %v", p.Schema, err)
	}
	return x
}

// schemaFrame is schemaRows, returning frame.New's error.
func schemaFrame(p *Predictor) (*frame.Frame, error) {
	cols := make([]*frame.Column, len(p.Schema))
	for i, f := range p.Schema {
		cols[i] = frame.NewNumeric(f.Name, []float64{0, 1, -1, math.NaN(), 1e9})
	}
	return frame.New(cols...)
}

// samePrediction reports whether a and b hold the same values, NaN
// equal to NaN.
func samePrediction(a, b *Prediction) bool {
	same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return slices.EqualFunc(a.Values, b.Values, same) && slices.EqualFunc(a.Probs, b.Probs, same) && slices.Equal(a.Labels, b.Labels)
}

// FuzzImportXGBoost feeds damaged XGBoost JSON to the importer, then
// predicts with whatever it accepted, and checks that it exports to JSON
// that imports to a model predicting the same.
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
		rows := schemaRows(t, p)
		want, werr := p.Predict(rows)
		var buf bytes.Buffer
		if err := ExportXGBoost(&buf, p); err != nil {
			t.Fatalf("an imported model does not export: %v", err)
		}
		back, err := ImportXGBoost(&buf, "y")
		if err != nil {
			t.Fatalf("an imported model's export does not import: %v\n%s", err, buf.Bytes())
		}
		got, gerr := back.Predict(rows)
		if (gerr == nil) != (werr == nil) || werr == nil && !samePrediction(got, want) {
			t.Fatalf("exported and imported again, a model predicts %+v (%v); it predicted %+v (%v)", got, gerr, want, werr)
		}
	})
}
