package forest

// A forest Model's binary encoding: MarshalBinary writes it, Decode reads it
// back and rejects anything that is not a whole, consistent model.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tabforge/tabforge/internal/binenc"
	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/tree"
)

// magic starts an encoded forest Model of format version 1. It has no
// terminator: the uint32 length of the params JSON follows, then the JSON's
// '{'. A later version's tag is tagPrefix, its number and a NUL
// ("TFforst2\x00", "TFforst10\x00"), so that a version of two digits is
// not read as version 1 followed by data (see tagVersion).
const (
	magic     = "TFforst1"
	tagPrefix = "TFforst"
)

// MarshalBinary encodes the model: a magic string, params as JSON, the
// task, class and feature counts, feature names, OOB score, importances
// and each tree (length-prefixed tree.Tree encoding). Equal models give
// equal bytes, so a seed gives byte-identical files for any worker count.
func (m *Model) MarshalBinary() ([]byte, error) {
	pj, err := json.Marshal(m.params)
	if err != nil {
		return nil, fmt.Errorf("forest: encode params: %w", err)
	}
	b := []byte(magic)
	b = binenc.AppendBytes(b, pj)
	b = binenc.AppendBytes(b, []byte(m.task))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.numClasses))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.numFeatures))
	b = binenc.AppendStrings(b, m.names)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.oob))
	for _, v := range m.importances {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.trees)))
	for _, t := range m.trees {
		at := len(b)
		b = binary.LittleEndian.AppendUint64(b, 0)
		if b, err = t.AppendBinary(b); err != nil {
			return nil, fmt.Errorf("forest: encode tree: %w", err)
		}
		binary.LittleEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	}
	return b, nil
}

// tagVersion returns the format version named by the tag data starts
// with, or -1 when data starts with no forest tag. Version 1's tag is
// followed by a length whose low byte may be an ASCII digit, as a later
// tag's next digit is ("TFforst1" "5" ... against "TFforst15\x00"); a
// version 1 encoding is told by its params JSON starting four bytes
// after the tag, which no later tag leaves there.
func tagVersion(data []byte) int {
	rest, ok := bytes.CutPrefix(data, []byte(tagPrefix))
	if !ok {
		return -1
	}
	if bytes.HasPrefix(data, []byte(magic)) && len(data) > len(magic)+4 && data[len(magic)+4] == '{' {
		return 1
	}
	n := 0
	for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	v, err := strconv.Atoi(string(rest[:n]))
	if err != nil {
		return -1
	}
	return v
}

// ErrCorrupt reports encoded forest bytes that cannot be decoded.
var ErrCorrupt = errors.New("forest: corrupt model data")

// Decode restores a Model encoded by MarshalBinary; corrupt or foreign
// data is an error.
func Decode(data []byte) (*Model, error) {
	switch v := tagVersion(data); v {
	case 1:
	case -1:
		return nil, fmt.Errorf("%w: not a forest model", ErrCorrupt)
	default:
		return nil, fmt.Errorf("forest: %w", formatversion.Check("forest model", v, 1, 1))
	}
	r := &binenc.Reader{Data: data[len(magic):], Corrupt: ErrCorrupt}
	m := &Model{}
	pj := r.Bytes()
	m.task = model.Task(r.Bytes())
	m.numClasses = int(r.Uint32())
	m.numFeatures = int(r.Uint32())
	m.names = r.Strings()
	m.oob = math.Float64frombits(r.Uint64())
	if r.Err == nil && uint64(m.numFeatures) > uint64(len(r.Data))/8 {
		r.Fail("importances")
	}
	if r.Err == nil {
		m.importances = make([]float64, m.numFeatures)
		for j := range m.importances {
			m.importances[j] = math.Float64frombits(r.Uint64())
		}
	}
	nt := r.Uint32()
	if r.Err == nil && (nt == 0 || uint64(nt) > uint64(len(r.Data))/8) {
		r.Fail("tree count")
	}
	for i := uint32(0); i < nt && r.Err == nil; i++ {
		size := r.Uint64()
		if r.Err != nil || size > uint64(len(r.Data)) {
			r.Fail("tree")
			break
		}
		t := new(tree.Tree)
		if err := t.UnmarshalBinary(r.Data[:size]); err != nil {
			return nil, fmt.Errorf("forest: tree %d: %w", i, err)
		}
		if err := tree.CheckTree(m.task, m.numClasses, m.numFeatures, t); err != nil {
			return nil, fmt.Errorf("forest: tree %d: %w", i, err)
		}
		r.Data = r.Data[size:]
		m.trees = append(m.trees, t)
	}
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.Data) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.Data))
	}
	if len(m.names) != 0 && len(m.names) != m.numFeatures {
		return nil, fmt.Errorf("%w: %d names for %d features", ErrCorrupt, len(m.names), m.numFeatures)
	}
	if err := model.DecodeStrict(pj, &m.params); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	m.flatten()
	return m, nil
}
