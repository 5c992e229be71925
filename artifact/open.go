package artifact

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
)

// Open opens the artifact bucket at location:
//
//   - a plain path (".tabforge/artifacts", "/srv/artifacts") or
//     file:///absolute/dir: a local directory, created if missing;
//   - mem://: a new, empty in-process bucket (tests);
//   - s3://bucket?region=..., gs://bucket, hdfs://namenode:8020/dir: only
//     in binaries built with -tags s3, gcs or hdfs.
func Open(ctx context.Context, location string) (*Store, error) {
	if strings.TrimSpace(location) == "" {
		return nil, fmt.Errorf("artifact: empty location (give a directory or a URL such as file:///srv/artifacts)")
	}
	if !strings.Contains(location, "://") {
		return openDir(location)
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("artifact: location %q: %w", location, err)
	}
	switch u.Scheme {
	case fileblob.Scheme:
		if u.Host != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("artifact: location %q: a file URL is file:///absolute/dir without options (or give a plain path)", location)
		}
		return openDir(u.Path)
	case memblob.Scheme:
		return &Store{url: "mem://", bucket: memblob.OpenBucket(nil)}, nil
	}
	mux := new(blob.URLMux)
	for scheme, o := range optionalOpeners() {
		mux.RegisterBucket(scheme, o)
	}
	if !mux.ValidBucketScheme(u.Scheme) {
		return nil, fmt.Errorf("artifact: location %q: scheme %q is not in this build (%s)", location, u.Scheme, schemeHelp(mux))
	}
	b, err := mux.OpenBucketURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("artifact: open %s: %w", location, err)
	}
	return &Store{url: location, bucket: b}, nil
}

// openDir opens a local directory. Temporary files go beside their target
// (NoTempDir): fileblob's default puts them in os.TempDir, and a rename
// from there fails across file systems, which would break atomic writes.
func openDir(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact: directory %q: %w", dir, err)
	}
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{CreateDir: true, NoTempDir: true})
	if err != nil {
		return nil, fmt.Errorf("artifact: directory %s: %w", abs, err)
	}
	return &Store{url: "file://" + filepath.ToSlash(abs), bucket: b}, nil
}

// schemeHelp says what this build opens and how to get the rest.
func schemeHelp(mux *blob.URLMux) string {
	have := []string{"file", "mem"}
	have = append(have, mux.BucketSchemes()...)
	var missing []string
	for scheme, tag := range map[string]string{"s3": "s3", "gs": "gcs", "hdfs": "hdfs"} {
		if !slices.Contains(have, scheme) {
			missing = append(missing, fmt.Sprintf("%s:// needs -tags %s", scheme, tag))
		}
	}
	slices.Sort(missing)
	msg := "this build opens " + strings.Join(have, ", ")
	if len(missing) > 0 {
		msg += "; " + strings.Join(missing, ", ")
	}
	return msg
}

// optionalOpeners returns the openers compiled in by build tags, by
// scheme. Each tag's file supplies one function returning nil when the tag
// is off, so no init-time registration is needed.
func optionalOpeners() map[string]blob.BucketURLOpener {
	m := map[string]blob.BucketURLOpener{}
	for scheme, o := range map[string]blob.BucketURLOpener{"s3": s3Opener(), "gs": gcsOpener(), "hdfs": hdfsOpener()} {
		if o != nil {
			m[scheme] = o
		}
	}
	return m
}
