package meta

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/tune"
)

// TestDesign checks each task's design: the family counts the package
// doc states, no configuration twice, the static defaults first, and
// every point inside its family's tuning space (a warm start must be
// able to enqueue it).
func TestDesign(t *testing.T) {
	for _, tt := range []struct {
		task   model.Task
		counts map[string]int
	}{
		{model.Regression, map[string]int{"gbdt": 16, "forest": 6, "ridge": 5}},
		{model.Binary, map[string]int{"gbdt": 16, "forest": 6, "logistic": 5}},
		{model.Multiclass, map[string]int{"gbdt": 16, "forest": 6, "logistic": 5}},
	} {
		counts := map[string]int{}
		seen := map[string]bool{}
		for _, c := range Design(tt.task) {
			id, err := ConfigID(c.Family, "", nil, c.Params)
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] {
				t.Errorf("%s: %s %v twice", tt.task, c.Family, c.Params)
			}
			seen[id] = true
			if counts[c.Family] == 0 {
				static, _ := ConfigID(c.Family, "", nil, pipeline.StaticParams(c.Family))
				if id != static {
					t.Errorf("%s: first %s configuration %v; want the static defaults", tt.task, c.Family, c.Params)
				}
			} else if _, _, ok := tune.SpaceFor(c.Family, tt.task).Encode(c.Params); !ok {
				t.Errorf("%s: %s %v is outside the tuning space", tt.task, c.Family, c.Params)
			}
			counts[c.Family]++
		}
		for fam, n := range tt.counts {
			if counts[fam] != n {
				t.Errorf("%s: %d %s configurations; want %d", tt.task, counts[fam], fam, n)
			}
		}
	}
}

// TestAugmentLHS checks the added points form a Latin hypercube (one
// point in each of the n strata of every dimension) and lie no closer to
// one another and the old points than the stream's first draw.
func TestAugmentLHS(t *testing.T) {
	old := latinHypercube(rand.New(rand.NewPCG(1, 1)), 6, 4)
	got := augmentLHS(rand.New(rand.NewPCG(1, 2)), old, 9, 50)
	first := latinHypercube(rand.New(rand.NewPCG(1, 2)), 9, 4)
	if len(got) != 9 {
		t.Fatalf("augmentLHS gave %d points; want 9", len(got))
	}
	for d := range 4 {
		strata := map[int]bool{}
		for _, p := range got {
			if p[d] < 0 || p[d] >= 1 {
				t.Fatalf("point %v outside [0,1)", p)
			}
			strata[int(p[d]*9)] = true
		}
		if len(strata) != 9 {
			t.Errorf("dimension %d covers %d of 9 strata", d, len(strata))
		}
	}
	// The first draw of the stream is among the candidates: the chosen
	// one's closest pair cannot be closer.
	if minPair(append(old, got...)) < minPair(append(old, first...)) {
		t.Errorf("augmented design's closest pair %.4f; the first draw's %.4f is farther", minPair(append(old, got...)), minPair(append(old, first...)))
	}
}

func minPair(pts [][]float64) float64 {
	out := math.Inf(1)
	for i := range pts {
		for j := range i {
			d := 0.0
			for k := range pts[i] {
				d += (pts[i][k] - pts[j][k]) * (pts[i][k] - pts[j][k])
			}
			out = math.Min(out, d)
		}
	}
	return out
}

// TestBuildScoresMissingConfigs removes one evaluation from a built
// knowledge base: the next build scores that configuration alone on
// that dataset, to the same score, and the one after skips both.
func TestBuildScoresMissingConfigs(t *testing.T) {
	ctx := context.Background()
	kb := corpusKB(t)
	ds, err := kb.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evals, err := kb.Evals(ctx, ds[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	gone := evals[len(evals)-1]
	if err := kb.Records.DeleteRecord(ctx, KindEval, gone.Dataset+"/"+gone.ID); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "testdata", "corpus")
	corpus := []CorpusDataset{
		{File: filepath.Join(dir, "ggplot2_mpg.csv"), Target: "hwy", Task: "regression"},
		{File: filepath.Join(dir, "palmerpenguins_penguins.csv"), Target: "species", Task: "multiclass"},
	}
	rep, err := Build(ctx, kb, corpus, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scored != 1 || rep.Skipped != 1 || len(rep.Failed) > 0 {
		t.Errorf("rebuild after one deletion = %+v; want 1 scored, 1 skipped", rep)
	}
	back, err := kb.Evals(ctx, ds[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(evals) {
		t.Errorf("%d evaluations after the rebuild; want %d", len(back), len(evals))
	}
	for _, e := range back {
		if e.ID == gone.ID && e.Score != gone.Score {
			t.Errorf("rescored %s %v: %v; want the first build's %v", e.Family, e.Params, e.Score, gone.Score)
		}
	}
	if rep, err = Build(ctx, kb, corpus, BuildOptions{}); err != nil || rep.Skipped != 2 {
		t.Errorf("third build = %+v, %v; want both skipped", rep, err)
	}
}

// TestBuildFailedPerDataset: two datasets of one file that both fail are
// two failures, each with its error; keyed by file, the second overwrote
// the first and the build reported one.
func TestBuildFailedPerDataset(t *testing.T) {
	mpg := filepath.Join("..", "testdata", "corpus", "ggplot2_mpg.csv")
	corpus := []CorpusDataset{{File: mpg, Target: "no_such_a"}, {File: mpg, Target: "no_such_b"}}
	rep, err := Build(context.Background(), &KB{Records: (&Snapshot{}).Records()}, corpus, BuildOptions{Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 2 {
		t.Fatalf("Failed = %v; want both datasets", rep.Failed)
	}
	for k, msg := range rep.Failed {
		target := strings.TrimSuffix(k[strings.Index(k, "(target ")+len("(target "):], ")")
		if !strings.Contains(k, mpg) || !strings.Contains(msg, target) {
			t.Errorf("Failed[%q] = %q; want the file, and the error of its own target", k, msg)
		}
	}
}
