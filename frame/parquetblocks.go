package frame

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// ParquetBlocks reads a Parquet file a block of rows at a time, as
// CSVBlocks reads CSV: memory holds one block's values (and the pages
// being read), not the file's.
//
// Every block is what ReadParquet gives for those rows: the same kinds
// (a Parquet column's kind is its type's, so it does not change from
// block to block), values, UTC offsets and ReadOptions.Schema
// conversions; categorical levels are those of the block's rows. A block
// never spans two row groups. Errors name the file's row (counted over
// all blocks) and are those ReadParquet returns for the same file: when a
// block finds a problem, the file is scanned as ReadParquet reads it
// (column by column, without keeping the values) for the error it would
// give first, so a ParquetBlocks reading a file to its end fails exactly
// when ReadParquet fails, with the same error, but for the table's size:
// ReadParquet refuses a table larger than ReadOptions.MemoryLimit,
// ParquetBlocks only a page that is.
type ParquetBlocks struct {
	fh      *os.File
	name    string // the file, for errors
	pm      *parquetMeta
	opts    ReadOptions
	missing []*missingSet // by column
	decs    []columnDecoder
	offsets []*offsetRuns // each column's UTC offsets; nil for none

	group   int           // the row group being read
	inGroup int64         // its rows returned so far
	chunks  []chunkReader // its columns' readers; nil before the first block
	vals    []parquet.Value
	rows    int   // rows returned in the blocks so far
	err     error // sticky: the error or io.EOF that ended the reading
}

// chunkReader reads one column chunk's values across blocks.
type chunkReader struct {
	pages parquet.Pages
	page  parquet.Page        // the page being read; nil between pages
	vr    parquet.ValueReader // page's values
}

// OpenParquetBlocks opens the Parquet file at path and checks its
// metadata. Errors name the file, as ReadFile's do; an error ReadParquet
// would only find among the values (after an unsupported column type, or
// bad UTC offsets, found here) is the one it returns. The caller must
// Close it.
func OpenParquetBlocks(path string, opts ReadOptions) (*ParquetBlocks, error) {
	fh, size, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("frame: read %s: %w", path, err)
	}
	b, err := openParquetBlocks(fh, size, opts)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("frame: read %s: %w", path, err)
	}
	b.fh, b.name = fh, path
	return b, nil
}

func openParquetBlocks(r io.ReaderAt, size int64, opts ReadOptions) (b *ParquetBlocks, err error) {
	defer func() {
		if recover() != nil {
			b, err = nil, readerPanic()
		}
	}()
	pm, err := openParquet(r, size)
	if err != nil {
		return nil, err
	}
	// A block reader holds a block, not the table: only a page (which
	// parquet-go holds whole, up to maxPageBytes uncompressed) can pass
	// the limit on its own.
	if err := checkMemory(opts, float64(pm.sizes.largest), "a page of the file"); err != nil {
		return nil, err
	}
	b = &ParquetBlocks{pm: pm, opts: opts, missing: make([]*missingSet, len(pm.names)), vals: make([]parquet.Value, parquetBatch),
		decs: make([]columnDecoder, len(pm.leaves)), offsets: make([]*offsetRuns, len(pm.leaves))}
	base := opts.missingSet()
	for j, name := range pm.names {
		b.missing[j] = opts.columnSet(base, name)
	}
	bad := false
	for j := range pm.leaves {
		if b.decs[j], err = decoderFor(&pm.leaves[j]); err != nil {
			bad = true
			continue
		}
		if s, ok := pm.pf.Lookup(offsetsKeyPrefix + pm.names[j]); ok && b.decs[j].kind == Datetime {
			if b.offsets[j], err = parseOffsetRuns(s, int(pm.numRows)); err != nil {
				bad = true
			}
		}
	}
	if bad || checkSchemaNames(opts, b.nameColumns()) != nil {
		return nil, b.wholeError()
	}
	return b, nil
}

// Names returns the column names, in file order.
func (b *ParquetBlocks) Names() []string { return b.pm.names }

// Rows returns the number of rows in the blocks returned so far: the
// 0-based file row of the next block's first row.
func (b *ParquetBlocks) Rows() int { return b.rows }

// Kinds returns each column's kind, in file order, as ReadParquet reads
// it: the one ReadOptions.Schema forces, else its type's.
func (b *ParquetBlocks) Kinds() []Kind {
	out := make([]Kind, len(b.decs))
	for j, d := range b.decs {
		out[j] = d.kind
		if k, ok := b.opts.Schema[b.pm.names[j]]; ok {
			out[j] = k
		}
	}
	return out
}

// Close closes the file.
func (b *ParquetBlocks) Close() error {
	b.closeGroup()
	if b.fh == nil {
		return nil
	}
	err := b.fh.Close()
	b.fh = nil
	return err
}

// Next reads up to maxRows rows (at least 1) and returns them as a
// frame. After the last row it returns io.EOF. Once Next has returned an
// error it returns it again.
func (b *ParquetBlocks) Next(maxRows int) (*Frame, error) {
	if b.err != nil {
		return nil, b.err
	}
	f, err := b.nextSafe(max(1, maxRows))
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("frame: read %s: %w", b.name, err)
			b.closeGroup()
		}
		b.err = err
		return nil, err
	}
	return f, nil
}

// nextSafe is next, a panic in parquet-go (hostile input) being a
// problem like any other: the error is ReadParquet's.
func (b *ParquetBlocks) nextSafe(maxRows int) (f *Frame, err error) {
	defer func() {
		if recover() != nil {
			f, err = nil, b.whole(readerPanic())
		}
	}()
	return b.next(maxRows)
}

func (b *ParquetBlocks) next(maxRows int) (*Frame, error) {
	groups := b.pm.pf.RowGroups()
	for b.group < len(groups) && b.inGroup == groups[b.group].NumRows() {
		if err := b.endGroup(groups[b.group]); err != nil {
			return nil, b.whole(err)
		}
		b.group, b.inGroup = b.group+1, 0
	}
	if b.group == len(groups) {
		return nil, io.EOF
	}
	rg := groups[b.group]
	b.openGroup(rg)
	n := int(min(int64(maxRows), rg.NumRows()-b.inGroup))
	cols := make([]*Column, len(b.decs))
	for j, dec := range b.decs {
		name := b.pm.names[j]
		cb := &colBuilder{name: name, kind: dec.kind, base: b.rows}
		cb.reserve(min(int64(n), 1<<20)) // n may be the file's claim
		if err := b.chunks[j].read(cb, dec, n, b.vals); err != nil {
			return nil, b.whole(err)
		}
		c := cb.column()
		if b.offsets[j] != nil {
			c.Offsets = b.offsets[j].slice(b.rows, n)
		}
		c, err := b.opts.parquetColumn(c, b.missing[j])
		if err != nil {
			return nil, b.whole(err)
		}
		cols[j] = c
	}
	b.inGroup += int64(n)
	b.rows += n
	return New(cols...)
}

// openGroup opens the readers of rg's column chunks, unless they are.
func (b *ParquetBlocks) openGroup(rg parquet.RowGroup) {
	if b.chunks != nil {
		return
	}
	b.chunks = make([]chunkReader, len(b.decs))
	for j, cc := range rg.ColumnChunks() {
		b.chunks[j].pages = cc.Pages()
	}
}

// endGroup checks that every column chunk of rg, all of whose rows were
// read, holds no more values, and closes their readers.
func (b *ParquetBlocks) endGroup(rg parquet.RowGroup) error {
	b.openGroup(rg) // a group without rows was never opened
	defer b.closeGroup()
	for j := range b.chunks {
		if err := b.chunks[j].atEnd(b.vals); err != nil {
			return err
		}
	}
	return nil
}

// closeGroup releases the pages being read and closes the readers.
func (b *ParquetBlocks) closeGroup() {
	for j := range b.chunks {
		b.chunks[j].release()
		b.chunks[j].pages.Close()
	}
	b.chunks = nil
}

// read appends the chunk's next n values to cb, nulls as missing.
func (c *chunkReader) read(cb *colBuilder, dec columnDecoder, n int, vals []parquet.Value) error {
	for n > 0 {
		if c.vr == nil {
			page, err := c.pages.ReadPage()
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: column chunk ends early", errCorrupt)
			}
			if err != nil {
				return err
			}
			c.page, c.vr = page, page.Values()
		}
		k, err := c.vr.ReadValues(vals[:min(len(vals), n)])
		for _, v := range vals[:k] {
			if v.IsNull() {
				cb.appendMissing()
			} else if err := dec.add(cb, v); err != nil {
				return err
			}
		}
		n -= k
		switch {
		case errors.Is(err, io.EOF):
			c.release()
		case err != nil:
			return err
		case k == 0:
			return fmt.Errorf("%w: page reader made no progress", errCorrupt)
		}
	}
	return nil
}

// atEnd reports an error when the chunk holds values after those read.
func (c *chunkReader) atEnd(vals []parquet.Value) error {
	for {
		if c.vr != nil {
			k, err := c.vr.ReadValues(vals[:1])
			if k > 0 {
				return fmt.Errorf("%w: column chunk holds more values than its rows", errCorrupt)
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			c.release()
		}
		page, err := c.pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		c.page, c.vr = page, page.Values()
	}
}

func (c *chunkReader) release() {
	if c.page != nil {
		parquet.Release(c.page)
	}
	c.page, c.vr = nil, nil
}

// whole is the error ReadParquet gives for the file in which a block
// found err: the first problem in ReadParquet's order, which reads every
// column before converting any (wholeError); err itself should the scan
// find none.
func (b *ParquetBlocks) whole(err error) error {
	if w := b.wholeError(); w != nil {
		return w
	}
	return err
}

// wholeError scans the file in ReadParquet's order, keeping one column
// chunk's values at a time, and returns the error ReadParquet would: the
// first column that cannot be read (its type, or a value), then bad UTC
// offsets, schema names, and the first column ReadOptions.Schema cannot
// convert. It returns nil for a file ReadParquet reads.
func (b *ParquetBlocks) wholeError() (err error) {
	defer func() {
		if recover() != nil {
			err = readerPanic()
		}
	}()
	pm := b.pm
	for j := range pm.leaves {
		if err := b.scanColumn(j, nil); err != nil {
			return err
		}
	}
	for j, name := range pm.names {
		if s, ok := pm.pf.Lookup(offsetsKeyPrefix + name); ok && b.decs[j].kind == Datetime {
			if _, err := parseOffsetRuns(s, int(pm.numRows)); err != nil {
				return fmt.Errorf("%w: column %q: utc offsets: %v", errCorrupt, name, err)
			}
		}
	}
	if err := checkSchemaNames(b.opts, b.nameColumns()); err != nil {
		return err
	}
	for j, name := range pm.names {
		if err := b.opts.ownMissing(name, b.decs[j].kind); err != nil {
			return err
		}
		k, ok := b.opts.Schema[name]
		if !ok || k == b.decs[j].kind {
			continue
		}
		err := b.scanColumn(j, func(c *Column, first int) error {
			if b.offsets[j] != nil {
				c.Offsets = b.offsets[j].slice(first, c.Len())
			}
			_, err := b.opts.parquetColumn(c, b.missing[j])
			var pe *ParseError
			if errors.As(err, &pe) && pe.Row > 0 {
				pe.Row += first // convertColumn counts the chunk's rows from 1
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scanColumn reads column j a row group at a time, as readParquetColumn
// reads it whole, and hands each group's values, whose first row is the
// file's row first, to check (when not nil).
func (b *ParquetBlocks) scanColumn(j int, check func(c *Column, first int) error) error {
	name := b.pm.names[j]
	dec, err := decoderFor(&b.pm.leaves[j])
	if err != nil {
		return fmt.Errorf("column %q: %w", name, err)
	}
	first := 0
	for g, rg := range b.pm.pf.RowGroups() {
		cb := &colBuilder{name: name, kind: dec.kind, base: first}
		if err := readChunk(cb, dec, rg.ColumnChunks()[j]); err != nil {
			return fmt.Errorf("row group %d column %q: %w", g, name, err)
		}
		if got := int64(cb.len()); got != rg.NumRows() {
			return fmt.Errorf("%w: row group %d column %q has %d values, want %d", errCorrupt, g, name, got, rg.NumRows())
		}
		if check != nil {
			if err := check(cb.column(), first); err != nil {
				return err
			}
		}
		first += cb.len()
	}
	return nil
}

// nameColumns returns a column of each name, without values, for
// checkSchemaNames.
func (b *ParquetBlocks) nameColumns() []*Column {
	out := make([]*Column, len(b.pm.names))
	for j, name := range b.pm.names {
		out[j] = &Column{Name: name}
	}
	return out
}
