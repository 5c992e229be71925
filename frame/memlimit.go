package frame

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// NoMemoryLimit, as ReadOptions.MemoryLimit, reads a table whatever
// memory it takes.
const NoMemoryLimit = -1

// fallbackMemory is the memory assumed for a machine that says nothing
// of its own (no /proc/meminfo: not Linux), so that the default limit
// there is 8 GiB.
const fallbackMemory = 16 << 30

// DefaultMemoryLimit returns the read memory limit ReadOptions.MemoryLimit
// 0 stands for: half of the memory this process may use, the least of the
// machine's physical memory (MemTotal in /proc/meminfo), its memory
// cgroup's limit (a container's: cgroup v2 memory.max or v1
// memory.limit_in_bytes) and the Go runtime's soft limit (GOMEMLIMIT);
// half of 16 GiB when none is known.
//
// Half, because a table is read to be worked on: training bins its
// columns, splits it and builds features beside it, Go's collector lets
// the heap grow to twice what is live before it collects (GOGC=100), and
// the estimate counts values, not every header and map entry. A table
// that alone would take more than half of memory leaves too little for
// the work it is read for, and reading it anyway ends in the kernel's
// out-of-memory kill, which no caller can catch or report.
func DefaultMemoryLimit() int64 {
	return defaultMemoryLimit(os.ReadFile, debug.SetMemoryLimit(-1))
}

// defaultMemoryLimit is DefaultMemoryLimit reading the system's files
// through read, with goLimit the runtime's soft memory limit
// (math.MaxInt64 for none).
func defaultMemoryLimit(read func(string) ([]byte, error), goLimit int64) int64 {
	mem := int64(fallbackMemory)
	if b, err := read("/proc/meminfo"); err == nil {
		if total, ok := memTotal(b); ok {
			mem = total
		}
	}
	if c, ok := cgroupLimit(read); ok {
		mem = min(mem, c)
	}
	if goLimit > 0 {
		mem = min(mem, goLimit)
	}
	return max(mem/2, minMemoryLimit)
}

// memTotal returns MemTotal, in bytes, from the text of /proc/meminfo.
func memTotal(meminfo []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil || kb <= 0 || kb > math.MaxInt64/1024 {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}

// cgroupLimit returns the memory limit of this process's cgroup, from
// the path /proc/self/cgroup names for it (v2 line "0::/p", v1 line
// "N:...memory...:/p") or else from the hierarchy's root, which is the
// container's own cgroup when the container mounts it there. Unlimited
// ("max", or v1's page-rounded MaxInt64) is no limit.
func cgroupLimit(read func(string) ([]byte, error)) (int64, bool) {
	var files []string
	if b, err := read("/proc/self/cgroup"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				files = append(files, path.Join("/sys/fs/cgroup", parts[2], "memory.max"))
			case strings.Contains(","+parts[1]+",", ",memory,"):
				files = append(files, path.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
			}
		}
	}
	files = append(files, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, f := range files {
		b, err := read(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= math.MaxInt64/2 {
			return 0, false // "max", or v1's "unlimited"
		}
		return n, true
	}
	return 0, false
}

// minMemoryLimit is the least default limit, for a machine of less than
// twice as much memory; below it, the default limit is not even looked
// up, which spares the small reads of a server's requests the reading of
// /proc.
const minMemoryLimit = 64 << 20

// memoryBudget checks the memory a read's table would take, as it is
// estimated or grows, against the limit ReadOptions set.
type memoryBudget struct {
	o      ReadOptions
	limit  float64
	loaded bool // the limit is known; else it is the default, at least minMemoryLimit
}

func newMemoryBudget(o ReadOptions) *memoryBudget {
	switch {
	case o.MemoryLimit < 0:
		return &memoryBudget{o: o, limit: math.Inf(1), loaded: true}
	case o.MemoryLimit == 0:
		return &memoryBudget{o: o, limit: minMemoryLimit}
	}
	return &memoryBudget{o: o, limit: float64(o.MemoryLimit), loaded: true}
}

// check refuses need bytes when they pass the limit, with the error
// msg words from the estimate and the limit, both formatted: cheap while
// they do not, so readers call it for every row.
func (m *memoryBudget) check(need float64, msg func(need, limit string) string) error {
	if need <= m.limit {
		return nil
	}
	if !m.loaded {
		m.limit, m.loaded = float64(DefaultMemoryLimit()), true
		if need <= m.limit {
			return nil
		}
	}
	limit := formatBytes(m.limit)
	if m.o.MemoryLimit == 0 {
		limit += " (the default: half of the memory this process may use)"
	}
	return fmt.Errorf("%w: %s", ErrMemoryLimit, msg(formatBytes(need), limit))
}

// checkMemory is memoryBudget.check of a single estimate, need bytes for
// what: "what would take about need, more than the limit".
func checkMemory(o ReadOptions, need float64, what string) error {
	return newMemoryBudget(o).check(need, func(need, limit string) string {
		return fmt.Sprintf("%s would take about %s, more than the read memory limit of %s", what, need, limit)
	})
}

// limited reports whether o sets a limit (the default one included).
func (o ReadOptions) limited() bool { return o.MemoryLimit >= 0 }

// formatBytes writes n bytes with a binary unit: 16.0 GiB.
func formatBytes(n float64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	u := 0
	for n >= 1024 && u < len(units)-1 {
		n /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%.0f bytes", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[u])
}

// frameBytes estimates the memory ReadParquet takes for pm's table, with
// opts: each column's values (8 bytes a number or time, 4 a categorical
// code), the labels of a categorical column (at most its pages'
// uncompressed bytes), a datetime column's UTC offsets (4 bytes a row),
// a second column for one opts.Schema converts, and the largest page as
// parquet-go decodes it. Counting in float64 keeps a hostile row count
// from overflowing.
func (pm *parquetMeta) frameBytes(opts ReadOptions) float64 {
	rows := float64(pm.numRows)
	total := float64(pm.sizes.largest)
	for j := range pm.leaves {
		kind := Numeric // a column of no kind is refused when read
		if dec, err := decoderFor(&pm.leaves[j]); err == nil {
			kind = dec.kind
		}
		total += rows * valueBytes(kind)
		if kind == Categorical {
			total += float64(pm.sizes.column[j])
		}
		if _, ok := pm.pf.Lookup(offsetsKeyPrefix + pm.names[j]); ok && kind == Datetime {
			total += 4 * rows
		}
		if k, ok := opts.Schema[pm.names[j]]; ok && k != kind {
			total += rows * valueBytes(k)
		}
	}
	return total
}

// valueBytes is the memory a value of kind k takes in a Column.
func valueBytes(k Kind) float64 {
	if k == Categorical {
		return 4 // an int32 code
	}
	return 8 // a float64
}

// csvBytes estimates the memory ReadCSV takes for rows rows of cols
// columns whose cells, missing ones aside, hold text bytes: the text,
// then per cell the end of its text (4 bytes) and the value it becomes
// (8 bytes for a number, the most), and per row its line (4 bytes).
func csvBytes(text, rows, cols int) float64 {
	return float64(text) + float64(rows)*(4+12*float64(cols))
}

// Memory of a categorical column's distinct labels while finish builds
// them, beyond csvBytes' per-cell count: each keeps its own copy of its
// text (rounded up to a word) and a 16-byte string header in the
// levels, which append may have doubled (labelKept + slack); while the
// column is built, a map entry indexes it (a 16-byte key and a code in
// a slot, at 7/8 load, doubled while the map grows). A column of a
// million distinct 7-byte IDs took 112 MB beyond csvBytes' 36 MB for
// the table; these count 111.
const (
	labelKept     = 8 + 16
	labelBuilding = 16 + 64
)

// levelBudget counts what a read's categorical columns' distinct labels
// take as finish builds them (columns in parallel), on top of the
// read's own estimate, against the read's limit: a column of distinct
// IDs costs several times the text csvBytes counts for it.
type levelBudget struct {
	mu     sync.Mutex
	budget *memoryBudget
	need   float64 // the read's estimate plus the labels counted so far
	msg    func(need, limit string) string
}

// newLevelBudget starts from the read's estimate base, under o's limit.
func newLevelBudget(o ReadOptions, base float64) *levelBudget {
	return &levelBudget{budget: newMemoryBudget(o), need: base, msg: func(need, limit string) string {
		return fmt.Sprintf("the table with its categorical columns' distinct labels would take about %s, more than the read memory limit of %s", need, limit)
	}}
}

// add counts bytes more (fewer when negative: memory released) and
// returns the budget's error once the total passes the limit. A nil
// levelBudget counts nothing.
func (l *levelBudget) add(bytes float64) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.need += bytes
	return l.budget.check(l.need, l.msg)
}
