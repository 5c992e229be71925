package pipeline

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/tabforge/tabforge/frame"
)

// DefaultStreamRows is the number of rows PredictStream reads, predicts
// and emits at a time when StreamOptions.BlockRows is 0: the size of a
// prediction block (predictBlockRows), so a stream's block makes one
// design matrix per model.
const DefaultStreamRows = predictBlockRows

// StreamOptions control PredictStream. The zero value reads with the
// default missing tokens and a detected separator, in blocks of
// DefaultStreamRows rows, and tolerates extra columns and unseen
// categories.
type StreamOptions struct {
	// Read are the options every pass reads the input with; the
	// predictor sets Schema and SchemaOptional to pin its input kinds.
	Read frame.ReadOptions
	// BlockRows is the most rows held at once; 0 means DefaultStreamRows.
	// Predictions, the report and errors do not depend on it.
	BlockRows int
	// Strict makes columns the model does not read and categories it
	// never saw errors (InputReport.Err(true)).
	Strict bool
}

// StreamResult is what a stream read and found.
type StreamResult struct {
	Rows   int          // data rows read
	Report *InputReport // the input report, as ReadInput makes it for the whole file
}

// Blocks is an input read a block of rows at a time, as
// *frame.CSVBlocks and *frame.ParquetBlocks read it: its column names,
// its blocks (io.EOF after the last) and, once read, each column's kind
// in the whole input.
type Blocks interface {
	Names() []string
	Next(maxRows int) (*frame.Frame, error)
	Kinds() []frame.Kind
	Close() error
}

// BlockOpener opens the input for one pass over it, read with opts; the
// input is opened again (with a column unpinned) when a pinned column
// holds a value of another kind, as ReadInputFrom reads it again.
type BlockOpener func(opts frame.ReadOptions) (Blocks, error)

// OpenFileBlocks is the BlockOpener of a data file: a CSV file (.csv,
// .csv.gz) read through frame.CSVBlocks, a Parquet one (.parquet, .pq)
// through frame.ParquetBlocks.
func OpenFileBlocks(path string) BlockOpener {
	return func(o frame.ReadOptions) (Blocks, error) {
		// Returned apart, so that a failure is a nil Blocks, not a nil
		// pointer in one.
		if frame.IsParquetFile(path) {
			b, err := frame.OpenParquetBlocks(path, o)
			if err != nil {
				return nil, err
			}
			return b, nil
		}
		b, err := frame.OpenCSVBlocks(path, o)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
}

// PredictStream applies p to every row of the input open opens, a block
// of rows at a time, and hands each block's predictions, in row order, to
// emit: memory holds one block, not the file. It is ReadInput followed by
// PredictContext, for the same outcome in less memory: the same
// predictions, the same report (problems and counts over the whole
// input) and the same error, naming the same file row. Errors come in
// ReadInput's order: an unreadable input (the reader's error, no result),
// then the report's (an *InputError, with the result), then
// prediction's, then emit's as they come.
//
// emit sees rows before the input is wholly read, so a caller must
// discard what it was given when PredictStream fails: write it to a
// temporary file and keep that only on success. Once the outcome can
// only be an error (a missing or mistyped column), emit is not called
// again; the input is still read to its end, for the report. ctx is
// checked between blocks; its error is returned as it is.
func (p *Predictor) PredictStream(ctx context.Context, open BlockOpener, emit func(*Prediction) error, o StreamOptions) (*StreamResult, error) {
	pinned := p.InputSchema()
	// After a mistyped column the passes read for the report only.
	res, _, err := readUnpinning(pinned, func(bad []TypeProblem) (*StreamResult, error) {
		s := &streamPass{p: p, pinned: pinned, bad: bad, emit: emit, opts: o}
		return s.run(ctx, open)
	})
	return res, err
}

// ScannedInput is an input checked a block of rows at a time
// (ScanInput): its rows and report, and the way to read it again.
type ScannedInput struct {
	Rows   int          // data rows
	Report *InputReport // the input report, as ReadInput makes it for the whole input
	open   BlockOpener
	read   frame.ReadOptions // with the schema's kinds pinned
}

// ScanInput reads the input open opens a block of rows at a time, as
// PredictStream does but predicting nothing, for its rows and report:
// the same as ReadInput's for the whole input, and the same errors
// (an unreadable input, with no result; then the report's *InputError,
// with the result). ctx is checked between blocks.
func (p *Predictor) ScanInput(ctx context.Context, open BlockOpener, o StreamOptions) (*ScannedInput, error) {
	pinned := p.InputSchema()
	res, _, err := readUnpinning(pinned, func(bad []TypeProblem) (*StreamResult, error) {
		s := &streamPass{p: p, pinned: pinned, bad: bad, opts: o}
		return s.run(ctx, open)
	})
	if res == nil {
		return nil, err
	}
	read := p.ReadOptions(o.Read)
	read.Schema, read.SchemaOptional = pinned, true
	return &ScannedInput{Rows: res.Rows, Report: res.Report, open: open, read: read}, err
}

// streamPass is one reading of the input.
type streamPass struct {
	p      *Predictor
	pinned map[string]frame.Kind
	bad    []TypeProblem           // pinned columns found mistyped: no prediction
	emit   func(*Prediction) error // nil predicts nothing (ScanInput)
	opts   StreamOptions

	unseen map[string]*unseenTally // categorical schema columns with levels
	filled map[string]bool         // schema columns with a value on some row
	// rawErr is the first error computing outputs; nonFinite the first
	// output that is not finite. PredictContext finds them in that order
	// (every output, then their values), so a non-finite output leaves
	// the later blocks still computed for a rawErr.
	rawErr, nonFinite error
}

// unseenTally gathers one column's unseen categories over the blocks.
type unseenTally struct {
	rows   int
	labels map[string]bool
}

func (s *streamPass) run(ctx context.Context, open BlockOpener) (*StreamResult, error) {
	ro := s.p.ReadOptions(s.opts.Read)
	ro.Schema, ro.SchemaOptional = s.pinned, true
	src, err := open(ro)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	r := s.header(src.Names())
	predict := s.emit != nil && r.Err(s.opts.Strict) == nil && len(s.bad) == 0
	blockRows := s.opts.BlockRows
	if blockRows <= 0 {
		blockRows = DefaultStreamRows
	}
	rows, err := eachBlock(ctx, src, blockRows, func(x *frame.Frame, first int) error {
		s.tally(x)
		if predict && s.rawErr == nil {
			return s.predict(ctx, x, first)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.finishReport(r, src)
	if rows >= 2 {
		// As ReadInput reports them for a file read whole.
		for _, f := range s.p.Schema {
			if j := slices.Index(src.Names(), f.Name); j >= 0 && src.Kinds()[j] == f.Kind && !s.filled[f.Name] {
				r.Empty = append(r.Empty, f.Name)
			}
		}
	}
	res := &StreamResult{Rows: rows, Report: r}
	if err := r.Err(s.opts.Strict); err != nil {
		return res, err
	}
	if s.rawErr != nil {
		return res, s.rawErr
	}
	return res, s.nonFinite
}

// header starts the report from the column names, as CheckInput does from
// a frame's: missing schema columns and extra ones are known before any
// row.
func (s *streamPass) header(names []string) *InputReport {
	r := &InputReport{}
	s.unseen = map[string]*unseenTally{}
	want := make(map[string]bool, len(s.p.Schema))
	for _, f := range s.p.Schema {
		want[f.Name] = true
		switch {
		case !slices.Contains(names, f.Name):
			r.Missing = append(r.Missing, f.Name)
		case f.Kind == frame.Categorical && f.Levels != nil:
			if _, pinned := s.pinned[f.Name]; pinned {
				s.unseen[f.Name] = &unseenTally{labels: map[string]bool{}}
			}
		}
	}
	for _, n := range names {
		if !want[n] && n != s.p.Target.Name {
			r.Extra = append(r.Extra, n)
		}
	}
	return r
}

// tally counts x's rows with categories training never saw, and notes
// the schema columns with a value.
func (s *streamPass) tally(x *frame.Frame) {
	if s.filled == nil {
		s.filled = map[string]bool{}
	}
	for _, f := range s.p.Schema {
		if c, ok := x.Lookup(f.Name); ok && !s.filled[f.Name] && hasValue(c) {
			s.filled[f.Name] = true
		}
	}
	for _, f := range s.p.Schema {
		t := s.unseen[f.Name]
		if t == nil {
			continue
		}
		c, _ := x.Lookup(f.Name)
		rows, labels := unseenLabels(c, f.Levels)
		t.rows += rows
		for _, l := range labels {
			t.labels[l] = true
		}
	}
}

// finishReport completes r once the input is read: the columns read as
// another kind than the model's, with the whole input's inferred kind,
// and the unseen categories, in schema order as CheckInput lists them.
func (s *streamPass) finishReport(r *InputReport, src Blocks) {
	kinds := src.Kinds()
	for _, f := range s.p.Schema {
		j := slices.Index(src.Names(), f.Name)
		if j < 0 {
			continue
		}
		if kinds[j] != f.Kind {
			t := TypeProblem{Column: f.Name, Want: f.Kind, Got: kinds[j]}
			if k := slices.IndexFunc(s.bad, func(b TypeProblem) bool { return b.Column == f.Name }); k >= 0 {
				t.Detail = s.bad[k].Detail
			}
			r.WrongType = append(r.WrongType, t)
			continue
		}
		if t := s.unseen[f.Name]; t != nil && t.rows > 0 {
			labels := make([]string, 0, len(t.labels))
			for l := range t.labels {
				labels = append(labels, l)
			}
			slices.Sort(labels)
			r.Unseen = append(r.Unseen, UnseenCategories{Column: f.Name, Rows: t.rows, Labels: labels[:min(10, len(labels))], Distinct: len(labels)})
		}
	}
	if len(r.Unseen) > 0 {
		r.Policy = UnseenPolicy
	}
}

// predict computes x's outputs and emits them, x's first row being row
// first of the input. A failure to compute is kept in s.rawErr, a
// non-finite output in s.nonFinite; both stop the emitting, and are
// reported after the input's own problems, as PredictContext's come after
// ReadInput's. Only ctx's and emit's errors are returned.
func (s *streamPass) predict(ctx context.Context, x *frame.Frame, first int) error {
	out, rows, err := s.p.raw(ctx, x)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.rawErr = atRow(err, first)
		return nil
	}
	pred, err := s.p.prediction(out, rows, first)
	if err != nil {
		if s.nonFinite == nil {
			s.nonFinite = err
		}
		return nil
	}
	if s.nonFinite != nil {
		return nil // the outcome is an error: nothing more to write
	}
	return s.emit(pred)
}

// eachBlock reads src to its end, blockRows rows at a time, and hands f
// each block with the input row of its first row. ctx is checked between
// blocks; its error, src's and f's are returned as they are. It returns
// the rows read.
func eachBlock(ctx context.Context, src Blocks, blockRows int, f func(x *frame.Frame, first int) error) (int, error) {
	rows := 0
	for {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		x, err := src.Next(blockRows)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if err := f(x, rows); err != nil {
			return rows, err
		}
		rows += x.NumRows()
	}
}

// atRow makes the row of a *NonFiniteError in err, counted in a block
// whose first row is row first of the input, a row of the input. The
// errors between err and it format when read (rowError), so the message
// says the new row.
func atRow(err error, first int) error {
	var nf *NonFiniteError
	if errors.As(err, &nf) {
		nf.Row += first
	}
	return err
}
