package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// fixedAdvisor gives every run the same zero-shot configurations.
type fixedAdvisor map[string]MetaConfig

func (a fixedAdvisor) AdviseRun(context.Context, MetaQuery) (*MetaAdvice, error) {
	return &MetaAdvice{Info: MetaInfo{Known: 1, Nearest: 0.1, Threshold: 1}, Defaults: a}, nil
}

// TestZeroShotCheckedByCV: a knowledge base that advises a crippled gbdt
// (one stump) must lose to the static defaults in CV and be dropped,
// while a tree configuration no worse than the static one is kept.
func TestZeroShotCheckedByCV(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = "../testdata/ames.csv", "Sale_Price", t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.MetaLearning = []string{"gbdt", "tree"}, 3, true
	cfg.TargetTransform = config.TargetNone
	cfg.EnableTemporalFeatures, cfg.EnableMarketFeatures = false, false
	adv := fixedAdvisor{
		"gbdt": {Params: map[string]any{"n_estimators": 1, "max_depth": 1}, From: "bad"},
		"tree": {Params: map[string]any{"max_depth": 6}, From: "good"},
	}
	res, err := Train(context.Background(), cfg, Options{Meta: adv})
	var gateErr *GateError
	if err != nil && !errors.As(err, &gateErr) {
		t.Fatal(err)
	}
	if res.Meta == nil || res.Meta.Mode != MetaZeroShot {
		t.Fatalf("meta %+v; want a zero-shot run", res.Meta)
	}
	for _, e := range res.Leaderboard {
		switch e.Model {
		case "gbdt":
			if n, _ := e.Params["n_estimators"].(int); n == 1 || e.CV["r2"] < 0.5 {
				t.Errorf("gbdt kept the crippled configuration: params %v, cv r2 %.3f", e.Params, e.CV["r2"])
			}
		case "tree":
			if d := e.Params["max_depth"]; d != 6 && d != 6.0 {
				t.Errorf("tree: params %v; want the advised max_depth 6 (better in CV than unlimited depth)", e.Params)
			}
		}
	}
}

// queryRecorder keeps the table a run asks for advice on, and advises
// nothing.
type queryRecorder struct{ table *TrainingTable }

func (q *queryRecorder) AdviseRun(_ context.Context, mq MetaQuery) (*MetaAdvice, error) {
	q.table = mq.Table
	return &MetaAdvice{}, nil
}

// TestMetaQueryTrainingRows checks that the knowledge base is asked
// about the training rows only: it was given every row, test rows and
// their targets included, so the test targets (through landmarker
// meta-features) helped pick the configuration they then judged.
func TestMetaQueryTrainingRows(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = "../testdata/credit_data.csv", "Status", t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.MetaLearning = []string{"logistic"}, 0, true
	rec := &queryRecorder{}
	res, err := Train(context.Background(), cfg, Options{Meta: rec})
	if err != nil {
		t.Fatal(err)
	}
	if rec.table == nil {
		t.Fatal("the run never asked for advice")
	}
	if n, m := rec.table.X.NumRows(), len(rec.table.Y); n != res.TrainRows || m != res.TrainRows {
		t.Errorf("advice asked on %d rows (%d targets); want the %d training rows of %d", n, m, res.TrainRows, res.TrainRows+res.TestRows)
	}
}

// experimentRecorder keeps the experiment a run records.
type experimentRecorder struct{ e *Experiment }

func (r *experimentRecorder) RecordExperiment(_ context.Context, e *Experiment) error {
	r.e = e
	return nil
}

// TestKnowledgeTrainingRows checks that a run records in the knowledge
// base the table it asks the knowledge base about: its training rows. It
// recorded every row, so its meta-features described the whole file
// while a later query on the same file described its training part.
func TestKnowledgeTrainingRows(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = "../testdata/credit_data.csv", "Status", t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.MetaLearning = []string{"logistic"}, 2, true
	query, rec := &queryRecorder{}, &experimentRecorder{}
	if _, err := Train(context.Background(), cfg, Options{Meta: query, Knowledge: rec}); err != nil {
		t.Fatal(err)
	}
	if rec.e == nil || query.table == nil {
		t.Fatal("the run recorded no experiment or asked for no advice")
	}
	got, want := rec.e.Table, query.table
	if got.X.NumRows() != want.X.NumRows() || !slices.Equal(got.Y, want.Y) || !slices.Equal(got.X.Names(), want.X.Names()) {
		t.Errorf("recorded a table of %d rows and columns %v; the run asked about %d rows and columns %v",
			got.X.NumRows(), got.X.Names(), want.X.NumRows(), want.X.Names())
	}
}

// TestReadTrainingPart checks that ReadTrainingPart (what `meta show`
// describes) is the table a run asks the knowledge base about: it was
// every row, so `meta show` described a table no run asks about.
func TestReadTrainingPart(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = "../testdata/credit_data.csv", "Status", t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.MetaLearning = []string{"logistic"}, 0, true
	query := &queryRecorder{}
	if _, err := Train(context.Background(), cfg, Options{Meta: query}); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadTrainingPart(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := query.table; got.X.NumRows() != want.X.NumRows() || !slices.Equal(got.Y, want.Y) {
		t.Errorf("ReadTrainingPart gives %d rows; the run asked about %d", got.X.NumRows(), want.X.NumRows())
	}
}
