//go:build !s3

package artifact

import "gocloud.dev/blob"

// s3Opener is nil: this build has no S3 driver (build with -tags s3).
func s3Opener() blob.BucketURLOpener { return nil }
