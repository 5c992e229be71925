//go:build !hdfs

package artifact

import "gocloud.dev/blob"

// hdfsOpener is nil: this build has no HDFS driver (build with -tags hdfs).
func hdfsOpener() blob.BucketURLOpener { return nil }
