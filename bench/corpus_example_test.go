package bench_test

import (
	"fmt"

	"github.com/tabforge/tabforge/bench"
)

// A variant's flags split like a shell's, so one --set value can hold the
// spaces of a YAML flow mapping.
func ExampleParseVariant() {
	v, err := bench.ParseVariant(`lr05=--models gbdt --set "model_params={gbdt: {learning_rate: 0.05}}"`)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Name)
	for _, f := range v.Flags {
		fmt.Println(f)
	}
	// Output:
	// lr05
	// --models
	// gbdt
	// --set
	// model_params={gbdt: {learning_rate: 0.05}}
}

// Summarize compares each variant with the first, dataset by dataset; a
// log-loss that drops counts as a win.
func ExampleSummarize() {
	vs := []bench.Variant{{Name: "base"}, {Name: "new"}}
	ds := []bench.CorpusDataset{
		{Name: "a", Metric: "r2", Runs: []bench.CorpusRun{{Variant: "base", Value: 0.70}, {Variant: "new", Value: 0.75}}},
		{Name: "b", Metric: "logloss", Runs: []bench.CorpusRun{{Variant: "base", Value: 0.40}, {Variant: "new", Value: 0.35}}},
		{Name: "c", Metric: "auc", Runs: []bench.CorpusRun{{Variant: "base", Value: 0.800}, {Variant: "new", Value: 0.801}}},
	}
	s := bench.Summarize(ds, vs, bench.DefaultTie)[1]
	fmt.Printf("%s: %d wins, %d ties, %d losses, mean delta %+.4f\n", s.Variant, s.Wins, s.Ties, s.Losses, s.MeanDelta)
	// Output:
	// new: 2 wins, 1 ties, 0 losses, mean delta +0.0337
}
