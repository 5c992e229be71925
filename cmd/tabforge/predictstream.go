package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// predictStream predicts a data file (CSV, .csv.gz or Parquet) a block
// of rows at a time (pipeline.PredictStream), so that memory holds a block, not the
// file: the output, the input report, the errors and the exit code are
// those of reading the file whole. The predictions go to a temporary file
// renamed over out only when the whole input was read and predicted, so a
// refused input, a failed prediction or an interrupt leaves no output.
func (a *app) predictStream(ctx context.Context, p *pipeline.Predictor, dataPath, out string, strict, asJSON bool) error {
	res, err := a.streamPredictions(ctx, p, dataPath, out, pipeline.StreamOptions{Read: a.readOptions(), Strict: strict})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return interrupted(out, ctxErr)
	}
	var ie *pipeline.InputError
	switch {
	case errors.As(err, &ie):
		// As readInput says a refused input.
		err = fmt.Errorf("%s: %w", dataPath, err)
		if asJSON {
			json.NewEncoder(a.stdout).Encode(map[string]any{"error": err.Error(), "model": p.Family(), "input": res.Report})
		}
		return err
	case res == nil && err != nil:
		return err // an unreadable input, or an unwritable output
	}
	for _, w := range res.Report.Warnings() {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if err != nil {
		return fmt.Errorf("predict %s: %w", dataPath, err)
	}
	return a.predicted(p, res.Rows, out, res.Report, asJSON)
}

// streamPredictions runs the stream into out in the format
// writePredictions writes. A Parquet out holds its predictions until the
// end (a few numbers per row: far less than the input), then writes them
// as writePredictions does. The result is nil when the input could not be
// read or out written; the error is then the reader's or the writer's.
func (a *app) streamPredictions(ctx context.Context, p *pipeline.Predictor, dataPath, out string, o pipeline.StreamOptions) (*pipeline.StreamResult, error) {
	open := pipeline.OpenFileBlocks(dataPath)
	if frame.IsParquetFile(out) {
		all := &pipeline.Prediction{}
		res, err := p.PredictStream(ctx, open, func(pred *pipeline.Prediction) error {
			all.Values = append(all.Values, pred.Values...)
			all.Probs = append(all.Probs, pred.Probs...)
			all.Labels = append(all.Labels, pred.Labels...)
			return nil
		}, o)
		if err != nil || ctx.Err() != nil {
			return res, err
		}
		if err := writePredictions(out, p, all); err != nil {
			return nil, err
		}
		return res, nil
	}
	var res *pipeline.StreamResult
	var runErr, writeErr error
	werr := frame.WriteCSVFile(out, func(w io.Writer) error {
		pw, err := newPredictionCSV(w, p)
		if err != nil {
			writeErr = err
			return err
		}
		res, runErr = p.PredictStream(ctx, open, func(pred *pipeline.Prediction) error {
			writeErr = pw.write(pred)
			return writeErr
		}, o)
		switch {
		case writeErr != nil:
			return writeErr
		case runErr != nil:
			return runErr
		case ctx.Err() != nil: // stopped after the last block: keep out as it was
			return ctx.Err()
		}
		writeErr = pw.flush()
		return writeErr
	})
	switch {
	case werr == nil:
		return res, nil
	case writeErr != nil || runErr == nil:
		return nil, werr // atomicfile's error names out
	}
	return res, runErr
}
