//go:build !gcs

package artifact

import "gocloud.dev/blob"

// gcsOpener is nil: this build has no GCS driver (build with -tags gcs).
func gcsOpener() blob.BucketURLOpener { return nil }
