package meta

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tabforge/tabforge/pipeline"
)

// TestEvaluateZeroShotShipped runs the leave-one-dataset-out comparison
// on the shipped knowledge base: every dataset compared once per family
// it has static defaults for, the same result twice, and no dataset
// advised by itself.
func TestEvaluateZeroShotShipped(t *testing.T) {
	ctx := context.Background()
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	kb := &KB{Records: s.Records()}
	rep, err := EvaluateZeroShot(ctx, Advisor{KB: kb})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Datasets) != len(s.Datasets) {
		t.Errorf("compared %d datasets; want all %d", len(rep.Datasets), len(s.Datasets))
	}
	if b := rep.Best; b.Wins+b.Ties+b.Losses != len(rep.Datasets) {
		t.Errorf("best-family tally %+v does not add up to %d datasets", b, len(rep.Datasets))
	}
	gbdt := rep.Families["gbdt"]
	if gbdt == nil || gbdt.Wins+gbdt.Ties+gbdt.Losses != len(s.Datasets) {
		t.Errorf("gbdt tally %+v; want one comparison per dataset", gbdt)
	}
	again, err := EvaluateZeroShot(ctx, Advisor{KB: kb})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Families, again.Families) || rep.Best != again.Best {
		t.Errorf("EvaluateZeroShot is not deterministic: %+v then %+v", rep.Best, again.Best)
	}
	d := s.Datasets[0]
	adv, err := Advisor{KB: kb, Exclude: d.Key}.adviseFeatures(ctx, d.Features, []string{"gbdt"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range adv.Info.Neighbours {
		if n.Distance == 0 && n.Name == filepath.Base(d.Name) {
			t.Errorf("left-out dataset %s advises itself", d.Name)
		}
	}
}

// TestEvaluateWarmStart tunes the two corpus tables cold and warm with a
// small budget, each advised by the other datasets of the shipped
// knowledge base: both curves are complete and never get worse.
func TestEvaluateWarmStart(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "testdata", "corpus")
	rep, err := EvaluateWarmStart(context.Background(), &KB{Records: s.Records()}, []CorpusDataset{
		{File: filepath.Join(dir, "ggplot2_mpg.csv"), Target: "hwy", Task: "regression"},
	}, WarmEvalOptions{Trials: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Err != "" || rep.Rows[0].Far {
		t.Fatalf("rows = %+v; want mpg compared", rep.Rows)
	}
	r := rep.Rows[0]
	for _, c := range [][]float64{r.Cold, r.Warm} {
		if len(c) != 6 {
			t.Fatalf("curve %v; want 6 trials", c)
		}
		for i := 1; i < len(c); i++ {
			if c[i] < c[i-1] {
				t.Errorf("best-so-far curve %v gets worse", c)
			}
		}
	}
	if r.Reach > 0 && r.Warm[r.Reach-1] < r.Cold[5] {
		t.Errorf("reach %d but warm %v below cold's best %v", r.Reach, r.Warm[r.Reach-1], r.Cold[5])
	}
}

// TestEvaluateZeroShotUnscored: when the configuration zero-shot picks
// for a dataset was never scored on it (a knowledge base of training
// runs), the comparison is left out and counted as unscored; it used to
// be a tie (the static defaults against themselves).
func TestEvaluateZeroShotUnscored(t *testing.T) {
	ctx := context.Background()
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	kb := &KB{Records: s.Records()}
	var d *Dataset
	var adv *pipeline.MetaAdvice
	for _, c := range s.Datasets {
		if adv, err = (Advisor{KB: kb, Exclude: c.Key}).adviseFeatures(ctx, c.Features, []string{"gbdt"}); err != nil {
			t.Fatal(err)
		}
		if _, ok := adv.Defaults["gbdt"]; ok && !adv.Info.Far {
			d = c
			break
		}
	}
	if d == nil {
		t.Fatal("no dataset of the shipped knowledge base gets zero-shot advice")
	}
	zid, err := ConfigID("gbdt", "", nil, adv.Defaults["gbdt"].Params)
	if err != nil {
		t.Fatal(err)
	}
	if err := kb.Records.DeleteRecord(ctx, KindEval, d.Key+"/"+zid); err != nil {
		t.Fatal(err)
	}
	rep, err := EvaluateZeroShot(ctx, Advisor{KB: kb})
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Families["gbdt"]
	if g == nil || g.Unscored != 1 || g.Wins+g.Ties+g.Losses != len(s.Datasets)-1 {
		t.Errorf("gbdt tally %+v; want %s unscored and the other %d datasets compared", g, d.Name, len(s.Datasets)-1)
	}
}
