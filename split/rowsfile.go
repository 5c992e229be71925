package split

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ReadRows reads row indices, one 0-based non-negative integer per line.
// Surrounding white space and blank lines are ignored. Errors name the
// 1-based line number. Indices are returned in the order read; FromTestRows
// validates range and duplicates.
func ReadRows(r io.Reader) ([]int, error) {
	var rows []int
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not an integer row index", line, s)
		}
		if v < 0 {
			return nil, fmt.Errorf("line %d: negative row index %d", line, v)
		}
		rows = append(rows, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", line, err)
	}
	return rows, nil
}

// ReadRowsFile reads row indices from the file at path with ReadRows, such
// as shared/anchors/splits/<name>.test_rows.txt. Errors name the file and
// line.
func ReadRowsFile(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("split: read rows: %w", err)
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		return nil, fmt.Errorf("split: rows file %s: %w", path, err)
	}
	return rows, nil
}
