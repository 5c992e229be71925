//go:build hdfs

package artifact

// This file adapts github.com/colinmarc/hdfs/v2 to gocloud.dev/blob's
// driver interface, so hdfs://namenode:8020/dir opens like any other
// bucket. It is compiled only with -tags hdfs and is untested here: no
// HDFS can run on tabforge's development or CI machines. Kerberos is not
// configured; the client connects as $HADOOP_USER_NAME or the OS user.
//
// Atomicity: an object is written to a temporary file beside its target,
// its metadata set as user.* extended attributes on that file, and then
// renamed over the target (HDFS rename2 with overwrite), so readers never
// see a partial object and content and checksum travel together.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// hdfsOpener opens hdfs://namenode:port/dir URLs.
func hdfsOpener() opener { return cloudOpener(hdfsURLOpener{}) }

type hdfsURLOpener struct{}

func (hdfsURLOpener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("hdfs URL %q: needs a namenode address, e.g. hdfs://namenode:8020/dir", u.Redacted())
	}
	user := u.User.Username()
	if user == "" {
		user = os.Getenv("HADOOP_USER_NAME")
	}
	c, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{u.Host}, User: user})
	if err != nil {
		return nil, fmt.Errorf("hdfs %s: %w", u.Host, err)
	}
	root := path.Clean("/" + u.Path)
	if err := c.MkdirAll(root, 0o755); err != nil {
		c.Close()
		return nil, fmt.Errorf("hdfs %s: create %s: %w", u.Host, root, err)
	}
	return blob.NewBucket(&hdfsBucket{c: c, root: root}), nil
}

// Extended attributes the driver keeps per object.
const (
	hdfsXattrPrefix      = "user.tabforge."
	hdfsXattrContentType = "user.tabforge-content-type"
	hdfsTempMarker       = ".tabforge-tmp-"
)

var errHDFSUnimplemented = errors.New("hdfs: not implemented")

type hdfsBucket struct {
	c    *hdfs.Client
	root string
}

var _ driver.Bucket = (*hdfsBucket)(nil)

func (b *hdfsBucket) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return path.Join(b.root, key), nil
}

func (b *hdfsBucket) ErrorCode(err error) gcerrors.ErrorCode {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return gcerrors.NotFound
	case errors.Is(err, os.ErrPermission):
		return gcerrors.PermissionDenied
	case errors.Is(err, errHDFSUnimplemented):
		return gcerrors.Unimplemented
	}
	return gcerrors.Unknown
}

func (b *hdfsBucket) As(i any) bool {
	p, ok := i.(**hdfs.Client)
	if ok {
		*p = b.c
	}
	return ok
}

func (b *hdfsBucket) ErrorAs(err error, i any) bool { return errors.As(err, i) }

func (b *hdfsBucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	fi, err := b.c.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &os.PathError{Op: "stat", Path: p, Err: os.ErrNotExist}
	}
	xs, err := b.c.ListXAttrs(p)
	if err != nil {
		return nil, err
	}
	a := &driver.Attributes{Size: fi.Size(), ModTime: fi.ModTime(), CreateTime: fi.ModTime(), Metadata: map[string]string{}}
	for k, v := range xs {
		switch {
		case k == hdfsXattrContentType:
			a.ContentType = v
		case strings.HasPrefix(k, hdfsXattrPrefix):
			a.Metadata[strings.TrimPrefix(k, hdfsXattrPrefix)] = v
		}
	}
	return a, nil
}

func (b *hdfsBucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	var objs []*driver.ListObject
	seenDir := map[string]bool{}
	err := b.c.Walk(b.root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() || strings.Contains(path.Base(p), hdfsTempMarker) {
			return nil
		}
		key := strings.TrimPrefix(strings.TrimPrefix(p, b.root), "/")
		if !strings.HasPrefix(key, opts.Prefix) {
			return nil
		}
		if d := opts.Delimiter; d != "" {
			if i := strings.Index(key[len(opts.Prefix):], d); i >= 0 {
				dir := key[:len(opts.Prefix)+i+len(d)]
				if !seenDir[dir] {
					seenDir[dir] = true
					objs = append(objs, &driver.ListObject{Key: dir, IsDir: true})
				}
				return nil
			}
		}
		objs = append(objs, &driver.ListObject{Key: key, ModTime: fi.ModTime(), Size: fi.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(objs, func(x, y *driver.ListObject) int { return strings.Compare(x.Key, y.Key) })
	start := 0
	if len(opts.PageToken) > 0 {
		last := string(opts.PageToken)
		start, _ = slices.BinarySearchFunc(objs, last, func(o *driver.ListObject, k string) int { return strings.Compare(o.Key, k) })
		if start < len(objs) && objs[start].Key == last {
			start++
		}
	}
	size := opts.PageSize
	if size <= 0 {
		size = 1000
	}
	page := &driver.ListPage{Objects: objs[start:min(start+size, len(objs))]}
	if start+size < len(objs) {
		page.NextPageToken = []byte(page.Objects[len(page.Objects)-1].Key)
	}
	return page, nil
}

func (b *hdfsBucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	f, err := b.c.Open(p)
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	fi := f.Stat()
	var r io.Reader = f
	if length >= 0 {
		r = io.LimitReader(f, length)
	}
	return &hdfsReader{r: r, f: f, attrs: driver.ReaderAttributes{ModTime: fi.ModTime(), Size: fi.Size()}}, nil
}

type hdfsReader struct {
	r     io.Reader
	f     *hdfs.FileReader
	attrs driver.ReaderAttributes
}

func (r *hdfsReader) Read(p []byte) (int, error)           { return r.r.Read(p) }
func (r *hdfsReader) Close() error                         { return r.f.Close() }
func (r *hdfsReader) Attributes() *driver.ReaderAttributes { return &r.attrs }
func (r *hdfsReader) As(i any) bool                        { return false }
func (b *hdfsBucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	if err := b.c.MkdirAll(path.Dir(p), 0o755); err != nil {
		return nil, err
	}
	tmp := p + hdfsTempMarker + strconv.FormatInt(time.Now().UnixNano(), 36)
	f, err := b.c.Create(tmp)
	if err != nil {
		return nil, err
	}
	return &hdfsWriter{ctx: ctx, b: b, f: f, tmp: tmp, path: p, contentType: contentType, meta: opts.Metadata, ifNotExist: opts.IfNotExist}, nil
}

type hdfsWriter struct {
	ctx         context.Context
	b           *hdfsBucket
	f           *hdfs.FileWriter
	tmp, path   string
	contentType string
	meta        map[string]string
	ifNotExist  bool
}

func (w *hdfsWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

// Close commits the object unless the write's context was cancelled, in
// which case the temporary file is removed and the target left alone.
func (w *hdfsWriter) Close() (err error) {
	defer func() {
		if err != nil {
			w.b.c.Remove(w.tmp)
		}
	}()
	if err := w.f.Close(); err != nil {
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.contentType != "" {
		if err := w.b.c.SetXAttr(w.tmp, hdfsXattrContentType, w.contentType); err != nil {
			return err
		}
	}
	for k, v := range w.meta {
		if err := w.b.c.SetXAttr(w.tmp, hdfsXattrPrefix+k, v); err != nil {
			return err
		}
	}
	if w.ifNotExist {
		if _, err := w.b.c.Stat(w.path); err == nil {
			return fmt.Errorf("hdfs %s: already exists", w.path)
		}
	}
	return w.b.c.Rename(w.tmp, w.path)
}

func (b *hdfsBucket) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	a, err := b.Attributes(ctx, srcKey)
	if err != nil {
		return err
	}
	r, err := b.NewRangeReader(ctx, srcKey, 0, -1, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewTypedWriter(wctx, dstKey, a.ContentType, &driver.WriterOptions{Metadata: a.Metadata})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		w.Close()
		return err
	}
	return w.Close()
}

func (b *hdfsBucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	return b.c.Remove(p)
}

func (b *hdfsBucket) SignedURL(ctx context.Context, key string, opts *driver.SignedURLOptions) (string, error) {
	return "", errHDFSUnimplemented
}

func (b *hdfsBucket) Close() error { return b.c.Close() }
