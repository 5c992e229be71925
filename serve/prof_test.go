package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

func BenchmarkProdTmp(b *testing.B) {
	path := os.Getenv("TF_MODEL")
	if path == "" {
		b.Skip()
	}
	p, _, err := pipeline.LoadModel(context.Background(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	header, rows := csvRows(b, "ames.csv", 2000)
	batch := make([][]string, 10000)
	for i := range batch {
		batch[i] = rows[i%len(rows)]
	}
	body := mlflowBodies(header, batch)["dataframe_split"]
	for b.Loop() {
		t, err := decodeMLflow(body, "application/json", "")
		if err != nil {
			b.Fatal(err)
		}
		x, _, err := p.ReadInputFrom(t.read, frame.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pred, err := p.Predict(x)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(map[string]any{"predictions": predictions(p, pred)})
	}
}
