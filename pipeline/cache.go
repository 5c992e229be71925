package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/report"
	"github.com/tabforge/tabforge/store/cache"
)

// cacheVersion is part of every step cache key; bump it when what a
// cached value holds or how it is encoded changes.
const cacheVersion = "pipeline-cache-1"

// candidateFormat is part of a candidate's cache key. Format 2 keeps a
// candidate's out-of-fold predictions in its folds' entries only, naming
// them (FoldKeys); format 1 copied them into the candidate's entry too.
// Its own key keeps an older tabforge from reading a format 2 entry as
// one without out-of-fold predictions.
const candidateFormat = "candidate-2"

// analysisFormat versions a cached analysis's meaning: format 2 numbers
// the largest errors by data row, format 1 by position among the test
// rows, which the page would now show as data rows.
const analysisFormat = "analysis-2"

// errUncacheable marks a computed step whose result cannot be encoded:
// it is used, but not cached.
var errUncacheable = errors.New("result cannot be cached")

// chainID identifies a feature chain by its stages' types and settings.
func chainID(c features.Chain) []string {
	out := make([]string, len(c))
	for i, t := range c {
		b, err := json.Marshal(t)
		if err != nil {
			b = []byte(err.Error())
		}
		out[i] = fmt.Sprintf("%T%s", t, b)
	}
	return out
}

// candidateConfig is the config with every key reset that cannot change
// one candidate's cross-validation, final fit or test scores: the other
// families, ensembles, gates, per-segment models, reports and the feature
// switches (the candidate's feature chain enters its key on its own, so
// that basic candidates still hit when an advanced stage is toggled).
// Keys are reset rather than picked so that a key added later misses the
// cache rather than serving a stale result.
func candidateConfig(cfg *config.Config, family string) *config.Config {
	k, d := cfg.Clone(), config.Default()
	k.Models = nil
	k.ModelParams = nil
	if mp, ok := cfg.ModelParams[family]; ok {
		k.ModelParams = map[string]map[string]any{family: mp}
	}
	k.SegmentColumn = d.SegmentColumn
	k.EnableAdvancedFeatures, k.EnableTemporalFeatures = d.EnableAdvancedFeatures, d.EnableTemporalFeatures
	k.EnableMarketFeatures, k.EnableInteractionFeatures = d.EnableMarketFeatures, d.EnableInteractionFeatures
	k.CompareBasicFeatures, k.MinPanelCoverage = d.CompareBasicFeatures, d.MinPanelCoverage
	k.TemporalLags, k.RollingWindows, k.TargetEncodingSmoothing = d.TemporalLags, d.RollingWindows, d.TargetEncodingSmoothing
	k.InteractionTopK, k.MaxInteractions = d.InteractionTopK, d.MaxInteractions
	k.SegmentBy, k.MinSegmentRows = d.SegmentBy, d.MinSegmentRows
	k.EnableAdvancedEnsemble, k.UseStacking, k.UseVoting, k.UseSelection = d.EnableAdvancedEnsemble, d.UseStacking, d.UseVoting, d.UseSelection
	k.StackingPassthrough, k.EnsembleTopK = d.StackingPassthrough, d.EnsembleTopK
	k.ForceProductionQuality, k.MinR2Threshold, k.MinBusinessAccuracy = d.ForceProductionQuality, d.MinR2Threshold, d.MinBusinessAccuracy
	k.MinSegmentBusinessAccuracy, k.MaxLatency = d.MinSegmentBusinessAccuracy, d.MaxLatency
	k.BusinessRules, k.BiasVarianceRounds, k.MaxExplainRows = d.BusinessRules, d.BiasVarianceRounds, d.MaxExplainRows
	return k
}

// rowsID identifies the split the candidate sees: training, test and fold
// rows. It is cache.Key(p.train, p.test, p.folds), see rowsKey.
func (p *prepared) rowsID() string { return rowsKey(p.train, p.test, p.folds) }

// candidateKey names everything a candidate's result depends on.
func (p *prepared) candidateKey(cfg *config.Config, family string) string {
	return cache.Key("candidate", cacheVersion, candidateFormat, p.code, p.dataset, p.task, p.classes, family,
		chainID(p.chain), candidateConfig(cfg, family).Hash(), p.rowsID())
}

// cachedCandidate returns the candidate's cached result, or runs it and
// caches what it gives. A cache entry that does not decode is recomputed.
func (p *prepared) cachedCandidate(ctx context.Context, cfg *config.Config, family string, run func() (Entry, *Predictor, error)) (Entry, *Predictor, error) {
	if p.cache == nil {
		return run()
	}
	key := p.candidateKey(cfg, family)
	var entry Entry
	var pred *Predictor
	val, hit, err := p.cache.Do(ctx, key, func(context.Context) ([]byte, error) {
		var err error
		if entry, pred, err = run(); err != nil {
			return nil, err
		}
		b, err := encodeCandidate(entry, pred)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUncacheable, err)
		}
		return b, nil
	})
	switch {
	case errors.Is(err, errUncacheable):
		return entry, pred, nil
	case err != nil:
		return Entry{}, nil, err
	case !hit:
		return entry, pred, nil
	}
	entry, pred, err = decodeCandidate(val, p.families)
	if err == nil && entry.oof == nil && entry.foldKeys != nil {
		entry.oof, err = p.foldsOOF(ctx, entry.foldKeys)
	}
	if err != nil {
		p.log.Warn("cache: cached candidate does not decode; recomputing", "model", family, "err", err)
		return run()
	}
	entry.Cached = true
	return entry, pred, nil
}

// foldsOOF assembles out-of-fold predictions from the cached entries of
// p's CV folds (keys, in fold order), as crossValidate does. A fold
// entry that is gone (the cache was pruned) is an error: the candidate
// is computed again.
func (p *prepared) foldsOOF(ctx context.Context, keys []string) ([]float64, error) {
	if len(keys) != len(p.folds) {
		return nil, fmt.Errorf("%d fold entries for %d folds", len(keys), len(p.folds))
	}
	var oof []float64
	for i, key := range keys {
		val, ok := p.cache.Get(ctx, key)
		if !ok {
			return nil, fmt.Errorf("fold %d's entry is not in the cache", i+1)
		}
		r, err := decodeFold(val)
		if err == nil {
			oof, err = placeFold(oof, len(p.train), p.folds[i], r.pred)
		}
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", i+1, err)
		}
	}
	return oof, nil
}

// cachedCandidateValue is a candidate's cache entry. Its out-of-fold
// predictions are in the entries of its folds (FoldKeys), or in OOF when
// some fold was not cached.
type cachedCandidateValue struct {
	Entry    Entry    `json:"entry"`
	TestPred []byte   `json:"test_pred"`
	OOF      []byte   `json:"oof,omitempty"`
	FoldKeys []string `json:"fold_keys,omitempty"`
	Folds    []byte   `json:"folds,omitempty"` // Entry.foldScores
	// LogLossFolds is Entry.foldLogLoss; absent from an entry cached
	// before it was kept.
	LogLossFolds []byte `json:"logloss_folds,omitempty"`
	Predictor    []byte `json:"predictor"`
}

// encodeCandidate encodes with gob: binary, so a large model needs no
// base64, and metrics may be NaN.
func encodeCandidate(e Entry, p *Predictor) ([]byte, error) {
	pb, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	v := cachedCandidateValue{Entry: e, TestPred: floatBytes(e.testPred), Folds: floatBytes(e.foldScores),
		LogLossFolds: floatBytes(e.foldLogLoss), Predictor: pb}
	if e.oof != nil && len(e.foldKeys) > 0 && !slices.Contains(e.foldKeys, "") {
		v.FoldKeys = e.foldKeys
	} else {
		v.OOF = floatBytes(e.oof)
	}
	var b bytes.Buffer
	err = gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

func decodeCandidate(b []byte, reg *model.Registry) (Entry, *Predictor, error) {
	var v cachedCandidateValue
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return Entry{}, nil, err
	}
	kind, payload, err := model.DecodeEnvelope(v.Predictor)
	if err == nil && kind != PredictorKind {
		err = fmt.Errorf("%w: %q", model.ErrWrongKind, kind)
	}
	if err != nil {
		return Entry{}, nil, err
	}
	pred, err := decodePredictor(payload, reg)
	if err != nil {
		return Entry{}, nil, err
	}
	e := v.Entry
	if e.testPred, err = bytesFloats(v.TestPred); err != nil {
		return Entry{}, nil, err
	}
	if e.oof, err = bytesFloats(v.OOF); err != nil {
		return Entry{}, nil, err
	}
	e.foldKeys = v.FoldKeys
	if e.foldScores, err = bytesFloats(v.Folds); err != nil {
		return Entry{}, nil, err
	}
	if e.foldLogLoss, err = bytesFloats(v.LogLossFolds); err != nil {
		return Entry{}, nil, err
	}
	return e, pred, nil
}

// foldKey names everything one fold's scores depend on: the learner with
// its parameters, the preprocessing and the rows. ok is false for a
// learner that cannot be encoded.
func (p *prepared) foldKey(l model.Learner, spec features.DesignSpec, trainRows, evalRows []int) (string, bool) {
	lb, err := json.Marshal(l)
	if err != nil {
		return "", false
	}
	return cache.Key("fold", cacheVersion, p.code, p.dataset, p.table, p.task, p.classes, fmt.Sprintf("%T", l), json.RawMessage(lb),
		spec, chainID(p.chain), trainRows, evalRows), true
}

// tableID identifies a training table of a dataset: the feature columns
// of x (names and kinds), the dataset rows kept (those with a target, and
// a time when one is asked for) and the coded target y. The dataset hash
// alone named the file: two runs on one file, with another --target or
// --drop, shared their folds' cached scores, so a run reported another
// target's CV scores as its own.
func tableID(x *frame.Frame, kept []int, y []float64) string {
	h := sha256.New()
	for _, c := range x.Columns() {
		fmt.Fprintf(h, "%q %d\n", c.Name, c.Kind)
	}
	var b [8]byte
	for _, i := range kept {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		h.Write(b[:])
	}
	h.Write([]byte("y"))
	for _, v := range y {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cachedFold is fitScore for a CV fold through the cache: a hit returns
// the fold's metrics and predictions without fitting anything.
func (p *prepared) cachedFold(ctx context.Context, l model.Learner, spec features.DesignSpec, memoKey string, trainRows, evalRows []int, fo model.FitOptions) (*fitResult, error) {
	key, ok := p.foldKey(l, spec, trainRows, evalRows)
	if p.cache == nil || !ok {
		return fitScore(ctx, l, spec, p, memoKey, trainRows, evalRows, fo)
	}
	var r *fitResult
	val, hit, err := p.cache.Do(ctx, key, func(ctx context.Context) ([]byte, error) {
		var err error
		if r, err = fitScore(ctx, l, spec, p, memoKey, trainRows, evalRows, fo); err != nil {
			return nil, err
		}
		b, err := encodeFold(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUncacheable, err)
		}
		return b, nil
	})
	switch {
	case errors.Is(err, errUncacheable):
		return r, nil
	case err != nil:
		return nil, err
	case !hit:
		return r, nil
	}
	if r, err := decodeFold(val); err == nil {
		return r, nil
	}
	p.log.Warn("cache: cached fold does not decode; recomputing")
	return fitScore(ctx, l, spec, p, memoKey, trainRows, evalRows, fo)
}

// cachedFoldValue is a fold's result, as cached and as a fold unit's
// result bytes.
type cachedFoldValue struct {
	Metrics eval.Metrics `json:"metrics"`
	Pred    []byte       `json:"pred"`
	// StopRate is what early stopping found in the fold's fit, rounds per
	// training row (see model.StopRater); absent without early stopping
	// and in entries cached before it was kept.
	StopRate float64 `json:"stop_rate,omitempty"`
}

func encodeFold(r *fitResult) ([]byte, error) {
	return json.Marshal(cachedFoldValue{Metrics: r.metrics, Pred: floatBytes(r.pred), StopRate: r.stopRate})
}

// decodeFold returns the scores, predictions and stop rate of a fold's
// result bytes (no model).
func decodeFold(b []byte) (*fitResult, error) {
	var v cachedFoldValue
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("fold result: %w", err)
	}
	pred, err := bytesFloats(v.Pred)
	if err != nil {
		return nil, err
	}
	if len(v.Metrics) == 0 {
		return nil, errors.New("fold result has no metrics")
	}
	if !(v.StopRate >= 0) || math.IsInf(v.StopRate, 0) {
		return nil, fmt.Errorf("fold result has stop rate %v", v.StopRate)
	}
	return &fitResult{metrics: v.Metrics, pred: pred, stopRate: v.StopRate}, nil
}

// floatBytes encodes floats exactly, NaN included (JSON cannot).
func floatBytes(v []float64) []byte {
	if v == nil {
		return nil
	}
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func bytesFloats(b []byte) ([]float64, error) {
	if b == nil {
		return nil, nil
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("cache: %d bytes are not whole float64s", len(b))
	}
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

// cachedAnalysisValue is an analysis's cache entry: the report data the
// analysis computed, with the warnings it added.
type cachedAnalysisValue struct {
	Data     *report.Data      `json:"data"`
	Rules    []eval.RuleResult `json:"rules,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
}

// cachedAnalyze is analyze through the cache. The analysis is determined
// by the code, the data and split, the whole config and the candidates
// (which fix the best model, ensembles and segment models); a hit keeps
// what this run's result says (run id, leaderboard, gates, timings, cache
// counts) and takes the rest from the cached report data.
func (p *prepared) cachedAnalyze(ctx context.Context, cfg *config.Config, res *Result, pred *Predictor, a *Analysis, o AnalysisOptions) error {
	if p.cache == nil || len(p.candKeys) == 0 {
		return analyze(ctx, cfg, res, p, pred, a, o)
	}
	key := cache.Key("analysis", cacheVersion, analysisFormat, p.code, p.dataset, p.rowsID(), cfg.Hash(), res.Best, p.candKeys)
	base := len(a.Data.Warnings)
	val, hit, err := p.cache.Do(ctx, key, func(ctx context.Context) ([]byte, error) {
		if err := analyze(ctx, cfg, res, p, pred, a, o); err != nil {
			return nil, err
		}
		// gob, unlike JSON, keeps the NaNs report data may hold.
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(cachedAnalysisValue{Data: a.Data, Rules: a.Rules, Warnings: a.Data.Warnings[base:]}); err != nil {
			return nil, fmt.Errorf("%w: %v", errUncacheable, err)
		}
		return b.Bytes(), nil
	})
	switch {
	case errors.Is(err, errUncacheable):
		return nil
	case err != nil || !hit:
		return err
	}
	var v cachedAnalysisValue
	if err := gob.NewDecoder(bytes.NewReader(val)).Decode(&v); err != nil || v.Data == nil {
		p.log.Warn("cache: cached analysis does not decode; recomputing", "err", err)
		return analyze(ctx, cfg, res, p, pred, a, o)
	}
	fresh := a.Data
	d := v.Data
	d.RunID, d.Task, d.Target, d.DatasetHash, d.Split = fresh.RunID, fresh.Task, fresh.Target, fresh.DatasetHash, fresh.Split
	d.TrainRows, d.TestRows, d.Metric, d.Best, d.Deployable = fresh.TrainRows, fresh.TestRows, fresh.Metric, fresh.Best, fresh.Deployable
	d.ModelPath, d.Classes, d.Fallbacks, d.Timings = fresh.ModelPath, fresh.Classes, fresh.Fallbacks, fresh.Timings
	d.Leaderboard, d.Segments, d.Gates, d.Cache = fresh.Leaderboard, fresh.Segments, fresh.Gates, fresh.Cache
	d.SegmentModels = fresh.SegmentModels
	d.Warnings = append(fresh.Warnings, v.Warnings...)
	a.Data, a.Rules = d, v.Rules
	return nil
}

// cachedPNG memoises one rendered report chart (report.Options.PNG) in
// the store, with counters of its own: rendering is not a pipeline step,
// so it stays out of the run's hit and miss counts.
func (p *prepared) cachedPNG(ctx context.Context, key string, render func() ([]byte, error)) ([]byte, error) {
	if p.pngCache == nil {
		return render()
	}
	img, _, err := p.pngCache.Do(ctx, cache.Key("report-png", cacheVersion, p.code, key), func(context.Context) ([]byte, error) { return render() })
	return img, err
}
