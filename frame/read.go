package frame

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadFile reads the table at path, choosing the format by the file name's
// extension (case-insensitive): .csv (ReadCSV), .csv.gz (gzip-compressed
// CSV) or .parquet and .pq (ReadParquet). Other extensions are an error.
// Errors name the file.
func ReadFile(path string, opts ReadOptions) (*Frame, error) {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".csv"), strings.HasSuffix(lower, ".csv.gz"):
		f, err := readCSVFile(path, strings.HasSuffix(lower, ".gz"), opts)
		if err != nil {
			return nil, fmt.Errorf("frame: read %s: %w", path, err)
		}
		return f, nil
	case strings.HasSuffix(lower, ".parquet"), strings.HasSuffix(lower, ".pq"):
		return ReadParquet(path, opts)
	}
	return nil, fmt.Errorf("frame: read %s: unknown file extension %q (want .csv, .csv.gz, .parquet or .pq)", path, filepath.Ext(path))
}

func readCSVFile(path string, gz bool, opts ReadOptions) (*Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if !gz {
		return readCSV(fh, opts)
	}
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	defer zr.Close()
	return readCSV(zr, opts)
}
