package pipeline

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
)

// PredictorKind is the envelope kind of a saved Predictor.
const PredictorKind = "tabforge.predictor"

// predictorVersion is the highest version of the payload layout inside
// the envelope this build reads; bump it when the layout changes
// incompatibly or a model family, feature-step kind or target transform
// is added (see layoutOf: a file is written at the lowest layout that
// reads it). Version 2 added ensembles (Members and Combiner) and
// per-segment Routes; a version 1 payload is a version 2 payload without
// them, so both load. Version 3 added ColumnMissing, which a reader that
// skipped it would read new data wrongly without (an income of 0 as a
// value): only a payload that has it is written as version 3 (see
// Predictor.layout), so older readers refuse that one and still load
// every other.
const predictorVersion = 3

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
	// Version 2: an ensemble's members, whose model encodings follow one
	// another in the body, and its combiner.
	Members  []memberMeta `json:"members,omitempty"`
	Combiner []byte       `json:"combiner,omitempty"`
	Name     string       `json:"name,omitempty"` // absent in older files
	// Version 2: per-segment predictors, each a whole encoded envelope.
	Routes *routesMeta `json:"routes,omitempty"`
	// The contract's metrics and lineage; absent in older files.
	Metrics    eval.Metrics `json:"metrics,omitempty"`
	Lineage    *Lineage     `json:"lineage,omitempty"`
	Background string       `json:"background,omitempty"`
	// Missing-value texts; absent in older files (frame's default).
	Missing []string `json:"missing_values,omitempty"`
	// Missing-value texts of single columns; absent for none.
	ColumnMissing map[string][]string `json:"column_missing_values,omitempty"`
}

type routesMeta struct {
	Column string            `json:"column"`
	Models map[string][]byte `json:"models"`
}

type memberMeta struct {
	Name   string               `json:"name"`
	Chain  features.FittedChain `json:"chain,omitempty"`
	Design *features.Design     `json:"design"`
	Family string               `json:"family"`
	Size   int                  `json:"size"` // bytes of the model's encoding in the body
}

// Marshal encodes p as an envelope: a length-prefixed JSON header, then
// the model family's own encoding (for an ensemble, each member's in turn).
func (p *Predictor) Marshal() ([]byte, error) {
	meta := predictorMeta{Version: p.layout(), Target: p.Target, Schema: p.Schema, Chain: p.Chain,
		Design: p.Design, RunID: p.RunID, Dataset: p.Dataset, Metrics: p.Metrics, Background: p.Background, Name: p.Name, Missing: p.Missing,
		ColumnMissing: p.ColumnMissing}
	if p.Lineage != (Lineage{}) {
		meta.Lineage = &p.Lineage
	}
	var body []byte
	if len(p.Members) == 0 {
		meta.Family = p.Model.Family()
	} else {
		if p.Combiner == nil || p.Combiner.NumMembers() != len(p.Members) {
			return nil, fmt.Errorf("encode predictor: %d members need a combiner of as many", len(p.Members))
		}
		meta.Family = ensemble.FamilyName
		for _, m := range p.Members {
			b, err := m.Model.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("encode member %s: %w", m.Name, err)
			}
			meta.Members = append(meta.Members, memberMeta{Name: m.Name, Chain: m.Chain, Design: m.Design, Family: m.Model.Family(), Size: len(b)})
			body = append(body, b...)
		}
		c, err := p.Combiner.MarshalBinary()
		if err != nil {
			return nil, err
		}
		meta.Combiner = c
	}
	if err := p.marshalRoutes(&meta); err != nil {
		return nil, err
	}
	header, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encode predictor: %w", err)
	}
	payload := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(header)+len(body)), uint64(len(header)))
	payload = append(payload, header...)
	if len(p.Members) > 0 {
		payload = append(payload, body...)
	} else if payload, err = appendModel(payload, p.Model); err != nil {
		return nil, fmt.Errorf("encode %s model: %w", p.Model.Family(), err)
	}
	return model.EncodeEnvelope(PredictorKind, payload), nil
}

// appendModel appends m's encoding to b, in place when m can
// (encoding.BinaryAppender): a 200-class gbdt's 48 MB encoding was
// copied after the header whole, the model's alone and the payload
// each holding it.
func appendModel(b []byte, m model.Model) ([]byte, error) {
	if a, ok := m.(encoding.BinaryAppender); ok {
		return a.AppendBinary(b)
	}
	enc, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// marshalRoutes fills meta.Routes with the encodings of p's segments'
// predictors.
func (p *Predictor) marshalRoutes(meta *predictorMeta) error {
	if p.Routes == nil {
		return nil
	}
	meta.Routes = &routesMeta{Column: p.Routes.Column, Models: make(map[string][]byte, len(p.Routes.Models))}
	for seg, sub := range p.Routes.Models {
		if sub.Routes != nil {
			return fmt.Errorf("encode predictor: segment %q: nested routes are not supported", seg)
		}
		b, err := sub.Marshal()
		if err != nil {
			return fmt.Errorf("segment %q: %w", seg, err)
		}
		meta.Routes.Models[seg] = b
	}
	return nil
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
// the family from reg; nil means Families(), the families tabforge ships.
func LoadPredictor(path string, reg *model.Registry) (*Predictor, error) {
	if reg == nil {
		reg = Families()
	}
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
	p, err := decodeOwn(payload, reg)
	if err == nil {
		err = p.checkTarget()
	}
	if err != nil {
		return nil, err
	}
	// decodeOwn has checked the header's length and JSON.
	n := binary.LittleEndian.Uint64(payload)
	var meta struct {
		Routes *routesMeta `json:"routes"`
	}
	if err := json.Unmarshal(payload[8:8+n], &meta); err != nil || meta.Routes == nil {
		return p, nil
	}
	p.Routes = &Routes{Column: meta.Routes.Column, Models: make(map[string]*Predictor, len(meta.Routes.Models))}
	for seg, b := range meta.Routes.Models {
		kind, inner, err := model.DecodeEnvelope(b)
		if err == nil && kind != PredictorKind {
			err = fmt.Errorf("%w: %q", model.ErrWrongKind, kind)
		}
		if err != nil {
			return nil, fmt.Errorf("segment %q: %w", seg, err)
		}
		sub, err := decodeOwn(inner, reg)
		if err == nil {
			err = sub.checkTarget()
		}
		if err != nil {
			return nil, fmt.Errorf("segment %q: %w", seg, err)
		}
		p.Routes.Models[seg] = sub
	}
	return p, nil
}

// checkTarget reports a decoded target that does not fit its model: a
// classifier needs a label for each class its model scores (a binary
// one two), or predicting would index past the labels.
func (p *Predictor) checkTarget() error {
	outputs := 0
	switch {
	case p.Combiner != nil:
		outputs = p.Combiner.NumOutputs()
	case p.Model != nil:
		outputs = p.Model.NumOutputs()
	}
	want := 0
	switch p.Target.Task {
	case model.Binary:
		want = 2
	case model.Multiclass:
		want = outputs
	default:
		return nil
	}
	if len(p.Target.Classes) != want {
		return fmt.Errorf("%w: %s target %q has %d class labels; its model needs %d", model.ErrCorrupt, p.Target.Task, p.Target.Name, len(p.Target.Classes), want)
	}
	return nil
}

// decodeOwn decodes a payload's own model or ensemble, ignoring Routes.
func decodeOwn(payload []byte, reg *model.Registry) (*Predictor, error) {
	if len(payload) < 8 {
		return nil, model.ErrCorrupt
	}
	n := binary.LittleEndian.Uint64(payload)
	if n > uint64(len(payload)-8) {
		return nil, model.ErrCorrupt
	}
	// The layout version is checked before the header is decoded: a newer
	// layout's header may not decode by this build's rules, and must read
	// as newer, not as corrupt.
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(payload[8:8+n], &head); err != nil {
		return nil, fmt.Errorf("%w: header: %v", model.ErrCorrupt, err)
	}
	if err := formatversion.Check("predictor layout", head.Version, 1, predictorVersion); err != nil {
		return nil, fmt.Errorf("%w: %w", model.ErrVersion, err)
	}
	var meta predictorMeta
	if err := json.Unmarshal(payload[8:8+n], &meta); err != nil {
		if errors.Is(err, formatversion.ErrNewer) {
			// A part (a design, a fitted step) is of a newer encoding.
			return nil, fmt.Errorf("%w: header: %w", model.ErrVersion, err)
		}
		return nil, fmt.Errorf("%w: header: %v", model.ErrCorrupt, err)
	}
	body := payload[8+n:]
	p := &Predictor{Target: meta.Target, Schema: meta.Schema, Chain: meta.Chain, RunID: meta.RunID, Dataset: meta.Dataset, Metrics: meta.Metrics, Background: meta.Background, Name: meta.Name, Missing: meta.Missing,
		ColumnMissing: meta.ColumnMissing}
	if meta.Lineage != nil {
		p.Lineage = *meta.Lineage
	}
	if len(meta.Members) == 0 {
		if meta.Design == nil {
			return nil, fmt.Errorf("%w: no preprocessing", model.ErrCorrupt)
		}
		m, err := decodeModel(reg, meta.Family, body)
		if err != nil {
			return nil, err
		}
		p.Design, p.Model = meta.Design, m
		return p, nil
	}
	for i, mm := range meta.Members {
		if mm.Design == nil {
			return nil, fmt.Errorf("%w: member %d has no preprocessing", model.ErrCorrupt, i)
		}
		if mm.Size < 0 || mm.Size > len(body) {
			return nil, fmt.Errorf("%w: member %d size %d exceeds the %d bytes left", model.ErrCorrupt, i, mm.Size, len(body))
		}
		m, err := decodeModel(reg, mm.Family, body[:mm.Size])
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		body = body[mm.Size:]
		p.Members = append(p.Members, Member{Name: mm.Name, Chain: mm.Chain, Design: mm.Design, Model: m})
	}
	if len(body) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last member", model.ErrCorrupt, len(body))
	}
	c, err := ensemble.DecodeCombiner(meta.Combiner)
	if errors.Is(err, formatversion.ErrNewer) {
		return nil, fmt.Errorf("%w: %w", model.ErrVersion, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", model.ErrCorrupt, err)
	}
	if c.NumMembers() != len(p.Members) {
		return nil, fmt.Errorf("%w: combiner of %d members for %d", model.ErrCorrupt, c.NumMembers(), len(p.Members))
	}
	for i, m := range p.Members {
		if m.Model.NumOutputs() != c.NumOutputs() {
			return nil, fmt.Errorf("%w: member %d has %d outputs, combiner %d", model.ErrCorrupt, i, m.Model.NumOutputs(), c.NumOutputs())
		}
	}
	p.Combiner = c
	return p, nil
}

// decodeModel decodes a model of the named family with its Decode from
// reg. A family neither reg nor tabforge knows is a corrupt file: a newer
// build's family comes in a newer layout, refused before (see layoutOf).
func decodeModel(reg *model.Registry, family string, data []byte) (model.Model, error) {
	fam, err := reg.Lookup(family)
	if _, shipped := layoutOf(familyName, family); err != nil && !shipped {
		return nil, fmt.Errorf("%w: %w", model.ErrCorrupt, err)
	}
	if err != nil {
		return nil, err
	}
	m, err := fam.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s model: %w", family, err)
	}
	return m, nil
}
