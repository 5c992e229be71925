package frame

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// offsetsKeyPrefix, followed by a column's name, is the Parquet key-value
// metadata key under which WriteParquet keeps the UTC offsets of a
// datetime column (Column.Offsets): a Parquet TIMESTAMP holds the instant
// only, and without its offsets the civil date of a value written as
// 2020-01-01T00:00:00+02:00 would read back as 31 December.
const offsetsKeyPrefix = "tabforge.utc_offsets."

// maxOffset bounds an offset in seconds: RFC 3339 offsets are below a day.
const maxOffset = 86400

// encodeOffsets returns c's offsets as runs "offset*count,..." (offsets
// change at most twice a year in a zone, so runs are few), with 0 for
// missing values; "" when they need not be kept (see hashedOffsets).
func encodeOffsets(c *Column) string {
	if !hashedOffsets(c) {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(c.Num); {
		o := offsetOrZero(c, i)
		j := i + 1
		for j < len(c.Num) && offsetOrZero(c, j) == o {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d*%d", o, j-i)
		i = j
	}
	return b.String()
}

func offsetOrZero(c *Column, i int) int32 {
	if math.IsNaN(c.Num[i]) {
		return 0
	}
	return c.Offsets[i]
}

// decodeOffsets parses encodeOffsets' text for a column of n rows.
func decodeOffsets(s string, n int) ([]int32, error) {
	runs, err := parseOffsetRuns(s, n)
	if err != nil {
		return nil, err
	}
	return runs.slice(0, n), nil
}

// offsetRuns are a column's UTC offsets as encodeOffsets writes them:
// run k holds count[k] rows of offset[k].
type offsetRuns struct {
	offset []int32
	count  []int
}

// parseOffsetRuns parses encodeOffsets' text for a column of n rows,
// without expanding the runs: a streaming reader slices them a block at
// a time.
func parseOffsetRuns(s string, n int) (*offsetRuns, error) {
	runs := &offsetRuns{}
	total := 0
	for run := range strings.SplitSeq(s, ",") {
		ot, cs, ok := strings.Cut(run, "*")
		o, err1 := strconv.ParseInt(ot, 10, 32)
		count, err2 := strconv.Atoi(cs)
		if !ok || err1 != nil || err2 != nil || count < 1 || count > n-total || o <= -maxOffset || o >= maxOffset {
			return nil, fmt.Errorf("run %q: want offset*count with |offset| < %d and %d rows in all", run, maxOffset, n)
		}
		runs.offset, runs.count = append(runs.offset, int32(o)), append(runs.count, count)
		total += count
	}
	if total != n {
		return nil, fmt.Errorf("%d offsets for %d rows", total, n)
	}
	return runs, nil
}

// slice returns the offsets of rows [first, first+n).
func (r *offsetRuns) slice(first, n int) []int32 {
	out := make([]int32, 0, n)
	start := 0 // the first row of run k
	for k, count := range r.count {
		end := start + count
		for i := max(first, start); i < min(end, first+n); i++ {
			out = append(out, r.offset[k])
		}
		start = end
	}
	return out
}

// readOffsets sets the offsets of the datetime columns of cols that pf's
// metadata holds.
func readOffsets(pf *parquet.File, cols []*Column) error {
	for _, c := range cols {
		s, ok := pf.Lookup(offsetsKeyPrefix + c.Name)
		if !ok || c.Kind != Datetime {
			continue
		}
		offsets, err := decodeOffsets(s, len(c.Num))
		if err != nil {
			return fmt.Errorf("%w: column %q: utc offsets: %v", errCorrupt, c.Name, err)
		}
		c.Offsets = offsets
	}
	return nil
}
