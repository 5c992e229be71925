package frame

// This file writes frames as CSV text that ReadCSV reads back.

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/tabforge/tabforge/internal/atomicfile"
)

// WriteCSV writes f as CSV with a header row: numbers in the shortest form
// that reads back to the same float64, datetimes as 2006-01-02 when they
// fall on midnight UTC and as RFC 3339 otherwise, in UTC or in the offset
// they were read with (Column.Offsets), categorical
// values as their labels, and missing values as empty fields. Fields are
// quoted when needed (RFC 4180), lines end in "\n". Reading the output with
// ReadCSV and the same kinds gives a frame with the same Hash, except that
// labels equal to a missing token (e.g. "NA") read back as missing and
// labels or names that are not UTF-8 (which no reader gives) read back
// decoded as Windows-1252. An infinite number or a datetime outside years
// 0 to 9999 is an error.
func WriteCSV(w io.Writer, f *Frame) error {
	if err := writeCSV(w, f); err != nil {
		return fmt.Errorf("frame: write csv: %w", err)
	}
	return nil
}

func writeCSV(w io.Writer, f *Frame) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	single := f.NumCols() == 1
	for j, c := range f.cols {
		if j > 0 {
			line = append(line, ',')
		}
		line = appendField(line, c.Name, single)
	}
	line = append(line, '\n')
	if _, err := bw.Write(line); err != nil {
		return err
	}
	var err error
	for i := range f.rows {
		line = line[:0]
		for j, c := range f.cols {
			if j > 0 {
				line = append(line, ',')
			}
			switch {
			case c.IsMissing(i):
				if single {
					// A blank line would be skipped on reading.
					line = append(line, `""`...)
				}
			case c.Kind == Categorical:
				line = appendField(line, c.Levels[c.Codes[i]], single)
			case c.Kind == Numeric:
				if math.IsInf(c.Num[i], 0) {
					return &ParseError{Row: i + 1, Column: c.Name, Err: ErrInfinite}
				}
				line = appendNumber(line, c.Num[i])
			default:
				if line, err = appendDatetime(line, c.Num[i], c.Offset(i)); err != nil {
					return &ParseError{Row: i + 1, Column: c.Name, Err: err}
				}
			}
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendField appends s, quoted (RFC 4180) if it contains any separator
// DetectComma considers (a "|" left bare made a file of such values read
// back split on "|"), a quote or a line break, starts with white space,
// a byte order mark or a binary file's leading bytes (see binaryFormat),
// or is empty and quoteEmpty is set.
func appendField(b []byte, s string, quoteEmpty bool) []byte {
	var quote bool
	if s == "" {
		quote = quoteEmpty
	} else {
		quote = strings.ContainsAny(s, separatorChars+"\"\r\n") || s[0] == ' ' || strings.HasPrefix(s, "\uFEFF") || binaryFormat(s) != ""
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// WriteFile writes f to path in the format ReadFile reads that name in:
// Parquet for .parquet and .pq, gzip-compressed CSV for .csv.gz, CSV for
// .csv; any other name is an error before anything is written (see
// CheckOutputName). The file is replaced atomically. Writers chose by
// ".parquet" alone, so `gen sales --out x.csv.gz` wrote plain CSV text
// that ReadFile then refused ("gzip: invalid header"), and x.pq CSV text
// it refused as "not a parquet file".
func WriteFile(path string, f *Frame) error {
	if err := CheckOutputName(path); err != nil {
		return fmt.Errorf("frame: write %w", err)
	}
	if IsParquetFile(path) {
		return WriteParquet(path, f)
	}
	return WriteCSVFile(path, func(w io.Writer) error { return WriteCSV(w, f) })
}

// WriteCSVFile replaces path atomically with the CSV text write writes,
// gzip-compressed when the name ends in .csv.gz, as ReadFile reads it:
// for writers of CSV other than WriteCSV (predictions, streamed).
func WriteCSVFile(path string, write func(w io.Writer) error) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		if !IsGzipCSVFile(path) {
			return write(w)
		}
		zw := gzip.NewWriter(w)
		if err := write(zw); err != nil {
			return err
		}
		return zw.Close()
	})
}
