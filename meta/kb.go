package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

// Record kinds of the knowledge base in a store.Records. Neither is the
// step cache, so store export and import carry both.
const (
	// KindDataset records a dataset version's meta-features; key
	// DatasetKey(hash, target).
	KindDataset = "meta.dataset"
	// KindEval records one configuration's evaluation on a dataset; key
	// DatasetKey + "/" + Eval.ID, so a dataset's evaluations share a
	// prefix and a configuration evaluated again replaces its record.
	KindEval = "meta.eval"
)

// DatasetKey names a dataset in the knowledge base: its content hash and
// target column (the same file with another target is another problem).
func DatasetKey(hash, target string) string { return hash + "/" + url.PathEscape(target) }

// Dataset is a known dataset.
type Dataset struct {
	Key      string     `json:"key"`
	Hash     string     `json:"hash"`
	Name     string     `json:"name"` // the data file it was read from
	Target   string     `json:"target"`
	Task     model.Task `json:"task"`
	Features *Features  `json:"features"`
	// Metric is the CV metric of its evaluations; HigherIsBetter its
	// direction.
	Metric         string    `json:"metric"`
	HigherIsBetter bool      `json:"higher_is_better"`
	Updated        time.Time `json:"updated"`
}

// Eval is one configuration's evaluation on a known dataset.
type Eval struct {
	// ID identifies the configuration (family, variant, stages of an
	// advanced variant, params) independently of the dataset.
	ID      string         `json:"id"`
	Dataset string         `json:"dataset"` // DatasetKey
	Family  string         `json:"family"`
	Variant string         `json:"variant,omitempty"`
	Stages  []string       `json:"stages,omitempty"` // feature stages of an advanced variant
	Params  map[string]any `json:"params,omitempty"`
	Source  string         `json:"source"` // pipeline.SourceTrial, SourceCandidate or SourceEnsemble
	Metric  string         `json:"metric"`
	Score   float64        `json:"score"`
	Folds   Scores         `json:"fold_scores,omitempty"`
	Seconds float64        `json:"seconds"`
	RunID   string         `json:"run_id"`
	Study   string         `json:"study,omitempty"`
	Trial   int            `json:"trial,omitempty"`
	// Split identifies the training rows whose CV folds gave Score
	// (pipeline.SplitID); "" in records older than it, and in the
	// shipped knowledge base.
	Split string `json:"split,omitempty"`
}

// Scores are per-fold scores; NaN (a fold not scored) is JSON null.
type Scores []float64

// MarshalJSON implements json.Marshaler.
func (s Scores) MarshalJSON() ([]byte, error) {
	out := make([]*float64, len(s))
	for i := range s {
		if !math.IsNaN(s[i]) && !math.IsInf(s[i], 0) {
			out[i] = &s[i]
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Scores) UnmarshalJSON(b []byte) error {
	var in []*float64
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*s = make(Scores, len(in))
	for i, v := range in {
		(*s)[i] = math.NaN()
		if v != nil {
			(*s)[i] = *v
		}
	}
	return nil
}

// ConfigID identifies a configuration: a hash of its family, variant,
// stages (for an advanced variant) and parameters.
func ConfigID(family, variant string, stages []string, params map[string]any) (string, error) {
	if variant == "" {
		stages = nil
	}
	b, err := json.Marshal(struct {
		Family  string         `json:"family"`
		Variant string         `json:"variant"`
		Stages  []string       `json:"stages"`
		Params  map[string]any `json:"params"`
	}{family, variant, stages, params})
	if err != nil {
		return "", fmt.Errorf("meta: config id: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8]), nil
}

// KB is the knowledge base kept in a store's records. It is safe for
// concurrent use when Records is.
type KB struct {
	Records store.Records
	// Options are how RecordExperiment computes meta-features.
	Options Options
	// Now is the clock of Updated times; nil means time.Now.
	Now func() time.Time
}

var _ pipeline.KnowledgeRecorder = (*KB)(nil)

// RecordExperiment implements pipeline.KnowledgeRecorder: it records the
// dataset's meta-features, computed unless already known, and every
// evaluation with a finite score, in one batch when the store writes
// batches.
func (kb *KB) RecordExperiment(ctx context.Context, e *pipeline.Experiment) error {
	key := DatasetKey(e.Dataset, e.Target)
	if _, err := kb.Dataset(ctx, key); errors.Is(err, store.ErrNotFound) {
		f, err := Compute(ctx, e.Table, kb.Options)
		if err != nil {
			return err
		}
		d := &Dataset{Key: key, Hash: e.Dataset, Name: e.Name, Target: e.Target, Task: e.Table.Task, Features: f,
			Metric: e.Metric, HigherIsBetter: e.HigherIsBetter, Updated: kb.now()}
		if err := kb.put(ctx, KindDataset, key, d); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	var recs []*store.Record
	for _, ev := range e.Evaluations {
		if math.IsNaN(ev.Score) || math.IsInf(ev.Score, 0) {
			continue
		}
		stages := e.Stages
		if ev.Variant == "" {
			stages = nil
		}
		id, err := ConfigID(ev.Family, ev.Variant, stages, ev.Params)
		if err != nil {
			return err
		}
		r := Eval{ID: id, Dataset: key, Family: ev.Family, Variant: ev.Variant, Stages: stages, Params: ev.Params,
			Source: ev.Source, Metric: e.Metric, Score: ev.Score, Folds: ev.FoldScores, Seconds: ev.Seconds,
			RunID: e.RunID, Study: ev.Study, Trial: ev.Trial, Split: e.Split}
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("meta: evaluation %s: %w", ev.Family, err)
		}
		recs = append(recs, &store.Record{Kind: KindEval, Key: key + "/" + id, Value: b, Updated: kb.now()})
	}
	return kb.putAll(ctx, recs)
}

func (kb *KB) now() time.Time {
	if kb.Now != nil {
		return kb.Now().UTC()
	}
	return time.Now().UTC()
}

// PutDataset records d under d.Key, replacing an earlier record.
func (kb *KB) PutDataset(ctx context.Context, d *Dataset) error {
	return kb.put(ctx, KindDataset, d.Key, d)
}

func (kb *KB) put(ctx context.Context, kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("meta: %s %s: %w", kind, key, err)
	}
	if err := kb.Records.PutRecord(ctx, kind, key, b); err != nil {
		return fmt.Errorf("meta: %s %s: %w", kind, key, err)
	}
	return nil
}

// putAll writes recs in one batch when the store can.
func (kb *KB) putAll(ctx context.Context, recs []*store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if b, ok := kb.Records.(interface {
		PutRecords(context.Context, []*store.Record) error
	}); ok {
		if err := b.PutRecords(ctx, recs); err != nil {
			return fmt.Errorf("meta: evaluations: %w", err)
		}
		return nil
	}
	for _, r := range recs {
		if err := kb.Records.PutRecord(ctx, r.Kind, r.Key, r.Value); err != nil {
			return fmt.Errorf("meta: evaluation %s: %w", r.Key, err)
		}
	}
	return nil
}

// Dataset returns the known dataset with key, or an error wrapping
// store.ErrNotFound.
func (kb *KB) Dataset(ctx context.Context, key string) (*Dataset, error) {
	r, err := kb.Records.GetRecord(ctx, KindDataset, key)
	if err != nil {
		return nil, err
	}
	var d Dataset
	if err := json.Unmarshal(r.Value, &d); err != nil {
		return nil, fmt.Errorf("meta: dataset %s: %w", key, err)
	}
	return &d, nil
}

// Datasets returns every known dataset, ordered by key.
func (kb *KB) Datasets(ctx context.Context) ([]*Dataset, error) {
	recs, err := kb.Records.ListRecords(ctx, KindDataset, "")
	if err != nil {
		return nil, fmt.Errorf("meta: datasets: %w", err)
	}
	out := make([]*Dataset, 0, len(recs))
	for _, r := range recs {
		var d Dataset
		if err := json.Unmarshal(r.Value, &d); err != nil {
			return nil, fmt.Errorf("meta: dataset %s: %w", r.Key, err)
		}
		if d.Features == nil {
			return nil, fmt.Errorf("meta: dataset %s has no meta-features", r.Key)
		}
		out = append(out, &d)
	}
	return out, nil
}

// Evals returns the evaluations recorded on the dataset with key, ordered
// by configuration id.
func (kb *KB) Evals(ctx context.Context, key string) ([]*Eval, error) {
	recs, err := kb.Records.ListRecords(ctx, KindEval, key+"/")
	if err != nil {
		return nil, fmt.Errorf("meta: evaluations of %s: %w", key, err)
	}
	out := make([]*Eval, 0, len(recs))
	for _, r := range recs {
		var e Eval
		if err := json.Unmarshal(r.Value, &e); err != nil {
			return nil, fmt.Errorf("meta: evaluation %s: %w", r.Key, err)
		}
		out = append(out, &e)
	}
	return out, nil
}
