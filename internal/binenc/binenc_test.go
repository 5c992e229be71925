package binenc

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

var errCorrupt = errors.New("corrupt")

func TestRoundTrip(t *testing.T) {
	b := binary.LittleEndian.AppendUint64(nil, 1<<40+7)
	b = AppendBytes(b, []byte("abc"))
	b = AppendStrings(b, []string{"x", "", "yz"})
	b = binary.LittleEndian.AppendUint32(b, 9)
	r := Reader{Data: b, Corrupt: errCorrupt}
	if v := r.Uint64(); v != 1<<40+7 {
		t.Errorf("Uint64 = %d", v)
	}
	if v := r.Bytes(); string(v) != "abc" {
		t.Errorf("Bytes = %q", v)
	}
	if v := r.Strings(); !slices.Equal(v, []string{"x", "", "yz"}) {
		t.Errorf("Strings = %q", v)
	}
	if v := r.Uint32(); v != 9 || r.Err != nil || len(r.Data) != 0 {
		t.Errorf("Uint32 = %d, err %v, %d bytes left", v, r.Err, len(r.Data))
	}
}

// TestTruncated cuts a valid encoding at every length: decoding must fail
// with the caller's sentinel, never panic.
func TestTruncated(t *testing.T) {
	full := AppendStrings(AppendBytes(nil, []byte("hello")), []string{"a", "bc"})
	for n := range len(full) {
		r := Reader{Data: full[:n], Corrupt: errCorrupt}
		r.Bytes()
		r.Strings()
		if !errors.Is(r.Err, errCorrupt) {
			t.Errorf("cut at %d: err = %v; want the corrupt sentinel", n, r.Err)
		}
	}
}
