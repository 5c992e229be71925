//go:build s3

package artifact

import "gocloud.dev/blob/s3blob"

// s3Opener opens s3://bucket URLs with the AWS SDK's default credential
// chain; query parameters (region, endpoint, use_path_style, ...) are
// s3blob's.
func s3Opener() opener { return cloudOpener(&s3blob.URLOpener{}) }
