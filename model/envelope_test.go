package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

// bufferedEnvelope is EncodeEnvelope as it was written before it
// compressed in place: saved models and their content hashes depend on
// these bytes staying the same.
func bufferedEnvelope(kind string, payload []byte) []byte {
	payload = zstdEncoder().EncodeAll(payload, nil)
	var b bytes.Buffer
	b.WriteString(envelopeMagic)
	binary.Write(&b, binary.LittleEndian, EnvelopeVersion)
	binary.Write(&b, binary.LittleEndian, uint32(len(kind)))
	b.WriteString(kind)
	binary.Write(&b, binary.LittleEndian, uint64(len(payload)))
	b.Write(payload)
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

func TestEncodeEnvelopeBytes(t *testing.T) {
	repeated := bytes.Repeat([]byte(`{"left":[1,3,-1,-1],"value":[0.25,-0.125]}`), 5000)
	noise := make([]byte, 70_000) // compresses to more than a third of its size
	for i := range noise {
		noise[i] = byte(i*7919 ^ i>>3)
	}
	for _, c := range []struct {
		name, kind string
		payload    []byte
	}{
		{"empty", "k", nil},
		{"repeated", "tabforge.predictor", repeated},
		{"incompressible", "tabforge.predictor", noise},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := EncodeEnvelope(c.kind, c.payload)
			if want := bufferedEnvelope(c.kind, c.payload); !bytes.Equal(got, want) {
				t.Fatalf("EncodeEnvelope: %d bytes differ from the buffered encoding's %d", len(got), len(want))
			}
			kind, payload, err := DecodeEnvelope(got)
			if err != nil || kind != c.kind || !bytes.Equal(payload, c.payload) {
				t.Errorf("DecodeEnvelope = %q, %d bytes, %v; want %q, %d bytes", kind, len(payload), err, c.kind, len(c.payload))
			}
			got[len(got)/2] ^= 1
			if _, _, err := DecodeEnvelope(got); !errors.Is(err, ErrCorrupt) {
				t.Errorf("DecodeEnvelope of a flipped bit: %v; want ErrCorrupt", err)
			}
		})
	}
}
