package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MemorySize is an amount of memory in bytes, written as text in YAML,
// JSON, --set and the environment: a number of bytes, or a number with a
// unit (KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers of
// 1024; case-insensitive), such as 8GiB or 1.5GB. MemoryAuto ("auto")
// leaves the choice to tabforge; 0 means no limit.
type MemorySize int64

// MemoryAuto is the MemorySize "auto".
const MemoryAuto MemorySize = -1

// sizeUnits are the units MemorySize reads, longest suffix first among
// those sharing an ending.
var sizeUnits = []struct {
	suffix string
	bytes  float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"b", 1},
}

// String returns auto, 0, a whole number of the largest binary unit that
// divides the size (8GiB), else of the largest decimal one (1500MB), or
// else its bytes.
func (m MemorySize) String() string {
	if m == MemoryAuto {
		return "auto"
	}
	for _, u := range []struct {
		name  string
		bytes int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if m > 0 && int64(m)%u.bytes == 0 {
			return strconv.FormatInt(int64(m)/u.bytes, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(m), 10)
}

// MarshalText implements encoding.TextMarshaler.
func (m MemorySize) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, reading the forms
// MemorySize describes.
func (m *MemorySize) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	if s == "auto" {
		*m = MemoryAuto
		return nil
	}
	num, scale := s, 1.0
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, scale = strings.TrimSpace(rest), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*scale >= math.MaxInt64 {
		return fmt.Errorf("%q is not %s", string(b), describeSize)
	}
	*m = MemorySize(math.Round(v * scale))
	return nil
}

// describeSize names what a MemorySize looks like, for error messages.
const describeSize = "a size (e.g. 8GiB, 512MB or bytes), auto or 0"
