package pipeline

import (
	"bufio"
	"encoding/hex"
	"strconv"

	"github.com/zeebo/blake3"

	"github.com/tabforge/tabforge/split"
)

// rowsKey returns cache.Key(train, test, folds), writing the JSON that
// key hashes straight into the hash, a few kilobytes at a time, instead
// of building it: the index lists of a split of a million rows encode to
// tens of megabytes (128 MB of buffer, 8% of the peak heap of a 1M-row
// train), built again for every candidate.
func rowsKey(train, test []int, folds []split.Fold) string {
	h := blake3.New()
	w := bufio.NewWriterSize(h, 32<<10)
	var num []byte
	ints := func(v []int) {
		if v == nil {
			w.WriteString("null")
			return
		}
		w.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			num = strconv.AppendInt(num[:0], int64(x), 10)
			w.Write(num)
		}
		w.WriteByte(']')
	}
	w.WriteByte('[')
	ints(train)
	w.WriteByte(',')
	ints(test)
	w.WriteByte(',')
	if folds == nil {
		w.WriteString("null")
	} else {
		w.WriteByte('[')
		for i, f := range folds {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(`{"Train":`)
			ints(f.Train)
			w.WriteString(`,"Test":`)
			ints(f.Test)
			w.WriteByte('}')
		}
		w.WriteByte(']')
	}
	w.WriteByte(']')
	w.Flush() // a hash's Write never fails
	return hex.EncodeToString(h.Sum(nil))
}
