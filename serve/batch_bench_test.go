package serve

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/cputime"
	"github.com/tabforge/tabforge/pipeline"
)

// benchModelEnv names a saved model file (model.tfm) for
// BenchmarkBatchProduction; without it the benchmark trains the ames
// production model as `tabforge bench serve` does.
const benchModelEnv = "TABFORGE_BENCH_MODEL"

// productionModel registers the ames production model (ensemble of gbdt,
// forest and ridge) and promotes it.
func productionModel(b *testing.B) *fixture {
	b.Helper()
	reg, arts := newRegistry(b)
	ctx := context.Background()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Name = testdata("ames.csv"), "Sale_Price", "Year_Sold,Mo_Sold", "ames"
	cfg.Out, cfg.ForceProductionQuality = b.TempDir(), false
	var res *pipeline.Result
	if path := os.Getenv(benchModelEnv); path != "" {
		p, err := pipeline.LoadPredictor(path, pipeline.Families())
		if err != nil {
			b.Fatal(err)
		}
		res = &pipeline.Result{RunID: "bench", DatasetHash: "bench", Task: p.Target.Task, Target: p.Target.Name,
			Best: "model file", ModelPath: path, Deployable: true}
	} else {
		var err error
		if res, err = pipeline.Train(ctx, cfg, pipeline.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	m, _, err := pipeline.Register(ctx, reg, arts, cfg, res, "serve-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("model %s", m.Family)
	promote(b, reg, m.Version)
	return start(b, reg, Options{})
}

// BenchmarkBatchProduction sends a 10,000-row batch (the ames rows
// repeated) to the ames production model over loopback, as text/csv and
// as dataframe_split JSON: the `bench serve` batch target.
func BenchmarkBatchProduction(b *testing.B) {
	f := productionModel(b)
	header, rows := csvRows(b, "ames.csv", 2000)
	target := slices.Index(header, "Sale_Price")
	header = slices.Delete(slices.Clone(header), target, target+1)
	batch := make([][]string, 10_000)
	for i := range batch {
		r := rows[i%len(rows)]
		batch[i] = slices.Delete(slices.Clone(r), target, target+1)
	}
	benchPosts(b, f.url, "rows=10000", mlflowBodies(header, batch))
}

// BenchmarkDecodeSplit10k decodes the 10,000-row dataframe_split body of
// BenchmarkBatchProduction, alone (scan) and then read into a frame with
// the kinds pinned as a predictor reads (scan+read), without a server or
// a model: the request's share that is JSON and text.
func BenchmarkDecodeSplit10k(b *testing.B) {
	header, rows := csvRows(b, "ames.csv", 2000)
	batch := make([][]string, 10_000)
	for i := range batch {
		batch[i] = rows[i%len(rows)]
	}
	body := mlflowBodies(header, batch)["dataframe_split"]
	t, err := decodeMLflow(body, "application/json", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	f, err := t.read(frame.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	pinned := frame.ReadOptions{Schema: f.KindMap()}
	for _, read := range []bool{false, true} {
		b.Run(map[bool]string{false: "scan", true: "scan+read"}[read], func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu := cputime.Now()
			for b.Loop() {
				t, err := decodeMLflow(body, "application/json", "", nil)
				if err == nil && read {
					_, err = t.read(pinned)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Now()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
