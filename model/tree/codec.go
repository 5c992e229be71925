package tree

import (
	"encoding/binary"
	"fmt"
)

// appendBytes appends a uint32 length and p.
func appendBytes(b, p []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	return append(b, p...)
}

// appendStrings appends a uint32 count and each string with appendBytes.
func appendStrings(b []byte, s []string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	for _, v := range s {
		b = appendBytes(b, []byte(v))
	}
	return b
}

// reader decodes what the append functions wrote; the first failure
// sticks in err and later reads return zero values.
type reader struct {
	data []byte
	err  error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
	}
	r.data = nil
}

func (r *reader) uint32() uint32 {
	if r.err != nil || len(r.data) < 4 {
		r.fail("integer")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.data)
	r.data = r.data[4:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uint32()
	if r.err != nil || uint64(len(r.data)) < uint64(n) {
		r.fail("field")
		return nil
	}
	v := r.data[:n:n]
	r.data = r.data[n:]
	return v
}

func (r *reader) strings() []string {
	n := r.uint32()
	if r.err != nil || uint64(n) > uint64(len(r.data))/4 {
		r.fail("string list")
		return nil
	}
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = string(r.bytes())
	}
	if r.err != nil {
		return nil
	}
	return s
}
