//go:build gcs

package artifact

import (
	"context"
	"net/url"

	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
)

// gcsOpener opens gs://bucket URLs with Application Default Credentials,
// looked up on first use. gcsblob keeps that lazy opener unexported and
// registers it on blob.DefaultURLMux, so this delegates to it.
func gcsOpener() opener { return cloudOpener(gcsDefault{}) }

type gcsDefault struct{}

func (gcsDefault) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	if u.Scheme != gcsblob.Scheme {
		u = &url.URL{Scheme: gcsblob.Scheme, Host: u.Host, Path: u.Path, RawQuery: u.RawQuery}
	}
	return blob.DefaultURLMux().OpenBucketURL(ctx, u)
}
