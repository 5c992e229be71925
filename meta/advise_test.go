package meta

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// TestAdviseInterleavesAndDeduplicates records evaluations on two known
// datasets and checks the suggested order: the best of each neighbour in
// neighbour order, then the second best of each; a configuration both
// neighbours ran is suggested once; ensembles never.
func TestAdviseInterleavesAndDeduplicates(t *testing.T) {
	ctx := context.Background()
	kb := &KB{Records: openSQLite(t), Options: Options{LandmarkRows: 300}}
	mpg := loadTable(t, "corpus/ggplot2_mpg.csv", "hwy")
	ames := loadTable(t, "ames.csv", "Sale_Price")
	depth := func(d int) map[string]any { return map[string]any{"max_depth": d} }
	record := func(hash string, tab *pipeline.TrainingTable, evals ...pipeline.Evaluation) {
		t.Helper()
		e := &pipeline.Experiment{RunID: "r-" + hash, Dataset: hash, Target: "y", Name: hash, Table: tab, Metric: "r2", HigherIsBetter: true, Evaluations: evals}
		if err := kb.RecordExperiment(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	record("mpg", mpg,
		pipeline.Evaluation{Family: "tree", Params: depth(4), Source: pipeline.SourceTrial, Score: 0.80},
		pipeline.Evaluation{Family: "tree", Params: depth(8), Source: pipeline.SourceTrial, Score: 0.85},
		pipeline.Evaluation{Family: "ridge", Source: pipeline.SourceCandidate, Score: 0.70},
		pipeline.Evaluation{Family: "vote", Source: pipeline.SourceEnsemble, Score: 0.99})
	record("ames", ames,
		pipeline.Evaluation{Family: "tree", Params: depth(8), Source: pipeline.SourceTrial, Score: 0.60},
		pipeline.Evaluation{Family: "gbdt", Source: pipeline.SourceCandidate, Score: 0.90})

	f, err := Compute(ctx, mpg, kb.Options)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Advise(ctx, kb, f, AdviseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Neighbours) != 2 || a.Neighbours[0].Key != DatasetKey("mpg", "y") {
		t.Fatalf("neighbours %+v; want mpg first", a.Neighbours)
	}
	// mpg: tree 8 (0.85), tree 4, ridge; ames: gbdt (0.90), tree 8.
	want := []struct {
		family string
		depth  any
		from   string
		rank   int
	}{{"tree", 8.0, "mpg", 1}, {"gbdt", nil, "ames", 1}, {"tree", 4.0, "mpg", 2}, {"ridge", nil, "mpg", 3}}
	if len(a.Configs) != len(want) {
		t.Fatalf("%d configs; want %d: %+v", len(a.Configs), len(want), a.Configs)
	}
	for i, w := range want {
		c := a.Configs[i]
		if c.Family != w.family || c.Params["max_depth"] != w.depth || c.Name != w.from || c.Rank != w.rank {
			t.Errorf("config %d = %s %v from %s rank %d; want %s %v from %s rank %d", i, c.Family, c.Params, c.Name, c.Rank, w.family, w.depth, w.from, w.rank)
		}
	}
	if a, err = Advise(ctx, kb, f, AdviseOptions{Top: 2, Exclude: DatasetKey("mpg", "y")}); err != nil {
		t.Fatal(err)
	}
	if len(a.Neighbours) != 1 || len(a.Configs) != 2 || a.Configs[0].Family != "gbdt" {
		t.Errorf("excluding mpg: neighbours %+v, configs %+v", a.Neighbours, a.Configs)
	}
}

// TestAdviseLeavesOutIncomparable reads a knowledge base (as meta import
// or meta eval --kb would) holding a dataset without meta-features in
// common with the table: at distance +Inf it was listed as a neighbour,
// and the advice did not encode as JSON (meta show --json failed with
// "json: unsupported value: +Inf"). It is no neighbour; the comparable
// dataset still is, and the advice encodes.
func TestAdviseLeavesOutIncomparable(t *testing.T) {
	ctx := context.Background()
	body := `{"version": 1, "datasets": [` +
		`{"key": "none", "task": "regression", "features": {}},` +
		`{"key": "some", "task": "regression", "features": {"task": "regression", "values": {"numeric_share": 0.5}}}],` +
		`"evals": [{"id": "x", "dataset": "none", "score": 1}, {"id": "y", "dataset": "some", "score": 2}]}`
	s, err := ReadSnapshot(gzipped([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	f := &Features{Task: model.Regression, Values: map[string]float64{NumericShare: 0.6}}
	a, err := Advise(ctx, &KB{Records: s.Records()}, f, AdviseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Known != 2 || len(a.Neighbours) != 1 || a.Neighbours[0].Key != "some" {
		t.Errorf("known %d, neighbours %+v; want 2 known, the neighbour \"some\" alone", a.Known, a.Neighbours)
	}
	if len(a.Configs) != 1 || a.Configs[0].ID != "y" {
		t.Errorf("configs %+v; want y from \"some\" alone", a.Configs)
	}
	if _, err := json.Marshal(a); err != nil {
		t.Errorf("advice does not encode: %v", err)
	}
}
