package bench

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// Dataset is one dataset of a manifest: a CSV file and how to train on it.
type Dataset struct {
	Name          string // the file's stem
	File          string // path, resolved against the manifest's directory
	Target        string
	Task          string // regression, binary, multiclass, or "" for train's auto
	TimeColumn    string
	PositiveClass string
	TestRows      string // file of test row indices, resolved like File; "" = train's default split
	Rows          int    // from the manifest's rows column, 0 if absent
}

// TrainArgs are the train flags that load the dataset and reproduce its
// split: only the flags the manifest sets, so that everything else is
// train's default.
func (d Dataset) TrainArgs() []string {
	args := []string{"--data", d.File, "--target", d.Target}
	for _, f := range []struct{ flag, v string }{
		{"--task", d.Task}, {"--time-column", d.TimeColumn},
		{"--positive-class", d.PositiveClass}, {"--test-rows", d.TestRows},
	} {
		if f.v != "" {
			args = append(args, f.flag, f.v)
		}
	}
	return args
}

// ReadManifest reads a dataset manifest: a CSV file with a header naming
// at least the columns file and target, and optionally task, time_column,
// positive_class, test_rows and rows (other columns, such as those of the
// meta corpus's MANIFEST.csv, are ignored). Relative paths in file and
// test_rows are relative to the manifest's directory.
func ReadManifest(path string) ([]Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	ds, err := parseManifest(f, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return ds, nil
}

// parseManifest parses a manifest from r; dir resolves relative paths.
func parseManifest(r io.Reader, dir string) ([]Dataset, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"file", "target"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("no %q column (header %q)", need, header)
		}
	}
	var out []Dataset
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		d := Dataset{File: get("file"), Target: get("target"), Task: get("task"), TimeColumn: get("time_column"),
			PositiveClass: get("positive_class"), TestRows: get("test_rows")}
		if d.File == "" || d.Target == "" {
			return nil, fmt.Errorf("line %d: file and target are required", line)
		}
		switch d.Task {
		case "", "auto", "regression", "binary", "multiclass":
		default:
			return nil, fmt.Errorf("line %d: task %q; want regression, binary or multiclass", line, d.Task)
		}
		if s := get("rows"); s != "" {
			if d.Rows, err = strconv.Atoi(s); err != nil {
				return nil, fmt.Errorf("line %d: rows %q: %w", line, s, err)
			}
		}
		d.Name = strings.TrimSuffix(filepath.Base(d.File), filepath.Ext(d.File))
		d.File = resolve(dir, d.File)
		if d.TestRows != "" {
			d.TestRows = resolve(dir, d.TestRows)
		}
		out = append(out, d)
	}
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Variant is a named set of extra train flags that bench corpus compares.
type Variant struct {
	Name  string   `json:"name"`
	Flags []string `json:"flags"`
}

// ParseVariant parses NAME=FLAGS, FLAGS split into words like a shell
// would (see SplitArgs); NAME= is a variant with no extra flags.
func ParseVariant(s string) (Variant, error) {
	name, flags, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Variant{}, fmt.Errorf("variant %q: want NAME=FLAGS (FLAGS may be empty)", s)
	}
	args, err := SplitArgs(flags)
	if err != nil {
		return Variant{}, fmt.Errorf("variant %s: %w", name, err)
	}
	return Variant{Name: name, Flags: args}, nil
}

// SplitArgs splits s into words at unquoted white space. Single quotes
// keep everything literally, double quotes keep everything but a
// backslash-escaped " or \, and a backslash outside quotes escapes the
// next character. It lets one flag value such as
// --set "model_params={gbdt: {learning_rate: 0.05}}" hold spaces.
func SplitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
				i++
				cur.WriteRune(rs[i])
			default:
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\':
			if i+1 == len(rs) {
				return nil, fmt.Errorf("%q ends with a backslash", s)
			}
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case unicode.IsSpace(c):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q has an unclosed %c quote", s, quote)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
