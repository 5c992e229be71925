package dist

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// roundTrip checks that v, decoded from some bytes, encodes to bytes
// that decode (with decode) to a value encoding the same again.
func roundTrip[T any](t *testing.T, v T, decode func([]byte) (T, error)) {
	t.Helper()
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %+v does not encode: %v", v, err)
	}
	again, err := decode(enc)
	if err != nil {
		t.Fatalf("decode(%s) = %v; it encodes a decoded value", enc, err)
	}
	enc2, err := json.Marshal(again)
	if err != nil {
		t.Fatalf("decoded again %+v does not encode: %v", again, err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("re-encoding changed it:\n%s\n%s", enc, enc2)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	seed, _ := json.Marshal(message{Key: "fold/run1/0", Kind: "fold", Spec: []byte(`{"fold":0}`), Published: time.Now().UnixNano(), Code: "v1.2.3"})
	for _, s := range []string{string(seed), `{"key":"k","kind":"ping","spec":"e30=","published":0}`, `{"key":""}`, `{"spec":"!!"}`,
		`{"key":"k","published":1e30}`, `[]`, `null`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if m.Key == "" {
			t.Fatalf("decodeMessage(%q) gave a unit without a key", b)
		}
		roundTrip(t, m, decodeMessage)
	})
}

func FuzzDecodeResult(f *testing.F) {
	seed, _ := json.Marshal(result{Value: []byte("81"), Worker: "w0", Seq: 7, QueuedMS: 1.5, RunMS: 20})
	for _, s := range []string{string(seed), `{"error":"bad unit","worker":"w1","seq":3,"queued_ms":0,"run_ms":0.25}`,
		`{"queued_ms":1e400}`, `{"seq":-1}`, `{"value":"@@"}`, `{}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResult(b)
		if err != nil {
			return
		}
		roundTrip(t, r, decodeResult)
	})
}

func FuzzDecodeHeartbeat(f *testing.F) {
	seed, _ := json.Marshal(Heartbeat{ID: "host:42", Host: "host", PID: 42, Concurrency: 4, Started: time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC), Running: 1, Done: 9, Code: "v1"})
	for _, s := range []string{string(seed), `{"id":"a","started":"2026-12-07T19:00:00.123456789+05:30"}`,
		`{"started":"10000-01-01T00:00:00Z"}`, `{"started":"0000-01-01T00:00:00+01:00"}`, `{"pid":1.5}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHeartbeat(b)
		if err != nil {
			return
		}
		roundTrip(t, h, decodeHeartbeat)
	})
}

func FuzzDecodeAdvisory(f *testing.F) {
	// The shape of nats-server's io.nats.jetstream.advisory.v1.max_deliver.
	f.Add([]byte(`{"type":"io.nats.jetstream.advisory.v1.max_deliver","id":"x","timestamp":"2026-12-07T19:00:00Z","stream":"TABFORGE_UNITS","consumer":"workers","stream_seq":12,"deliveries":5}`))
	for _, s := range []string{`{"stream_seq":0}`, `{"stream_seq":-3}`, `{"stream_seq":18446744073709551616}`, `{}`, `7`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, err := decodeAdvisory(b)
		if err != nil {
			return
		}
		if seq == 0 {
			t.Fatalf("decodeAdvisory(%q) = 0 without an error", b)
		}
		enc, _ := json.Marshal(map[string]uint64{"stream_seq": seq})
		if again, err := decodeAdvisory(enc); err != nil || again != seq {
			t.Fatalf("decodeAdvisory(%s) = %d, %v; want %d", enc, again, err, seq)
		}
	})
}
