// Package binenc is the small length-prefixed little-endian field codec
// that tabforge's tree models use in their saved form: appenders for the
// writer and a Reader whose first failure sticks, so decoders check one
// error at the end instead of after every field.
package binenc

import (
	"encoding/binary"
	"fmt"
)

// AppendBytes appends a uint32 length and p.
func AppendBytes(b, p []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	return append(b, p...)
}

// AppendStrings appends a uint32 count and each string as AppendBytes does.
func AppendStrings(b []byte, s []string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	for _, v := range s {
		b = AppendBytes(b, []byte(v))
	}
	return b
}

// Reader decodes what the append functions wrote. The first failure
// sticks in Err, wrapping Corrupt, and later reads return zero values.
type Reader struct {
	Data    []byte
	Err     error
	Corrupt error // the caller's sentinel for corrupt data
}

// Fail records that what is truncated or out of range, unless an earlier
// failure is already recorded, and stops further reads.
func (r *Reader) Fail(what string) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: truncated %s", r.Corrupt, what)
	}
	r.Data = nil
}

// Uint32 reads a little-endian uint32.
func (r *Reader) Uint32() uint32 {
	if r.Err != nil || len(r.Data) < 4 {
		r.Fail("integer")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.Data)
	r.Data = r.Data[4:]
	return v
}

// Uint64 reads a little-endian uint64.
func (r *Reader) Uint64() uint64 {
	if r.Err != nil || len(r.Data) < 8 {
		r.Fail("integer")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.Data)
	r.Data = r.Data[8:]
	return v
}

// Bytes reads a length-prefixed field; the result aliases the input.
func (r *Reader) Bytes() []byte {
	n := r.Uint32()
	if r.Err != nil || uint64(n) > uint64(len(r.Data)) {
		r.Fail("field")
		return nil
	}
	v := r.Data[:n:n]
	r.Data = r.Data[n:]
	return v
}

// Strings reads a list written by AppendStrings; an empty list is nil.
func (r *Reader) Strings() []string {
	n := r.Uint32()
	if r.Err != nil || uint64(n) > uint64(len(r.Data))/4 {
		r.Fail("string list")
		return nil
	}
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = string(r.Bytes())
	}
	if r.Err != nil {
		return nil
	}
	return s
}
