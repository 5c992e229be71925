//go:build s3 || gcs || hdfs

package artifact

// This file adapts gocloud.dev/blob buckets (S3, GCS, and tabforge's own
// HDFS driver) to Bucket. It is compiled only with the tags that need it,
// so the default build carries no cloud SDK.

import (
	"context"
	"net/url"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// cloudOpener wraps a gocloud opener.
func cloudOpener(o blob.BucketURLOpener) opener {
	return func(ctx context.Context, u *url.URL) (Bucket, error) {
		b, err := o.OpenBucketURL(ctx, u)
		if err != nil {
			return nil, err
		}
		return cloudBucket{b}, nil
	}
}

// cloudBucket is a gocloud bucket as a Bucket. Its writes commit on Close;
// a failed write cancels its context first, which the drivers treat as
// "discard", so the previous object stays as it was.
type cloudBucket struct{ b *blob.Bucket }

func (c cloudBucket) Write(ctx context.Context, key string, data []byte, meta map[string]string) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := c.b.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/octet-stream", Metadata: meta})
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		w.Close()
		return err
	}
	return w.Close()
}

func (c cloudBucket) Read(ctx context.Context, key string) ([]byte, error) {
	data, err := c.b.ReadAll(ctx, key)
	return data, cloudErr(err)
}

func (c cloudBucket) Metadata(ctx context.Context, key string) (map[string]string, error) {
	a, err := c.b.Attributes(ctx, key)
	if err != nil {
		return nil, cloudErr(err)
	}
	return a.Metadata, nil
}

func (c cloudBucket) Exists(ctx context.Context, key string) (bool, error) {
	return c.b.Exists(ctx, key)
}

func (c cloudBucket) Delete(ctx context.Context, key string) error {
	return cloudErr(c.b.Delete(ctx, key))
}

func (c cloudBucket) Close() error { return c.b.Close() }

func cloudErr(err error) error {
	if err != nil && gcerrors.Code(err) == gcerrors.NotFound {
		return ErrNotFound
	}
	return err
}
