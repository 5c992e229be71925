package artifact

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// opener opens a bucket URL of a scheme compiled in by a build tag.
type opener func(ctx context.Context, u *url.URL) (Bucket, error)

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
	case "file":
		if u.Host != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("artifact: location %q: a file URL is file:///absolute/dir without options (or give a plain path)", location)
		}
		return openDir(u.Path)
	case "mem":
		return &Store{url: "mem://", bucket: newMemBucket()}, nil
	}
	openers := optionalOpeners()
	open, ok := openers[u.Scheme]
	if !ok {
		return nil, fmt.Errorf("artifact: location %q: scheme %q is not in this build (%s)", location, u.Scheme, schemeHelp(openers))
	}
	b, err := open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("artifact: open %s: %w", location, err)
	}
	return &Store{url: location, bucket: b}, nil
}

// openDir opens a local directory, creating it if missing.
func openDir(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact: directory %q: %w", dir, err)
	}
	b, err := openDirBucket(abs)
	if err != nil {
		return nil, fmt.Errorf("artifact: directory %s: %w", abs, err)
	}
	return &Store{url: "file://" + filepath.ToSlash(abs), bucket: b}, nil
}

// schemeHelp says what this build opens and how to get the rest.
func schemeHelp(openers map[string]opener) string {
	have := []string{"file", "mem"}
	for scheme := range openers {
		have = append(have, scheme)
	}
	slices.Sort(have[2:])
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
func optionalOpeners() map[string]opener {
	m := map[string]opener{}
	for scheme, o := range map[string]opener{"s3": s3Opener(), "gs": gcsOpener(), "hdfs": hdfsOpener()} {
		if o != nil {
			m[scheme] = o
		}
	}
	return m
}
