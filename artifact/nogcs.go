//go:build !gcs

package artifact

// gcsOpener is nil: this build has no GCS driver (build with -tags gcs).
func gcsOpener() opener { return nil }
