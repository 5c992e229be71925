package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errSnappy = errors.New("corrupt snappy block")

// snappyDecode decompresses a raw (unframed) Snappy block, the form
// Parquet pages use. limit bounds the decoded size so that a hostile
// header cannot allocate without bound.
func snappyDecode(src []byte, limit int) ([]byte, error) {
	n, k := binary.Uvarint(src)
	// No element expands by more than 32 times its encoded size.
	if k <= 0 || n > uint64(limit) || n > 32*uint64(len(src))+32 {
		return nil, fmt.Errorf("%w: bad length", errSnappy)
	}
	src = src[k:]
	dst := make([]byte, 0, n)
	for len(src) > 0 {
		tag := src[0]
		var length, offset int
		switch tag & 3 {
		case 0: // literal
			length = int(tag >> 2)
			src = src[1:]
			if length >= 60 {
				nb := length - 59
				if len(src) < nb {
					return nil, fmt.Errorf("%w: truncated literal", errSnappy)
				}
				length = 0
				for i := nb - 1; i >= 0; i-- {
					length = length<<8 | int(src[i])
				}
				src = src[nb:]
			}
			length++
			if length <= 0 || length > len(src) || len(dst)+length > int(n) {
				return nil, fmt.Errorf("%w: bad literal", errSnappy)
			}
			dst = append(dst, src[:length]...)
			src = src[length:]
			continue
		case 1:
			if len(src) < 2 {
				return nil, fmt.Errorf("%w: truncated copy", errSnappy)
			}
			length = int(tag>>2&7) + 4
			offset = int(tag>>5)<<8 | int(src[1])
			src = src[2:]
		case 2:
			if len(src) < 3 {
				return nil, fmt.Errorf("%w: truncated copy", errSnappy)
			}
			length = int(tag>>2) + 1
			offset = int(binary.LittleEndian.Uint16(src[1:]))
			src = src[3:]
		case 3:
			if len(src) < 5 {
				return nil, fmt.Errorf("%w: truncated copy", errSnappy)
			}
			length = int(tag>>2) + 1
			offset = int(binary.LittleEndian.Uint32(src[1:]))
			src = src[5:]
		}
		if offset <= 0 || offset > len(dst) || len(dst)+length > int(n) {
			return nil, fmt.Errorf("%w: bad copy", errSnappy)
		}
		for range length { // a copy may overlap its own output
			dst = append(dst, dst[len(dst)-offset])
		}
	}
	if len(dst) != int(n) {
		return nil, fmt.Errorf("%w: length mismatch", errSnappy)
	}
	return dst, nil
}
