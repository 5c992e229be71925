package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/store/cache"
)

// EnsembleUnitKind is the kind of the unit that fits one ensemble: the
// nested CV of its combiner on the candidates' out-of-fold predictions,
// its final combiner and its test score.
const EnsembleUnitKind = "ensemble"

// WorkerRun says where a unit ran on a queue and how long it queued and
// ran; a leaderboard entry of an ensemble fitted on a worker carries it.
type WorkerRun struct {
	Worker   string  `json:"worker"`
	QueuedMS float64 `json:"queued_ms"`
	RunMS    float64 `json:"run_ms"`
}

// ensembleUnitSpec is an ensemble unit's work by reference: the run
// (whose record gives the config, hence the ensemble's members and
// combiner, and the dataset, hence the rows and folds), and the content
// hash of the candidates' predictions, which exist only in the driver's
// memory and reach workers as an artifact (Sharer, UnitRunner.Artifact).
type ensembleUnitSpec struct {
	runRef
	Split    string   `json:"split"`
	Ensemble string   `json:"ensemble"`
	Members  []string `json:"members"`
	Inputs   string   `json:"inputs"`
}

// ensembleInputs is the artifact an ensemble unit's spec names: the pool
// of candidates, best first, with their out-of-fold predictions on the
// training rows and their predictions on the test rows (exact float64
// bits, NaN included).
type ensembleInputs struct {
	Models   []string
	OOF      [][]byte
	TestPred [][]byte
}

// encodeEnsembleInputs encodes pool's predictions and returns them with
// their content hash (SHA-256, hex).
func encodeEnsembleInputs(pool []Entry) ([]byte, string, error) {
	in := ensembleInputs{Models: make([]string, len(pool)), OOF: make([][]byte, len(pool)), TestPred: make([][]byte, len(pool))}
	for i, e := range pool {
		in.Models[i], in.OOF[i], in.TestPred[i] = e.Model, floatBytes(e.oof), floatBytes(e.testPred)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(in); err != nil {
		return nil, "", fmt.Errorf("ensemble inputs: %w", err)
	}
	return b.Bytes(), contentHash(b.Bytes()), nil
}

func contentHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// decodeEnsembleInputs decodes the pool of an ensemble unit's inputs,
// checking the predictions' sizes against p's rows.
func decodeEnsembleInputs(b []byte, p *prepared) ([]Entry, int, error) {
	var in ensembleInputs
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&in); err != nil {
		return nil, 0, fmt.Errorf("ensemble inputs: %w", err)
	}
	if len(in.Models) < 2 || len(in.OOF) != len(in.Models) || len(in.TestPred) != len(in.Models) || len(p.train) == 0 {
		return nil, 0, fmt.Errorf("ensemble inputs: %d models with %d and %d predictions", len(in.Models), len(in.OOF), len(in.TestPred))
	}
	pool := make([]Entry, len(in.Models))
	outputs := len(in.OOF[0]) / 8 / len(p.train)
	for i, name := range in.Models {
		oof, err := bytesFloats(in.OOF[i])
		if err != nil {
			return nil, 0, err
		}
		test, err := bytesFloats(in.TestPred[i])
		if err != nil {
			return nil, 0, err
		}
		if outputs < 1 || len(oof) != len(p.train)*outputs || len(test) != len(p.test)*outputs {
			return nil, 0, fmt.Errorf("ensemble inputs: %s has %d out-of-fold and %d test predictions; the run has %d training and %d test rows",
				name, len(oof), len(test), len(p.train), len(p.test))
		}
		pool[i] = Entry{Model: name, oof: oof, testPred: test}
	}
	return pool, outputs, nil
}

// ensembleResultValue is an ensemble unit's result. A fit that fails is
// a result (Error), not a failed unit: the run warns and goes on, as it
// does for every ensemble.
type ensembleResultValue struct {
	Error    string
	Combiner []byte
	// Params is the JSON of the combiner's description, as the process
	// that fitted it wrote it (a decoded voting combiner renormalises its
	// weights, which may move them by one unit in the last place).
	Params         []byte
	CV, CVStd      eval.Metrics
	CVFolds        int
	Undefined      map[string]int
	Test           eval.Metrics
	TestPred, Fold []byte
	LogLossFold    []byte // absent from a result encoded before it was kept
}

func encodeEnsembleResult(f *ensembleFit, fitErr error) ([]byte, error) {
	var v ensembleResultValue
	if fitErr != nil {
		v.Error = fitErr.Error()
	} else {
		var err error
		if v.Combiner, err = f.combiner.MarshalBinary(); err != nil {
			return nil, err
		}
		if v.Params, err = json.Marshal(f.params); err != nil {
			return nil, fmt.Errorf("ensemble params: %w", err)
		}
		v.CV, v.CVStd, v.Test = f.cv, f.cvStd, f.test
		v.CVFolds, v.Undefined = f.cvFolds, f.undefined
		v.TestPred, v.Fold, v.LogLossFold = floatBytes(f.testPred), floatBytes(f.foldScores), floatBytes(f.foldLogLoss)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("ensemble result: %w", err)
	}
	return b.Bytes(), nil
}

// decodeEnsembleResult decodes an ensemble unit's result; fitErr is the
// fit's own failure.
func decodeEnsembleResult(b []byte, names []string) (f *ensembleFit, fitErr, err error) {
	var v ensembleResultValue
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, nil, fmt.Errorf("ensemble result: %w", err)
	}
	if v.Error != "" {
		return nil, errors.New(v.Error), nil
	}
	f = &ensembleFit{cv: v.CV, cvStd: v.CVStd, cvFolds: v.CVFolds, undefined: v.Undefined, test: v.Test}
	if f.combiner, err = ensemble.DecodeCombiner(v.Combiner); err != nil {
		return nil, nil, err
	}
	if n := f.combiner.NumMembers(); n != len(names) {
		return nil, nil, fmt.Errorf("ensemble result: a combiner of %d members for %d", n, len(names))
	}
	if err := json.Unmarshal(v.Params, &f.params); err != nil {
		return nil, nil, fmt.Errorf("ensemble params: %w", err)
	}
	f.params["members"] = names
	if f.testPred, err = bytesFloats(v.TestPred); err != nil {
		return nil, nil, err
	}
	if f.foldScores, err = bytesFloats(v.Fold); err != nil {
		return nil, nil, err
	}
	if f.foldLogLoss, err = bytesFloats(v.LogLossFold); err != nil {
		return nil, nil, err
	}
	// gob sends an empty map as none; an entry's cv and test are {}.
	if f.cv == nil {
		f.cv = eval.Metrics{}
	}
	if f.test == nil {
		f.test = eval.Metrics{}
	}
	return f, nil, nil
}

// fitsRun reports a decoded fit whose combiner or predictions do not
// have the shape of p's ensembles with outputs values per row: the run
// indexes an entry's test predictions by test row (segment metrics) and
// its fold scores by fold, past the end of a worker's shorter ones.
func (f *ensembleFit) fitsRun(p *prepared, outputs int) error {
	folds := func(v []float64) bool { return v == nil || len(v) == len(p.folds) }
	switch {
	case f.combiner.NumOutputs() != outputs:
		return fmt.Errorf("ensemble result: a combiner of %d outputs for %d", f.combiner.NumOutputs(), outputs)
	case len(f.testPred) != len(p.test)*outputs:
		return fmt.Errorf("ensemble result: %d test predictions for %d test rows of %d outputs", len(f.testPred), len(p.test), outputs)
	case !folds(f.foldScores) || !folds(f.foldLogLoss):
		return fmt.Errorf("ensemble result: %d and %d fold scores for %d folds", len(f.foldScores), len(f.foldLogLoss), len(p.folds))
	case f.cvFolds < 1 || f.cvFolds > len(p.folds):
		return fmt.Errorf("ensemble result: %d scored folds of %d", f.cvFolds, len(p.folds))
	}
	return nil
}

// ensembleUnit is the unit that fits ensemble s over pool, whose
// predictions have content hash inputs. keep, if not nil, receives the
// fit when the unit runs in this process, so that the driver keeps the
// very combiner it fitted instead of a decoded copy.
func (p *prepared) ensembleUnit(s ensembleSpec, pool []Entry, covered []int, outputs int, inputs string, keep **ensembleFit) Unit {
	names := unitMembers(s, pool)
	spec, _ := json.Marshal(ensembleUnitSpec{runRef: p.ref(), Split: p.split, Ensemble: s.name, Members: names, Inputs: inputs})
	key := cache.Key(EnsembleUnitKind, cacheVersion, p.code, p.dataset, p.cfgHash, p.split, p.task, p.classes, s.name, names, inputs)
	return Unit{Key: key, Kind: EnsembleUnitKind, Spec: spec, Run: func(ctx context.Context) ([]byte, error) {
		f, err := fitEnsemble(ctx, p, s, pool, covered, outputs)
		if err != nil && ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if keep != nil {
			*keep = f
		}
		return encodeEnsembleResult(f, err)
	}}
}

// runEnsembles fits the ensembles specs describe over pool, one unit each
// through the run's executor (one at a time in this process when there
// is none). An executor that is a Sharer first gets the pool's
// predictions, which its workers fetch by content hash. An ensemble whose
// fit fails is a warning; so is a queue that fails them all.
func runEnsembles(ctx context.Context, p *prepared, specs []ensembleSpec, pool []Entry, fitted map[string]*Predictor,
	covered []int, outputs int) ([]Entry, map[string]*Predictor, []string) {
	var warnings []string
	inputs, hash, err := encodeEnsembleInputs(pool)
	if err != nil {
		return nil, nil, []string{fmt.Sprintf("ensembles skipped: %v", err)}
	}
	var exec Executor = Local{Workers: 1}
	if p.exec != nil {
		exec = p.exec
	}
	if sh, ok := exec.(Sharer); ok {
		if err := sh.ShareArtifact(ctx, hash, inputs); err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil
			}
			warnings = append(warnings, fmt.Sprintf("ensembles fitted in this process: their inputs could not be shared with the workers: %v", err))
			exec = Local{Workers: 1}
		}
	}
	kept := make([]*ensembleFit, len(specs))
	units := make([]Unit, len(specs))
	for i, s := range specs {
		units[i] = p.ensembleUnit(s, pool, covered, outputs, hash, &kept[i])
	}
	fits := make([]*ensembleFit, len(specs))
	failed := make([]error, len(specs))
	ran := make([]UnitResult, len(specs))
	err = exec.Execute(ctx, units, func(i int, r UnitResult) error {
		ran[i] = r
		if kept[i] != nil && r.Worker == LocalWorker {
			fits[i] = kept[i]
			return nil
		}
		var derr error
		fits[i], failed[i], derr = decodeEnsembleResult(r.Value, unitMembers(specs[i], pool))
		if derr == nil && fits[i] != nil {
			if derr = fits[i].fitsRun(p, outputs); derr != nil {
				fits[i] = nil
			}
		}
		return derr
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, nil
		}
		warnings = append(warnings, fmt.Sprintf("ensembles failed: %v", err))
	}
	entries := make([]Entry, 0, len(specs))
	preds := make(map[string]*Predictor, len(specs))
	for i, s := range specs {
		if failed[i] != nil {
			warnings = append(warnings, fmt.Sprintf("%s failed: %v", s.name, failed[i]))
		}
		if fits[i] == nil {
			continue
		}
		e, pr := fits[i].entry(s, pool, fitted)
		e.FitSeconds = round(e.FitSeconds+ran[i].Run.Seconds(), 4)
		if ran[i].Worker != LocalWorker {
			e.Ran = &WorkerRun{Worker: ran[i].Worker, QueuedMS: durationMS(ran[i].Queued), RunMS: durationMS(ran[i].Run)}
			p.log.Info("ensemble done", "ensemble", s.name, "worker", ran[i].Worker, "queued_ms", e.Ran.QueuedMS, "run_ms", e.Ran.RunMS)
		}
		entries = append(entries, e)
		preds[s.name] = pr
	}
	return entries, preds, warnings
}

func unitMembers(s ensembleSpec, pool []Entry) []string {
	names := make([]string, len(s.members))
	for i, m := range s.members {
		names[i] = pool[m].Model
	}
	return names
}

// runEnsemble rebuilds an ensemble unit from its spec, the run record and
// the inputs artifact, and runs it.
func (u *UnitRunner) runEnsemble(ctx context.Context, key string, spec []byte) ([]byte, error) {
	unit, err := u.rebuildEnsemble(ctx, key, spec)
	if err != nil {
		return nil, err
	}
	return unit.Run(ctx)
}

// rebuildEnsemble rebuilds the ensemble unit spec describes and checks
// that it is the unit the driver sent as key: every check a worker makes
// before it fits anything.
func (u *UnitRunner) rebuildEnsemble(ctx context.Context, key string, spec []byte) (Unit, error) {
	var es ensembleUnitSpec
	if err := json.Unmarshal(spec, &es); err != nil {
		return Unit{}, fmt.Errorf("pipeline: ensemble spec: %w", err)
	}
	if u.Artifact == nil {
		return Unit{}, errors.New("pipeline: this worker cannot fetch an ensemble's inputs (UnitRunner.Artifact is nil)")
	}
	p, cfg, err := u.prepared(ctx, es.runRef)
	if err != nil {
		return Unit{}, err
	}
	b, err := u.Artifact(ctx, es.Inputs)
	if err != nil {
		return Unit{}, fmt.Errorf("pipeline: inputs %.12s of %s: %w", es.Inputs, es.Ensemble, err)
	}
	if h := contentHash(b); h != es.Inputs {
		return Unit{}, fmt.Errorf("pipeline: inputs of %s have hash %.12s, not %.12s", es.Ensemble, h, es.Inputs)
	}
	pool, outputs, err := decodeEnsembleInputs(b, p)
	if err != nil {
		return Unit{}, err
	}
	covered := coveredRows(p, pool, outputs)
	specs, _ := ensembleSpecs(cfg, p, len(pool), outputs)
	for _, s := range specs {
		if s.name != es.Ensemble {
			continue
		}
		unit := p.ensembleUnit(s, pool, covered, outputs, es.Inputs, nil)
		if unit.Key != key {
			return Unit{}, fmt.Errorf("pipeline: %s of run %s rebuilds to another unit than the driver sent (a different tabforge build?)", es.Ensemble, es.Run)
		}
		return unit, nil
	}
	return Unit{}, fmt.Errorf("pipeline: the config of run %s builds no %s over %d candidates", es.Run, es.Ensemble, len(pool))
}
