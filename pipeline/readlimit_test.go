package pipeline

import (
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
)

// TestReadMemoryLimit: read_memory_limit auto is frame's default limit,
// 0 is none, a size is that many bytes.
func TestReadMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		set  config.MemorySize
		want int64
	}{
		{config.MemoryAuto, 0},
		{0, frame.NoMemoryLimit},
		{8 << 30, 8 << 30},
	} {
		cfg := config.Default()
		cfg.ReadMemoryLimit = tt.set
		if got := ReadMemoryLimit(cfg); got != tt.want {
			t.Errorf("ReadMemoryLimit(%v) = %d; want %d", tt.set, got, tt.want)
		}
		if got := ReadOptions(cfg).MemoryLimit; got != tt.want {
			t.Errorf("ReadOptions(%v).MemoryLimit = %d; want %d", tt.set, got, tt.want)
		}
	}
}
