package dist

import (
	"encoding/json"
	"errors"
)

// The decoders of what arrives over NATS. Any client of the server can
// publish on the unit subjects and write the buckets (a tabforge of
// another version, a corrupt or hostile publisher), so each returns an
// error for bytes that are not what it decodes, and never panics; a
// decoded value encodes to bytes that decode to the same value again.
// Their errors say what is wrong with the bytes; callers add what the
// bytes were.

// decodeMessage decodes a unit message. One without a key names no
// result to write and no unit to rebuild: it is refused.
func decodeMessage(b []byte) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, err
	}
	if m.Key == "" {
		return message{}, errors.New("no key")
	}
	return m, nil
}

// decodeResult decodes a unit's result from the results bucket.
func decodeResult(b []byte) (result, error) {
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		return result{}, err
	}
	return r, nil
}

// decodeHeartbeat decodes a worker's heartbeat from the workers bucket.
func decodeHeartbeat(b []byte) (Heartbeat, error) {
	var h Heartbeat
	if err := json.Unmarshal(b, &h); err != nil {
		return Heartbeat{}, err
	}
	return h, nil
}

// decodeAdvisory returns the stream sequence of the message a
// max-deliveries advisory names. Stream sequences start at 1, so one
// naming none (0) is refused.
func decodeAdvisory(b []byte) (seq uint64, err error) {
	var adv struct {
		Seq uint64 `json:"stream_seq"`
	}
	if err := json.Unmarshal(b, &adv); err != nil {
		return 0, err
	}
	if adv.Seq == 0 {
		return 0, errors.New("no stream_seq")
	}
	return adv.Seq, nil
}
