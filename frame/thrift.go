package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// This file holds the subset of the Thrift compact protocol that Parquet
// metadata needs: a generic decoder into tstruct values and an encoder.

// Thrift compact protocol type ids.
const (
	tBoolTrue  = 1
	tBoolFalse = 2
	tByte      = 3
	tI16       = 4
	tI32       = 5
	tI64       = 6
	tDouble    = 7
	tBinary    = 8
	tList      = 9
	tSet       = 10
	tMap       = 11
	tStruct    = 12
)

// maxThriftDepth bounds nesting so that hostile input cannot exhaust the
// stack.
const maxThriftDepth = 32

var errThrift = errors.New("corrupt thrift metadata")

// tstruct is a decoded Thrift struct: field id → value, where a value is an
// int64 (all integer types), bool, float64, []byte, []any (list or set) or
// tstruct. Maps are skipped.
type tstruct map[int16]any

func (s tstruct) int(id int16) (int64, bool) {
	v, ok := s[id].(int64)
	return v, ok
}

func (s tstruct) intOr(id int16, def int64) int64 {
	if v, ok := s.int(id); ok {
		return v
	}
	return def
}

func (s tstruct) str(id int16) string {
	b, _ := s[id].([]byte)
	return string(b)
}

func (s tstruct) sub(id int16) (tstruct, bool) {
	v, ok := s[id].(tstruct)
	return v, ok
}

func (s tstruct) list(id int16) []any {
	v, _ := s[id].([]any)
	return v
}

func (s tstruct) structs(id int16) ([]tstruct, error) {
	l := s.list(id)
	out := make([]tstruct, len(l))
	for i, v := range l {
		st, ok := v.(tstruct)
		if !ok {
			return nil, fmt.Errorf("%w: field %d is not a list of structs", errThrift, id)
		}
		out[i] = st
	}
	return out, nil
}

// tdecoder reads the compact protocol from a byte slice.
type tdecoder struct {
	b   []byte
	pos int
}

// readStruct decodes one struct and returns it with the number of bytes
// consumed.
func readStruct(b []byte) (tstruct, int, error) {
	d := &tdecoder{b: b}
	s, err := d.structValue(0)
	if err != nil {
		return nil, 0, err
	}
	return s, d.pos, nil
}

func (d *tdecoder) byte() (byte, error) {
	if d.pos >= len(d.b) {
		return 0, fmt.Errorf("%w: unexpected end", errThrift)
	}
	c := d.b[d.pos]
	d.pos++
	return c, nil
}

func (d *tdecoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", errThrift)
	}
	d.pos += n
	return v, nil
}

func (d *tdecoder) zigzag() (int64, error) {
	u, err := d.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

func (d *tdecoder) structValue(depth int) (tstruct, error) {
	if depth > maxThriftDepth {
		return nil, fmt.Errorf("%w: nested too deeply", errThrift)
	}
	s := tstruct{}
	var last int16
	for {
		h, err := d.byte()
		if err != nil {
			return nil, err
		}
		if h == 0 {
			return s, nil
		}
		typ := h & 0x0f
		id := last + int16(h>>4)
		if h>>4 == 0 {
			v, err := d.zigzag()
			if err != nil {
				return nil, err
			}
			id = int16(v)
		}
		last = id
		var v any
		switch typ {
		case tBoolTrue:
			v = true
		case tBoolFalse:
			v = false
		default:
			if v, err = d.value(typ, depth); err != nil {
				return nil, err
			}
		}
		if v != nil {
			s[id] = v
		}
	}
}

// value decodes a value of the given type (not a struct-field boolean).
// Maps decode to nil.
func (d *tdecoder) value(typ byte, depth int) (any, error) {
	switch typ {
	case tBoolTrue, tBoolFalse: // a boolean element of a list is one byte
		c, err := d.byte()
		return c == tBoolTrue, err
	case tByte:
		c, err := d.byte()
		return int64(int8(c)), err
	case tI16, tI32, tI64:
		return d.zigzag()
	case tDouble:
		if len(d.b)-d.pos < 8 {
			return nil, fmt.Errorf("%w: unexpected end", errThrift)
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.pos:]))
		d.pos += 8
		return v, nil
	case tBinary:
		n, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.b)-d.pos) {
			return nil, fmt.Errorf("%w: string longer than input", errThrift)
		}
		v := d.b[d.pos : d.pos+int(n)]
		d.pos += int(n)
		return v, nil
	case tList, tSet:
		h, err := d.byte()
		if err != nil {
			return nil, err
		}
		n, elem := uint64(h>>4), h&0x0f
		if n == 15 {
			if n, err = d.uvarint(); err != nil {
				return nil, err
			}
		}
		if n > uint64(len(d.b)-d.pos) { // every element takes at least one byte
			return nil, fmt.Errorf("%w: list longer than input", errThrift)
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = d.value(elem, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tMap:
		n, err := d.uvarint()
		if err != nil || n == 0 {
			return nil, err
		}
		kv, err := d.byte()
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.b)-d.pos) {
			return nil, fmt.Errorf("%w: map longer than input", errThrift)
		}
		for range n {
			if _, err := d.value(kv>>4, depth+1); err != nil {
				return nil, err
			}
			if _, err := d.value(kv&0x0f, depth+1); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case tStruct:
		return d.structValue(depth + 1)
	}
	return nil, fmt.Errorf("%w: unknown type %d", errThrift, typ)
}

// tencoder writes the compact protocol.
type tencoder struct {
	b    []byte
	last []int16 // last field id of each open struct
}

func newTencoder() *tencoder { return &tencoder{last: []int16{0}} }

func (e *tencoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *tencoder) zigzag(v int64) { e.uvarint(uint64(v<<1) ^ uint64(v>>63)) }

func (e *tencoder) field(id int16, typ byte) {
	top := len(e.last) - 1
	if delta := id - e.last[top]; delta > 0 && delta <= 15 {
		e.b = append(e.b, byte(delta)<<4|typ)
	} else {
		e.b = append(e.b, typ)
		e.zigzag(int64(id))
	}
	e.last[top] = id
}

func (e *tencoder) i32(id int16, v int32) { e.field(id, tI32); e.zigzag(int64(v)) }

func (e *tencoder) i64(id int16, v int64) { e.field(id, tI64); e.zigzag(v) }

func (e *tencoder) i8(id int16, v int8) { e.field(id, tByte); e.b = append(e.b, byte(v)) }

func (e *tencoder) boolean(id int16, v bool) {
	if v {
		e.field(id, tBoolTrue)
	} else {
		e.field(id, tBoolFalse)
	}
}

func (e *tencoder) binary(id int16, s string) {
	e.field(id, tBinary)
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// list writes a list header; the caller writes n elements.
func (e *tencoder) list(id int16, elem byte, n int) {
	e.field(id, tList)
	if n < 15 {
		e.b = append(e.b, byte(n)<<4|elem)
	} else {
		e.b = append(e.b, 0xf0|elem)
		e.uvarint(uint64(n))
	}
}

// begin opens a struct: a field when id > 0, a list element when id == 0.
func (e *tencoder) begin(id int16) {
	if id > 0 {
		e.field(id, tStruct)
	}
	e.last = append(e.last, 0)
}

// end closes the innermost open struct.
func (e *tencoder) end() {
	e.b = append(e.b, 0)
	e.last = e.last[:len(e.last)-1]
}
