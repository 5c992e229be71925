package frame

import (
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/zeebo/blake3"
)

// hashVersion names the canonical encoding; changing the encoding must
// change it, so that old and new ids never collide.
const hashVersion = "tabforge/frame/v1"

// Hash returns the content hash of f: the hex-encoded BLAKE3-256 digest of
// a canonical encoding of the row count and, for each column in order, its
// name, kind and values (and a datetime column's UTC offsets, if any is
// not zero). It is the dataset's version id: cache keys and
// model lineage refer to data by it.
//
// Values are encoded by meaning, not by representation: numbers and
// datetimes as IEEE 754 bits with every NaN (missing) canonicalised and
// -0 written as +0; categorical values as their label strings, not their
// codes, with missing distinct from every label (including ""). So the
// same data read from CSV or from Parquet hash equal, unused levels and
// level order do not matter, and any change of a value, a name, a kind or
// the column or row order changes the hash. Hash reads every value once
// and allocates O(1) memory.
func (f *Frame) Hash() string {
	h := blake3.New()
	e := hashEncoder{h: h, buf: make([]byte, 0, 1<<15)}
	e.str(hashVersion)
	e.u64(uint64(f.rows))
	e.u64(uint64(len(f.cols)))
	for _, c := range f.cols {
		e.str(c.Name)
		offsets := hashedOffsets(c)
		if offsets {
			// A kind code no column has marks the offsets that follow
			// the values; columns without them hash as before offsets
			// were kept, so the ids of UTC and zone-less data stay
			// valid. Data written with offsets gets a new id: what it
			// means changed (its civil dates).
			e.u64(uint64(c.Kind) | offsetsTag)
		} else {
			e.u64(uint64(c.Kind))
		}
		if c.Kind == Categorical {
			for _, code := range c.Codes {
				if code < 0 {
					e.byte(0)
					continue
				}
				e.byte(1)
				e.str(c.Levels[code])
			}
			continue
		}
		for _, v := range c.Num {
			switch {
			case math.IsNaN(v):
				v = math.NaN()
			case v == 0:
				v = 0
			}
			e.u64(math.Float64bits(v))
		}
		if offsets {
			for i, v := range c.Num {
				var off int32
				if !math.IsNaN(v) {
					off = c.Offsets[i]
				}
				e.u64(uint64(uint32(off)))
			}
		}
	}
	e.flush()
	return hex.EncodeToString(h.Sum(nil))
}

// offsetsTag is or-ed into the kind code of a datetime column whose
// offsets are hashed.
const offsetsTag = 1 << 8

// hashedOffsets reports whether c is a datetime column with a non-zero
// offset on a non-missing value: only then do its offsets change what
// the data means (the civil time of its values).
func hashedOffsets(c *Column) bool {
	if c.Kind != Datetime || c.Offsets == nil {
		return false
	}
	for i, o := range c.Offsets {
		if o != 0 && !math.IsNaN(c.Num[i]) {
			return true
		}
	}
	return false
}

// hashEncoder buffers writes to a hash.
type hashEncoder struct {
	h   *blake3.Hasher
	buf []byte
}

func (e *hashEncoder) room(n int) {
	if len(e.buf)+n > cap(e.buf) {
		e.flush()
	}
}

func (e *hashEncoder) flush() {
	e.h.Write(e.buf) //nolint:errcheck // hash writes never fail
	e.buf = e.buf[:0]
}

func (e *hashEncoder) byte(b byte) {
	e.room(1)
	e.buf = append(e.buf, b)
}

func (e *hashEncoder) u64(v uint64) {
	e.room(8)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
}

// str writes s length-prefixed, so that concatenations cannot collide.
func (e *hashEncoder) str(s string) {
	e.u64(uint64(len(s)))
	if len(s) > cap(e.buf) {
		e.flush()
		e.h.Write([]byte(s)) //nolint:errcheck // hash writes never fail
		return
	}
	e.room(len(s))
	e.buf = append(e.buf, s...)
}

// Field is the name and kind of a column.
type Field struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
}

// Schema returns the name and kind of every column, in order.
func (f *Frame) Schema() []Field {
	out := make([]Field, len(f.cols))
	for i, c := range f.cols {
		out[i] = Field{Name: c.Name, Kind: c.Kind}
	}
	return out
}

// KindMap returns the kind of every column by name; it is the
// ReadOptions.Schema that reads f's columns back with the same kinds.
func (f *Frame) KindMap() map[string]Kind {
	out := make(map[string]Kind, len(f.cols))
	for _, c := range f.cols {
		out[c.Name] = c.Kind
	}
	return out
}

// Summary describes one column.
type Summary struct {
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	Missing int    `json:"missing"` // number of missing rows
	// Distinct is the number of distinct non-missing labels in use
	// (categorical columns only; 0 otherwise).
	Distinct int `json:"distinct,omitempty"`
	// Min and Max are the smallest and largest non-missing values of a
	// numeric or datetime column; NaN when there are none or for
	// categorical columns.
	Min float64 `json:"-"`
	Max float64 `json:"-"`
}

// Describe returns a Summary of every column, in order, in one pass over
// the data.
func (f *Frame) Describe() []Summary {
	out := make([]Summary, len(f.cols))
	for j, c := range f.cols {
		s := Summary{Name: c.Name, Kind: c.Kind, Min: math.NaN(), Max: math.NaN()}
		if c.Kind == Categorical {
			used := make([]bool, len(c.Levels))
			for _, code := range c.Codes {
				if code < 0 {
					s.Missing++
				} else if !used[code] {
					used[code] = true
					s.Distinct++
				}
			}
		} else {
			for _, v := range c.Num {
				switch {
				case math.IsNaN(v):
					s.Missing++
				case math.IsNaN(s.Min):
					s.Min, s.Max = v, v
				default:
					s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
				}
			}
		}
		out[j] = s
	}
	return out
}
