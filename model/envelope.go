package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/internal/formatversion"
)

// The envelope is tabforge's on-disk container for saved artifacts:
//
//	magic "TABFORGE" | format version uint32 | kind length uint32 | kind |
//	payload length uint64 | payload | sha256(everything before) 32 bytes
//
// The trailing checksum lets a truncated or corrupted file be told apart
// from a foreign one, each with its own error. From version 2 the stored
// payload is zstd-compressed: tree models are long arrays of node ids and
// thresholds that compress several times over; version 1 files (raw
// payload) still read.

const envelopeMagic = "TABFORGE"

// EnvelopeVersion is the current container format version.
const EnvelopeVersion uint32 = 2

// maxPayload bounds a decompressed payload, so that a hostile file cannot
// make the reader allocate without limit.
const maxPayload = 8 << 30

// Errors returned when reading an envelope.
var (
	ErrNotModel  = errors.New("not a tabforge model file")
	ErrCorrupt   = errors.New("model file is corrupt (checksum mismatch or truncated)")
	ErrVersion   = errors.New("model file format version is not supported")
	ErrWrongKind = errors.New("model file holds a different kind of artifact")
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// The zstd codec is built once per process: a new encoder allocates about
// 20 MB of tables, which made every small envelope (a cached candidate, a
// per-segment model) cost 9 ms. EncodeAll and DecodeAll are safe for
// concurrent use and keep no state between calls, so sharing them changes
// no output.
var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression)) // no options can fail
		return enc
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		dec, _ := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPayload)) // no options can fail
		return dec
	})
)

// EncodeEnvelope wraps payload of the given kind.
func EncodeEnvelope(kind string, payload []byte) []byte {
	// The compressed payload is written in place after the header, its
	// length patched in after: compressing into its own buffer and then
	// copying it into a bytes.Buffer, regrown for the checksum, cost a
	// 200-class gbdt's 22 MB payload three copies.
	head := len(envelopeMagic) + 4 + 4 + len(kind) + 8
	out := make([]byte, 0, head+len(payload)/3+sha256.Size)
	out = append(out, envelopeMagic...)
	out = binary.LittleEndian.AppendUint32(out, EnvelopeVersion)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(kind)))
	out = append(out, kind...)
	out = binary.LittleEndian.AppendUint64(out, 0)
	out = zstdEncoder().EncodeAll(payload, out)
	binary.LittleEndian.PutUint64(out[head-8:], uint64(len(out)-head))
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// DecodeEnvelope checks data and returns its kind and payload.
func DecodeEnvelope(data []byte) (kind string, payload []byte, err error) {
	if len(data) < len(envelopeMagic) || string(data[:len(envelopeMagic)]) != envelopeMagic {
		return "", nil, ErrNotModel
	}
	const fixed = len(envelopeMagic) + 4 + 4
	if len(data) < fixed+8+sha256.Size {
		return "", nil, ErrCorrupt
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return "", nil, ErrCorrupt
	}
	version := binary.LittleEndian.Uint32(data[8:])
	if err := formatversion.Check("envelope", int(version), 1, int(EnvelopeVersion)); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrVersion, err)
	}
	kl := int(binary.LittleEndian.Uint32(data[12:]))
	if fixed+kl+8 > len(body) {
		return "", nil, ErrCorrupt
	}
	kind = string(data[fixed : fixed+kl])
	pl := binary.LittleEndian.Uint64(data[fixed+kl:])
	start := uint64(fixed + kl + 8)
	if start+pl != uint64(len(body)) {
		return "", nil, ErrCorrupt
	}
	if version == 1 {
		return kind, body[start:], nil
	}
	payload, err = zstdDecoder().DecodeAll(body[start:], nil)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return kind, payload, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data)
}

// ReadEnvelopeFile reads path and checks that it holds an envelope of the
// wanted kind.
func ReadEnvelopeFile(path, wantKind string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	kind, payload, err := DecodeEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if kind != wantKind {
		return nil, fmt.Errorf("load %s: %w: %q, want %q", path, ErrWrongKind, kind, wantKind)
	}
	return payload, nil
}

// Checksum returns the hex sha256 of data; used for artifact identities.
func Checksum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
