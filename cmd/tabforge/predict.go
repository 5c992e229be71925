package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

func (a *app) predictCommand() *cobra.Command {
	var modelPath, dataPath, out string
	var asJSON, strict bool
	cmd := &cobra.Command{
		Use:   "predict --model REF --data PATH --out PATH",
		Short: "Apply a saved model to new data",
		Long: `Predict applies a model saved by train to every row of a CSV or Parquet file
and writes one output row per input row, in input order: the prediction and,
for classifiers, one probability column per class (prob_<class>).

The data is checked against the model's input contract first, and every
problem is reported at once: missing columns and values of the wrong type
are errors; columns the model does not read are ignored and categories it
never saw are encoded as unknown, with a warning (both are errors with
--strict). --json lists them under "input".

Input (.csv, .csv.gz, .parquet) is read and predicted a block of rows at a
time, so memory holds a block, not the file. The output is written to a temporary file and renamed over --out only when
every row was read and predicted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || dataPath == "" || out == "" {
				return usagef("predict: --model, --data and --out are required")
			}
			if err := frame.CheckOutputName(out); err != nil {
				return usagef("predict: --out %v", err)
			}
			if err := outIsNotFile("predict", fileFlag{"--out", out}, fileFlag{"--data", dataPath}, fileFlag{"--model", modelPath}); err != nil {
				return err
			}
			p, err := a.loadModel(cmd, modelPath)
			if err != nil {
				return err
			}
			if !frame.IsDataFile(dataPath) {
				_, err := frame.ReadFile(dataPath, frame.ReadOptions{}) // its error names the formats it reads
				return err
			}
			return a.predictStream(cmd.Context(), p, dataPath, out, strict, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model: a saved model file, or NAME@production, NAME@staging, NAME@ALIAS, NAME/VERSION or VERSION from --store")
	f.StringVar(&dataPath, "data", "", "data file (.csv or .parquet)")
	f.StringVar(&out, "out", "", "output file: CSV for .csv (gzip-compressed for .csv.gz), or Parquet for .parquet or .pq; another name is refused")
	f.BoolVar(&asJSON, "json", false, "print a JSON summary on stdout")
	f.BoolVar(&strict, "strict", false, "refuse columns the model does not read and categories it never saw")
	return cmd
}

// interrupted is the error of a run stopped by ctx before out was written.
func interrupted(out string, err error) error {
	return fmt.Errorf("predict: interrupted; %s not written: %w", out, err)
}

// predicted tells the user that rows predictions were written to out.
func (a *app) predicted(p *pipeline.Predictor, rows int, out string, report *pipeline.InputReport, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(map[string]any{"rows": rows, "out": out, "task": p.Target.Task, "model": p.Family(), "input": report})
	}
	fmt.Fprintf(a.stdout, "wrote %d predictions to %s\n", rows, out)
	return nil
}

// writePredictions writes pred in the format tabforge reads path in
// (frame.ReadFile): Parquet for .parquet and .pq, gzip-compressed CSV for
// .csv.gz, CSV otherwise (a .pq or .csv.gz path got plain CSV text, which
// no reader of that name could read back). It writes through a temporary
// file and a rename, so a failed run leaves no partial output.
func writePredictions(path string, p *pipeline.Predictor, pred *pipeline.Prediction) error {
	if frame.IsParquetFile(path) {
		f, err := p.PredictionFrame(pred)
		if err != nil {
			return err
		}
		return frame.WriteParquet(path, f)
	}
	return frame.WriteCSVFile(path, func(out io.Writer) error { return writePredictionCSV(out, p, pred) })
}

// writePredictionCSV writes pred as CSV: the prediction, and for
// classification each class's probability.
func writePredictionCSV(out io.Writer, p *pipeline.Predictor, pred *pipeline.Prediction) error {
	w, err := newPredictionCSV(out, p)
	if err != nil {
		return err
	}
	if err := w.write(pred); err != nil {
		return err
	}
	return w.flush()
}

// predictionCSV writes predictions as CSV rows under the header
// newPredictionCSV wrote: batch after batch, for a stream, with the bytes
// one batch of all rows would have.
type predictionCSV struct {
	w   *csv.Writer
	p   *pipeline.Predictor
	rec []string
}

func newPredictionCSV(out io.Writer, p *pipeline.Predictor) (*predictionCSV, error) {
	w := csv.NewWriter(out)
	header := []string{"prediction"}
	if p.Target.Task != model.Regression {
		for _, c := range p.Target.Classes {
			header = append(header, pipeline.ProbColumn(c))
		}
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	return &predictionCSV{w: w, p: p, rec: make([]string, len(header))}, nil
}

func (pw *predictionCSV) write(pred *pipeline.Prediction) error {
	k := len(pw.p.Target.Classes)
	rec := pw.rec
	n := len(pred.Values)
	if pw.p.Target.Task != model.Regression {
		n = len(pred.Labels)
	}
	for i := range n {
		if pw.p.Target.Task == model.Regression {
			rec[0] = strconv.FormatFloat(pred.Values[i], 'g', -1, 64)
		} else {
			rec[0] = pred.Labels[i]
			for c := range k {
				rec[1+c] = strconv.FormatFloat(pred.Probs[i*k+c], 'g', 8, 64)
			}
		}
		if err := pw.w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

func (pw *predictionCSV) flush() error {
	pw.w.Flush()
	return pw.w.Error()
}

// fileFlag is a file a command was given and the flag that gave it.
type fileFlag struct{ flag, path string }

// outIsNotFile refuses an output file that is one of the input files
// (the data, or a model given as a file), by path or through a link:
// writing it would replace that input with the output. It refuses a
// directory too, before the work: backtest found one only when writing
// its page at the end, and lost the hours of results with it.
func outIsNotFile(what string, out fileFlag, ins ...fileFlag) error {
	o, err := os.Stat(out.path)
	if err != nil {
		return nil // a new file
	}
	if o.IsDir() {
		return usagef("%s: %s %s is a directory; give a file name", what, out.flag, out.path)
	}
	for _, in := range ins {
		if d, err := os.Stat(in.path); err == nil && os.SameFile(o, d) {
			return usagef("%s: %s %s is the %s file; writing it would overwrite that input", what, out.flag, out.path, in.flag)
		}
	}
	return nil
}
