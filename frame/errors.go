package frame

import (
	"errors"
	"fmt"
	"strings"
)

// Errors that readers return (wrapped) for callers to branch on with
// errors.Is.
var (
	// ErrNoHeader reports an input without even a header row.
	ErrNoHeader = errors.New("no header row")
	// ErrNoRows reports an input with a header but no data rows.
	ErrNoRows = errors.New("no data rows")
	// ErrInfinite reports a numeric value that is ±Inf (or overflows
	// float64). tabforge refuses infinities instead of silently keeping
	// them.
	ErrInfinite = errors.New("infinite value")
	// ErrNotNumeric reports a value that does not parse as a number in a
	// column that must be numeric.
	ErrNotNumeric = errors.New("not a number")
	// ErrNotDatetime reports a value that does not parse as a datetime in a
	// column that must be a datetime.
	ErrNotDatetime = errors.New("not a datetime")
	// ErrDatetimeRange reports a datetime outside the years 0 to 9999
	// (MinUnix to MaxUnix) that tabforge reads and writes.
	ErrDatetimeRange = errors.New("datetime outside the supported years 0 to 9999")
	// ErrEmptyName reports an empty column name in a header.
	ErrEmptyName = errors.New("empty column name")
	// ErrDuplicateName reports a column name that appears twice in a header.
	ErrDuplicateName = errors.New("duplicate column name")
	// ErrUnsupported reports a file feature (compression codec, encoding,
	// nested type, ...) that the reader does not handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrMemoryLimit reports a whole-table read refused because the table
	// would take more memory than ReadOptions.MemoryLimit allows.
	ErrMemoryLimit = errors.New("too large to read into memory")
)

// ParseError locates a problem in input data. Line is the 1-based line of
// the file (CSV) and Row the 1-based data row (header excluded); either is
// 0 when unknown or not applicable. Column is the column name, "" when the
// problem concerns a whole record.
type ParseError struct {
	Line   int
	Row    int
	Column string
	Err    error
}

// Error formats e as `row 3 (line 4) column "x": infinite value`, leaving
// out the parts that are unknown.
func (e *ParseError) Error() string {
	var b strings.Builder
	switch {
	case e.Row > 0 && e.Line > 0:
		fmt.Fprintf(&b, "row %d (line %d)", e.Row, e.Line)
	case e.Row > 0:
		fmt.Fprintf(&b, "row %d", e.Row)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "column %q", e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }
