package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// PredictorKind is the envelope kind of a saved Predictor.
const PredictorKind = "tabforge.predictor"

// predictorVersion is the version of the payload layout inside the
// envelope; bump it when the layout changes incompatibly.
const predictorVersion = 2

// oldestPredictorVersion is the oldest payload layout this build reads.
// Version 2 added Routes; a version-1 payload is a version-2 one without.
const oldestPredictorVersion = 1

// Field names one input column the predictor reads and its kind.
type Field struct {
	Name string     `json:"name"`
	Kind frame.Kind `json:"kind"`
}

// Target describes what a predictor predicts.
type Target struct {
	Name string     `json:"name"`
	Task model.Task `json:"task"`
	// Classes are the class labels in class-index order (classification).
	Classes []string `json:"classes,omitempty"`
}

// Predictor is a trained model with everything needed to apply it to raw
// data: the input schema, the fitted preprocessing and the target coding.
// It is what `tabforge train` saves and `tabforge predict` loads.
type Predictor struct {
	Target Target
	Schema []Field
	// Chain holds the fitted advanced feature stages, applied before
	// Design; empty on the basic path.
	Chain   features.FittedChain
	Design  *features.Design
	Model   model.Model
	RunID   string
	Dataset string // dataset hash the model was trained on
	// Routes, when set, sends each row to the predictor of its segment;
	// rows of other segments use this predictor's own model.
	Routes *Routes
}

// Routes are per-segment predictors keyed by the label of a segment
// column (see SegmentLabel).
type Routes struct {
	Column string
	Models map[string]*Predictor
}

// predictorMeta is the JSON part of the payload.
type predictorMeta struct {
	Version int                  `json:"version"`
	Target  Target               `json:"target"`
	Schema  []Field              `json:"schema"`
	Chain   features.FittedChain `json:"chain,omitempty"`
	Design  *features.Design     `json:"design"`
	Family  string               `json:"family"`
	RunID   string               `json:"run_id"`
	Dataset string               `json:"dataset"`
	Routes  *routesMeta          `json:"routes,omitempty"`
}

// routesMeta holds each segment's predictor as a whole encoded envelope.
type routesMeta struct {
	Column string            `json:"column"`
	Models map[string][]byte `json:"models"`
}

// Marshal encodes p as an envelope: a length-prefixed JSON header, then
// the model family's own encoding.
func (p *Predictor) Marshal() ([]byte, error) {
	m := predictorMeta{Version: predictorVersion, Target: p.Target, Schema: p.Schema, Chain: p.Chain,
		Design: p.Design, Family: p.Model.Family(), RunID: p.RunID, Dataset: p.Dataset}
	if p.Routes != nil {
		m.Routes = &routesMeta{Column: p.Routes.Column, Models: make(map[string][]byte, len(p.Routes.Models))}
		for seg, sub := range p.Routes.Models {
			if sub.Routes != nil {
				return nil, fmt.Errorf("encode predictor: segment %q: nested routes are not supported", seg)
			}
			b, err := sub.Marshal()
			if err != nil {
				return nil, fmt.Errorf("segment %q: %w", seg, err)
			}
			m.Routes.Models[seg] = b
		}
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode predictor: %w", err)
	}
	body, err := p.Model.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode %s model: %w", p.Model.Family(), err)
	}
	payload := binary.LittleEndian.AppendUint64(nil, uint64(len(meta)))
	payload = append(payload, meta...)
	payload = append(payload, body...)
	return model.EncodeEnvelope(PredictorKind, payload), nil
}

// Save writes p to path atomically.
func (p *Predictor) Save(path string) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	return model.WriteFileAtomic(path, data)
}

// LoadPredictor reads a predictor saved by Save, decoding its model with
// the family from reg.
func LoadPredictor(path string, reg *model.Registry) (*Predictor, error) {
	payload, err := model.ReadEnvelopeFile(path, PredictorKind)
	if err != nil {
		return nil, err
	}
	p, err := decodePredictor(payload, reg)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return p, nil
}

func decodePredictor(payload []byte, reg *model.Registry) (*Predictor, error) {
	if len(payload) < 8 {
		return nil, model.ErrCorrupt
	}
	n := binary.LittleEndian.Uint64(payload)
	if n > uint64(len(payload)-8) {
		return nil, model.ErrCorrupt
	}
	var meta predictorMeta
	if err := json.Unmarshal(payload[8:8+n], &meta); err != nil {
		return nil, fmt.Errorf("%w: header: %v", model.ErrCorrupt, err)
	}
	if meta.Version < oldestPredictorVersion || meta.Version > predictorVersion {
		return nil, fmt.Errorf("%w: predictor layout %d, this build reads %d to %d", model.ErrVersion, meta.Version, oldestPredictorVersion, predictorVersion)
	}
	if meta.Design == nil {
		return nil, fmt.Errorf("%w: no preprocessing", model.ErrCorrupt)
	}
	fam, err := reg.Lookup(meta.Family)
	if err != nil {
		return nil, err
	}
	m, err := fam.Decode(payload[8+n:])
	if err != nil {
		return nil, fmt.Errorf("decode %s model: %w", meta.Family, err)
	}
	p := &Predictor{Target: meta.Target, Schema: meta.Schema, Chain: meta.Chain, Design: meta.Design, Model: m,
		RunID: meta.RunID, Dataset: meta.Dataset}
	if meta.Routes != nil {
		p.Routes = &Routes{Column: meta.Routes.Column, Models: make(map[string]*Predictor, len(meta.Routes.Models))}
		for seg, b := range meta.Routes.Models {
			kind, inner, err := model.DecodeEnvelope(b)
			if err == nil && kind != PredictorKind {
				err = fmt.Errorf("%w: %q", model.ErrWrongKind, kind)
			}
			if err != nil {
				return nil, fmt.Errorf("segment %q: %w", seg, err)
			}
			sub, err := decodePredictor(inner, reg)
			if err != nil {
				return nil, fmt.Errorf("segment %q: %w", seg, err)
			}
			p.Routes.Models[seg] = sub
		}
	}
	return p, nil
}

// Prediction holds a predictor's output for a batch of rows.
type Prediction struct {
	// Values are the predictions for regression, or the probability of
	// class 1 for binary tasks.
	Values []float64
	// Probs are class probabilities, row-major n×len(Classes), for
	// classification.
	Probs []float64
	// Labels are the predicted class labels for classification.
	Labels []string
}

// Predict applies p to the rows of x. x must contain every input column
// of p's schema with a compatible kind; extra columns are ignored.
func (p *Predictor) Predict(x *frame.Frame) (*Prediction, error) {
	if err := p.checkSchema(x); err != nil {
		return nil, err
	}
	if p.Routes != nil {
		return p.route(x)
	}
	return p.predictOwn(x)
}

// predictOwn applies p's own preprocessing and model, ignoring Routes.
func (p *Predictor) predictOwn(x *frame.Frame) (*Prediction, error) {
	if len(p.Chain) > 0 {
		var err error
		if x, err = p.Chain.Transform(x); err != nil {
			return nil, fmt.Errorf("advanced features: %w", err)
		}
	}
	mat, err := p.Design.Matrix(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, mat.Rows*p.Model.NumOutputs())
	if err := p.Model.Predict(out, mat); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	for i, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("predict: model produced %v for row %d", v, i/p.Model.NumOutputs())
		}
	}
	pred := &Prediction{}
	switch p.Target.Task {
	case model.Regression:
		pred.Values = out
	case model.Binary:
		pred.Values = out
		pred.Probs = make([]float64, 2*len(out))
		pred.Labels = make([]string, len(out))
		for i, p1 := range out {
			pred.Probs[2*i], pred.Probs[2*i+1] = 1-p1, p1
			pred.Labels[i] = p.Target.Classes[btoi(p1 >= 0.5)]
		}
	case model.Multiclass:
		k := len(p.Target.Classes)
		pred.Probs = out
		pred.Labels = make([]string, mat.Rows)
		for i := range mat.Rows {
			row := out[i*k : (i+1)*k]
			best := 0
			for c := range row {
				if row[c] > row[best] {
					best = c
				}
			}
			pred.Labels[i] = p.Target.Classes[best]
		}
	}
	return pred, nil
}

// ReadSchema returns the column kinds p expects, to pin them when reading
// new data (frame.ReadOptions.Schema), so that a column inferred
// differently in a small batch (a categorical of digits, say) still reads
// as the model was trained.
func (p *Predictor) ReadSchema() map[string]frame.Kind {
	m := make(map[string]frame.Kind, len(p.Schema)+1)
	for _, f := range p.Schema {
		m[f.Name] = f.Kind
	}
	return m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SchemaError reports input data that does not fit a predictor's schema.
type SchemaError struct {
	Column string
	Reason string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("column %q: %s", e.Column, e.Reason)
}

func (p *Predictor) checkSchema(x *frame.Frame) error {
	for _, f := range p.Schema {
		c, ok := x.Lookup(f.Name)
		if !ok {
			return &SchemaError{Column: f.Name, Reason: "missing from the data; the model needs it"}
		}
		if c.Kind != f.Kind {
			return &SchemaError{Column: f.Name, Reason: fmt.Sprintf("is %s, the model was trained on %s (read the data with ReadSchema)", c.Kind, f.Kind)}
		}
	}
	return nil
}
