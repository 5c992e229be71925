package config

import (
	"strings"
	"testing"
)

// TestMemorySizeText: a size reads back from the text it writes, and
// what is not a size is refused with what one looks like.
func TestMemorySizeText(t *testing.T) {
	for _, m := range []MemorySize{MemoryAuto, 0, 1, 1000, 1 << 10, 3 << 20, 8 << 30, 2 << 40, 8<<30 + 1} {
		text, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back MemorySize
		if err := back.UnmarshalText(text); err != nil || back != m {
			t.Errorf("MemorySize(%d) = %q reads back as %d, %v", int64(m), text, int64(back), err)
		}
	}
	for m, want := range map[MemorySize]string{8 << 30: "8GiB", 1.5e9: "1500MB", 1000: "1KB", 1001: "1001", MemoryAuto: "auto", 0: "0"} {
		if got := m.String(); got != want {
			t.Errorf("MemorySize(%d).String() = %q; want %q", int64(m), got, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "-1GiB", "8 GiBs", "1e30GB", "NaN", "inf"} {
		var m MemorySize
		if err := m.UnmarshalText([]byte(bad)); err == nil || !strings.Contains(err.Error(), "is not a size") {
			t.Errorf("UnmarshalText(%q) = %d, %v; want an error describing a size", bad, int64(m), err)
		}
	}
}

// TestValidateReadMemoryLimit: a negative limit other than auto, which
// only code can set, is refused.
func TestValidateReadMemoryLimit(t *testing.T) {
	c := Default()
	c.Data, c.Target = "d.csv", "y"
	c.ReadMemoryLimit = -5
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "read_memory_limit") {
		t.Errorf("Validate() = %v; want read_memory_limit refused", err)
	}
}
