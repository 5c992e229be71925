package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// wholePredictionCSV is predict's CSV output as it was made before
// predict streamed: the file read whole, predicted whole, then written.
// It also writes the whole-file predictions as Parquet, to wholePQ.
func wholePredictionCSV(t *testing.T, modelPath, data string) (out []byte, wholePQ string) {
	t.Helper()
	p, err := pipeline.LoadPredictor(modelPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, r, err := p.ReadInput(data, frame.ReadOptions{})
	if err != nil || r.Err(false) != nil {
		t.Fatalf("ReadInput: %v %v", err, r.Err(false))
	}
	pred, err := p.PredictContext(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writePredictionCSV(&b, p, pred); err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(t.TempDir(), "whole.parquet")
	if err := writePredictions(pq, p, pred); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), pq
}

// gzipFile writes data gzip-compressed to path.
func gzipFile(t *testing.T, path string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// parquetCopy writes what frame.ReadFile reads from the file at path to
// a new Parquet file.
func parquetCopy(t *testing.T, path string) string {
	t.Helper()
	f, err := frame.ReadFile(path, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(t.TempDir(), "in.parquet")
	if err := frame.WriteParquet(pq, f); err != nil {
		t.Fatal(err)
	}
	return pq
}

// TestPredictStreamsInput checks that predict, which reads its input in
// blocks, writes the bytes the whole-file predict wrote, for binary and
// multiclass models, CSV (plain and gzip-compressed) and Parquet input,
// every output format, and that its --json summary counts every row.
func TestPredictStreamsInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ data, target, model string }{
		{testdata("credit_data.csv"), "Status", "gbdt"},
		{testdata("corpus/palmerpenguins_penguins.csv"), "species", "logistic"},
	}
	for _, tt := range tests {
		m := quickTrain(t, dir, tt.data, tt.target, tt.model).ModelPath
		raw, err := os.ReadFile(tt.data)
		if err != nil {
			t.Fatal(err)
		}
		gz := filepath.Join(t.TempDir(), "in.csv.gz")
		gzipFile(t, gz, raw)
		for _, in := range []string{tt.data, gz, parquetCopy(t, tt.data)} {
			want, wantPQ := wholePredictionCSV(t, m, in)
			for _, name := range []string{"p.csv", "p.csv.gz", "p.parquet"} {
				out := filepath.Join(t.TempDir(), name)
				code, stdout, stderr := tabforge(t, dir, "predict", "--model", m, "--data", in, "--out", out, "--json")
				if code != 0 {
					t.Fatalf("predict %s > %s: exit %d: %s", in, name, code, stderr)
				}
				if name == "p.parquet" {
					if got, w := readMaybeGzip(t, out), readMaybeGzip(t, wantPQ); !bytes.Equal(got, w) {
						t.Errorf("predict %s > %s differs from the whole-file predict's Parquet", in, name)
					}
					continue
				}
				got := readMaybeGzip(t, out)
				if !bytes.Equal(got, want) {
					t.Errorf("predict %s > %s: %d bytes differ from the whole-file predict's %d", in, name, len(got), len(want))
				}
				var sum struct{ Rows int }
				if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Rows != bytes.Count(want, []byte("\n"))-1 {
					t.Errorf("--json %q: rows %d, error %v", stdout, sum.Rows, err)
				}
			}
		}
	}
}

func readMaybeGzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPredictStreamFailureWritesNothing: a value of the wrong type in a
// late row (read after earlier blocks were predicted), and an interrupt,
// leave no --out and no temporary file beside it, and the error names the
// file's row.
func TestPredictStreamFailureWritesNothing(t *testing.T) {
	dir := t.TempDir()
	m := quickTrain(t, dir, testdata("credit_data.csv"), "Status", "logistic").ModelPath
	raw, err := os.ReadFile(testdata("credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	fields := strings.Split(lines[4001], ",") // data row 4001, line 4002
	fields[len(fields)-1] = "lots"            // Price
	lines[4001] = strings.Join(fields, ",")
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	out := filepath.Join(outDir, "p.csv")
	for in, want := range map[string]string{
		bad:                 `row 4001 (line 4002) column "Price": not a number: "lots"`,
		parquetCopy(t, bad): `row 4001 column "Price": not a number: "lots"`,
	} {
		code, _, stderr := tabforge(t, dir, "predict", "--model", m, "--data", in, "--out", out)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("bad row in %s: exit %d, stderr %q; want 1 naming row 4001", in, code, stderr)
		}
	}
	for _, in := range []string{testdata("credit_data.csv"), parquetCopy(t, testdata("credit_data.csv"))} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, errb bytes.Buffer
		args := []string{"predict", "--store", "sqlite://" + filepath.Join(dir, "tf.db"), "--model", m,
			"--data", in, "--out", out}
		if code := run(ctx, args, &stdout, &errb); code != 1 || !strings.Contains(errb.String(), "interrupted; "+out+" not written") {
			t.Errorf("interrupted predict of %s: exit %d, stderr %q; want 1 and the interrupt", in, code, errb.String())
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed predict left %s: %v", out, err)
	}
	if left, _ := os.ReadDir(outDir); len(left) != 0 {
		t.Errorf("a failed predict left %v in the output directory", left)
	}
}
