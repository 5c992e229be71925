package pipeline

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/eval"
)

// TestEnsembleUnitsLocal: run in this process (no executor), each
// ensemble's unit gives the entry and predictor fitEnsemble gives when
// called directly, bit for bit (weights, scores, test predictions), with
// the combiner the unit fitted rather than a decoded copy, and no worker
// recorded.
func TestEnsembleUnitsLocal(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree", "extra_trees"}, 3, t.TempDir()
	cfg.ModelParams = map[string]map[string]any{"extra_trees": {"n_estimators": 20}}
	cfg.EnableAdvancedEnsemble = true
	p, lb, fitted := ensembleRun(t, cfg)
	entries, preds, warnings := buildEnsembles(ctx, cfg, p, lb, fitted)
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}

	pool := slices.Clone(lb)
	rank(pool, PrimaryMetric(p.task))
	outputs := len(pool[0].oof) / len(p.train)
	specs, _ := ensembleSpecs(cfg, p, len(pool), outputs)
	if len(entries) != len(specs) || len(specs) != 3 {
		t.Fatalf("%d ensembles from %d specs; want 3 (voting, stacking, selection)", len(entries), len(specs))
	}
	for i, s := range specs {
		f, err := fitEnsemble(ctx, p, s, pool, coveredRows(p, pool, outputs), outputs)
		if err != nil {
			t.Fatal(err)
		}
		want, wantPred := f.entry(s, pool, fitted)
		got, gotPred := entries[i], preds[s.name]
		if got.Model != want.Model || got.Ran != nil {
			t.Errorf("entry %d = %s ran %+v; want %s in this process", i, got.Model, got.Ran, want.Model)
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"params", got.Params, want.Params}, {"cv", got.CV, want.CV}, {"cv_std", got.CVStd, want.CVStd}, {"test", got.Test, want.Test},
			{"test predictions", ieeeBits(got.testPred), ieeeBits(want.testPred)}, {"fold scores", ieeeBits(got.foldScores), ieeeBits(want.foldScores)},
			{"weights", ieeeBits(gotPred.Combiner.Weights()), ieeeBits(wantPred.Combiner.Weights())},
		} {
			if g, w := fmt.Sprintf("%#v", c.got), fmt.Sprintf("%#v", c.want); g != w {
				t.Errorf("%s %s = %s; want %s", s.name, c.what, g, w)
			}
		}
		gb, _ := gotPred.Combiner.MarshalBinary()
		wb, _ := wantPred.Combiner.MarshalBinary()
		if !bytes.Equal(gb, wb) || len(gotPred.Members) != len(s.members) {
			t.Errorf("%s predictor: combiner %s with %d members; want %s with %d", s.name, gb, len(gotPred.Members), wb, len(s.members))
		}
	}
}

// ieeeBits returns the IEEE bits of v, so that NaN equals NaN and -0 differs
// from 0.
func ieeeBits(v []float64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = math.Float64bits(x)
	}
	return out
}

// TestEnsembleUnitRejectsInputs: a worker refuses inputs whose content
// hash is not the one the spec names, and inputs that do not fit the
// run's rows.
func TestEnsembleUnitRejectsInputs(t *testing.T) {
	p := &prepared{train: make([]int, 4), test: make([]int, 2)}
	pool := []Entry{{Model: "a", oof: make([]float64, 4), testPred: make([]float64, 2)}, {Model: "b", oof: make([]float64, 4), testPred: make([]float64, 3)}}
	b, hash, err := encodeEnsembleInputs(pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeEnsembleInputs(b, p); err == nil {
		t.Errorf("inputs with 3 test predictions for 2 test rows decoded")
	}
	pool[1].testPred = pool[1].testPred[:2]
	if b, hash, err = encodeEnsembleInputs(pool); err != nil {
		t.Fatal(err)
	}
	got, outputs, err := decodeEnsembleInputs(b, p)
	if err != nil || outputs != 1 || len(got) != 2 || got[1].Model != "b" {
		t.Fatalf("decode = %d entries, %d outputs, %v; want 2 entries of 1 output", len(got), outputs, err)
	}
	spec, _ := json.Marshal(ensembleUnitSpec{runRef: runRef{Run: "r"}, Ensemble: ensembleSelection, Inputs: hash})
	u := &UnitRunner{Artifact: func(context.Context, string) ([]byte, error) { return append(b, 0), nil }}
	u.runs = map[runRef]*runEntry{{Run: "r"}: {p: p, cfg: config.Default()}}
	u.runs[runRef{Run: "r"}].once.Do(func() {})
	if _, err := u.Run(context.Background(), "k", EnsembleUnitKind, spec, 1); err == nil || !bytes.Contains([]byte(err.Error()), []byte("have hash")) {
		t.Errorf("altered inputs: %v; want a hash mismatch", err)
	}
}

// TestDecodeEnsembleResultMembers: a result whose combiner weighs another
// number of members than the spec names is an error, not a predictor
// built by indexing past the members.
func TestDecodeEnsembleResultMembers(t *testing.T) {
	c, err := ensemble.VotingCombiner(3, 1, []float64{0.5, 0, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeEnsembleResult(&ensembleFit{combiner: c, params: c.Params(), cv: eval.Metrics{"r2": 0.5}, test: eval.Metrics{"r2": 0.4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeEnsembleResult(b, []string{"a", "b", "c"}); err != nil {
		t.Fatalf("three members for three names: %v", err)
	}
	if _, _, err := decodeEnsembleResult(b, []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), "3 members for 2") {
		t.Errorf("three members for two names: err = %v; want one saying so", err)
	}
}

// ensembleFixture is a prepared run with its candidates, their pool and
// the ensembles its config builds over them.
type ensembleFixture struct {
	cfg     *config.Config
	p       *prepared
	pool    []Entry
	fitted  map[string]*Predictor
	specs   []ensembleSpec
	outputs int
}

func newEnsembleFixture(tb testing.TB) *ensembleFixture {
	// The first 600 rows of credit data keep a fit quick enough to fuzz.
	b, err := os.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	data := filepath.Join(tb.TempDir(), "credit_600.csv")
	if err := os.WriteFile(data, []byte(strings.Join(lines[:601], "")), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target = data, "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic", "tree"}, 3, tb.TempDir()
	cfg.EnableAdvancedEnsemble = true
	x := &ensembleFixture{cfg: cfg}
	var lb []Entry
	x.p, lb, x.fitted = ensembleRun(tb, cfg)
	x.pool = slices.Clone(lb)
	rank(x.pool, PrimaryMetric(x.p.task))
	x.outputs = len(x.pool[0].oof) / len(x.p.train)
	x.specs, _ = ensembleSpecs(cfg, x.p, len(x.pool), x.outputs)
	if len(x.specs) == 0 {
		tb.Fatal("no ensemble to fit")
	}
	return x
}

// shortResults runs units in this process and reports each result as a
// worker's, with its test predictions cut to one value.
type shortResults struct{}

func (shortResults) Execute(ctx context.Context, units []Unit, done func(int, UnitResult) error) error {
	for i, u := range units {
		b, err := u.Run(ctx)
		if err != nil {
			return err
		}
		var v ensembleResultValue
		if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
			return err
		}
		v.TestPred = v.TestPred[:8]
		var w bytes.Buffer
		if err := gob.NewEncoder(&w).Encode(v); err != nil {
			return err
		}
		if err := done(i, UnitResult{Value: w.Bytes(), Worker: "w1"}); err != nil {
			return err
		}
	}
	return nil
}

// TestEnsembleResultOfAnotherShape: a worker's ensemble result whose test
// predictions do not cover the run's test rows is refused with a warning
// saying so, not made a leaderboard entry whose predictions the run
// indexes by test row (segment metrics read past their end).
func TestEnsembleResultOfAnotherShape(t *testing.T) {
	x := newEnsembleFixture(t)
	p := *x.p
	p.exec, p.log = shortResults{}, slog.New(slog.DiscardHandler)
	entries, _, warnings := runEnsembles(context.Background(), &p, x.specs, x.pool, x.fitted, coveredRows(&p, x.pool, x.outputs), x.outputs)
	want := fmt.Sprintf("1 test predictions for %d test rows", len(p.test))
	if len(entries) != 0 || !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, want) }) {
		t.Errorf("runEnsembles = %d entries, warnings %q; want none and a warning with %q", len(entries), warnings, want)
	}
}
