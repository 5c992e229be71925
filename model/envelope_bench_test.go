package model

import "testing"

func BenchmarkEncodeEnvelopeSmall(b *testing.B) {
	payload := make([]byte, 10_000)
	for i := range payload {
		payload[i] = byte(i % 251)
	}
	b.ReportAllocs()
	for b.Loop() {
		EncodeEnvelope("k", payload)
	}
}
