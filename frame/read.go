package frame

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ReadFile reads the table at path, choosing the format by the file name's
// extension (case-insensitive): .csv (ReadCSV), .csv.gz (gzip-compressed
// CSV) or .parquet and .pq (ReadParquet). Other extensions are an error.
// Errors name the file.
func ReadFile(path string, opts ReadOptions) (*Frame, error) {
	switch formatOf(path) {
	case formatCSV, formatCSVGzip:
		f, err := readCSVFile(path, formatOf(path) == formatCSVGzip, opts)
		if err != nil {
			return nil, fmt.Errorf("frame: read %s: %w", path, err)
		}
		return f, nil
	case formatParquet:
		return ReadParquet(path, opts)
	}
	return nil, fmt.Errorf("frame: read %s: unknown file extension %q (want .csv, .csv.gz, .parquet or .pq)", path, filepath.Ext(path))
}

// IsDataFile reports whether ReadFile reads the file named path, judging
// by its extension alone, so that a caller picking data files from a
// directory takes exactly the ones ReadFile reads.
func IsDataFile(path string) bool { return formatOf(path) != formatUnknown }

// CheckOutputName returns an error unless ReadFile would read a file
// named path, so that a writer of data (predictions, generated tables)
// refuses a name before doing any work rather than writing CSV text into
// "out.xlsx" or "out.tsv", which nothing, tabforge included, reads as the
// format its name promises.
func CheckOutputName(path string) error {
	if IsDataFile(path) {
		return nil
	}
	return fmt.Errorf("%s: unknown file extension %q: tabforge writes .csv, .csv.gz, .parquet or .pq (the files it reads)", path, filepath.Ext(path))
}

// IsParquetFile reports whether ReadFile reads the file named path as
// Parquet (.parquet or .pq), so that a writer picks the format its
// output will be read back in.
func IsParquetFile(path string) bool { return formatOf(path) == formatParquet }

// IsGzipCSVFile reports whether ReadFile reads the file named path as
// gzip-compressed CSV (.csv.gz).
func IsGzipCSVFile(path string) bool { return formatOf(path) == formatCSVGzip }

// fileFormat is a data file's format, as its extension names it.
type fileFormat uint8

const (
	formatUnknown fileFormat = iota
	formatCSV
	formatCSVGzip
	formatParquet
)

// formatOf returns the format of the file named path from its extension
// (case-insensitive).
func formatOf(path string) fileFormat {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".csv"):
		return formatCSV
	case strings.HasSuffix(lower, ".csv.gz"):
		return formatCSVGzip
	case strings.HasSuffix(lower, ".parquet"), strings.HasSuffix(lower, ".pq"):
		return formatParquet
	}
	return formatUnknown
}

// errDirectory reports a data path that is a directory, such as the
// directory of part files Spark writes for "data.parquet" or "data.csv".
var errDirectory = errors.New("is a directory, not a file (a Spark or Hive dataset of part files?): tabforge reads one data file; " +
	"point at one part file, or concatenate the parts into one file first")

// openFile opens the data file at path and returns it with its size. A
// directory is errDirectory: opening one succeeds, and reading it failed
// deep in the reader with a bare "is a directory".
func openFile(path string) (*os.File, int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := fh.Stat()
	if err == nil && st.IsDir() {
		err = errDirectory
	}
	if err != nil {
		fh.Close()
		return nil, 0, err
	}
	return fh, st.Size(), nil
}

func readCSVFile(path string, gz bool, opts ReadOptions) (*Frame, error) {
	fh, _, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if !gz {
		return readCSV(fh, opts)
	}
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, gzipError(err)
	}
	defer zr.Close()
	return readCSV(gzipErrors{zr}, opts)
}

// gzipErrors reads r, a gzip stream, saying in its errors that they come
// from the decompression: encoding/csv passes them on bare, and a bare
// "unexpected EOF" does not tell a cut-short file from bad CSV.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return n, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, fmt.Errorf("gzip: the compressed data ends early (the file is truncated): %w", err)
	}
	return n, gzipError(err)
}

// gzipError says that err came from reading a gzip stream, unless its
// message says so already (gzip.ErrHeader, gzip.ErrChecksum).
func gzipError(err error) error {
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) {
		return err
	}
	return fmt.Errorf("gzip: %w", err)
}
