package meta_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store/sqlite"
)

// A training run given the knowledge base records its dataset's
// meta-features (of its training rows) and every configuration it
// evaluated; Advise then suggests, for a table, the configurations that
// did best on the nearest known datasets.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "meta-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	kb := &meta.KB{Records: st}

	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = "../testdata/corpus/ggplot2_mpg.csv", "hwy", dir
	cfg.Models, cfg.CVFolds = []string{"ridge", "tree"}, 3
	if _, err := pipeline.Train(ctx, cfg, pipeline.Options{Knowledge: kb}); err != nil {
		panic(err)
	}

	// A table to advise on: here the same file's training part, the rows
	// a run of it asks about (and records).
	f, err := frame.ReadFile(cfg.Data, frame.ReadOptions{})
	if err != nil {
		panic(err)
	}
	tab, err := pipeline.TrainingPart(f, cfg)
	if err != nil {
		panic(err)
	}
	mf, err := meta.Compute(ctx, tab, meta.Options{})
	if err != nil {
		panic(err)
	}
	a, err := meta.Advise(ctx, kb, mf, meta.AdviseOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v rows, %v columns; %d known dataset, nearest at %.2f, far: %v\n",
		mf.Values[meta.Rows], mf.Values[meta.Columns], a.Known, *a.Nearest, a.Far)
	for _, c := range a.Configs {
		fmt.Println("try", c.Family, "from", filepath.Base(c.Name))
	}
	// Output:
	// 187 rows, 9 columns; 1 known dataset, nearest at 0.00, far: false
	// try ridge from ggplot2_mpg.csv
	// try tree from ggplot2_mpg.csv
}
