package frame

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// inflater decompresses page bodies for checkRuns, one page at a time,
// reusing its buffers and decoders. It never makes more bytes than the
// page's header declares: parquet-go would decompress any amount (and
// keep it), so the check must not be where a compression bomb goes off.
// It also holds the body of the page being checked. The zero value is
// ready; close releases the zstd decoder.
type inflater struct {
	body   []byte
	out    []byte
	stream bytes.Buffer
	src    bytes.Reader
	zstd   *zstd.Decoder
	gzip   *gzip.Reader
	brotli *brotli.Reader
}

// read returns the n bytes at off in r; they are valid until the next
// call.
func (in *inflater) read(r io.ReaderAt, off int64, n int) ([]byte, error) {
	in.body = slices.Grow(in.body[:0], n)[:n]
	if _, err := r.ReadAt(in.body, off); err != nil {
		return nil, fmt.Errorf("page body: %w", err)
	}
	return in.body, nil
}

// inflate returns the page body src decompressed with codec, refusing
// output larger than size, its declared uncompressed size. The result is
// valid until the next call. A codec parquet-go does not read gives nil:
// it refuses such a page before decoding any run.
func (in *inflater) inflate(codec format.CompressionCodec, src []byte, size int) ([]byte, error) {
	switch codec {
	case format.Uncompressed:
		return src, nil
	case format.Snappy:
		n, err := snappy.DecodedLen(src)
		if err != nil {
			return nil, fmt.Errorf("SNAPPY page: %w", err)
		}
		if n > size {
			return nil, fmt.Errorf("SNAPPY page of %d bytes declared as %d", n, size)
		}
		in.out = slices.Grow(in.out[:0], n)[:n]
		out, err := snappy.Decode(in.out, src)
		if err != nil {
			return nil, fmt.Errorf("SNAPPY page: %w", err)
		}
		return out, nil
	case format.Lz4Raw:
		in.out = slices.Grow(in.out[:0], size)[:size]
		n, err := lz4.UncompressBlock(src, in.out)
		if err != nil {
			return nil, fmt.Errorf("LZ4 page does not decompress into its declared %d bytes: %w", size, err)
		}
		return in.out[:n], nil
	case format.Gzip, format.Zstd, format.Brotli:
		r, err := in.reader(codec, src)
		if err != nil {
			return nil, fmt.Errorf("%s page: %w", codec, err)
		}
		return in.readAtMost(codec, r, size)
	}
	return nil, nil
}

// reader returns codec's decoder reset to read src.
func (in *inflater) reader(codec format.CompressionCodec, src []byte) (io.Reader, error) {
	in.src.Reset(src) // a bytes.Reader, not a Buffer: zstd would decode that whole, without limit
	var err error
	switch codec {
	case format.Gzip:
		if in.gzip == nil {
			in.gzip, err = gzip.NewReader(&in.src)
			return in.gzip, err
		}
		return in.gzip, in.gzip.Reset(&in.src)
	case format.Zstd:
		if in.zstd == nil {
			in.zstd, err = zstd.NewReader(&in.src, zstd.WithDecoderConcurrency(1))
			return in.zstd, err
		}
		return in.zstd, in.zstd.Reset(&in.src)
	default:
		if in.brotli == nil {
			in.brotli = brotli.NewReader(&in.src)
			return in.brotli, nil
		}
		return in.brotli, in.brotli.Reset(&in.src)
	}
}

// readAtMost reads r to its end, refusing more than size bytes.
func (in *inflater) readAtMost(codec format.CompressionCodec, r io.Reader, size int) ([]byte, error) {
	in.stream.Reset()
	n, err := in.stream.ReadFrom(io.LimitReader(r, int64(size)+1))
	if err != nil {
		return nil, fmt.Errorf("%s page: %w", codec, err)
	}
	if n > int64(size) {
		return nil, fmt.Errorf("%s page decompresses to more than its declared %d bytes", codec, size)
	}
	return in.stream.Bytes(), nil
}

// close releases the zstd decoder, if any.
func (in *inflater) close() {
	if in.zstd != nil {
		in.zstd.Close()
	}
}
