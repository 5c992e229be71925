//go:build !hdfs

package artifact

// hdfsOpener is nil: this build has no HDFS driver (build with -tags hdfs).
func hdfsOpener() opener { return nil }
