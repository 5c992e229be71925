//go:build !s3

package artifact

// s3Opener is nil: this build has no S3 driver (build with -tags s3).
func s3Opener() opener { return nil }
