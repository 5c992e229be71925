package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written as text ("30m0s") in YAML and JSON.
type Duration time.Duration

// String returns the duration in time.Duration's format.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It accepts Go
// durations (90s, 30m, 2h) and an empty string or "0" for none.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "" || s == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 90s, 30m, 2h)", s)
	}
	*d = Duration(v)
	return nil
}
