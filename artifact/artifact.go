// Package artifact owns where tabforge's model files and reports live: a
// Bucket addressed by URL. A plain path or a file:// URL is a local
// directory (the default, .tabforge/artifacts), mem:// is an in-process
// bucket for tests, and s3://, gs:// and hdfs:// (through gocloud.dev) are
// compiled in only with the build tags s3, gcs and hdfs, so the default
// binary carries no cloud SDK.
//
// Every object is written atomically (a local directory writes a temporary
// file beside the target and renames it; memory, S3, GCS and HDFS commit on
// close) and carries its SHA-256 as blob metadata. Loads verify it, and a
// mismatch is a *ChecksumError, so a corrupted or truncated artifact is
// never handed to a model loader.
package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// metaSHA256 is the blob metadata key holding the object's hex SHA-256.
const metaSHA256 = "sha256"

// Errors returned by Store.
var (
	// ErrChecksum is wrapped by every *ChecksumError.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotFound reports a missing object.
	ErrNotFound = errors.New("artifact not found")
	// ErrNoChecksum reports an object that was not written by Put, so
	// there is nothing to verify it against.
	ErrNoChecksum = errors.New("artifact has no recorded checksum")
)

// ChecksumError reports an artifact whose content does not match the
// checksum recorded when it was written: it was corrupted, truncated or
// replaced behind tabforge's back.
type ChecksumError struct {
	URL  string // the bucket URL
	Key  string
	Want string // hex SHA-256 recorded at write time
	Got  string // hex SHA-256 of what was read
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("artifact %s: checksum mismatch (recorded sha256 %s, read %s): the file is corrupt", joinURL(e.URL, e.Key), short(e.Want), short(e.Got))
}

// Unwrap returns ErrChecksum.
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// Ref names one stored artifact and what its content must hash to. It is
// plain data, so a registry can record it and load the artifact later.
type Ref struct {
	URL    string `json:"url"`    // the bucket URL (canonical form)
	Key    string `json:"key"`    // the object's key in the bucket
	SHA256 string `json:"sha256"` // hex SHA-256 of the content
	Size   int64  `json:"size"`   // bytes
}

// String returns the object's full address, e.g.
// file:///srv/artifacts/models/ab12/model.tfm.
func (r Ref) String() string { return joinURL(r.URL, r.Key) }

// Store is an open artifact bucket. It is safe for concurrent use.
type Store struct {
	url    string
	bucket Bucket
}

// URL returns the canonical URL of the bucket (a plain path is reported as
// file:///absolute/path).
func (s *Store) URL() string { return s.url }

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Put writes data under key, atomically, with its SHA-256 as metadata, and
// returns a Ref to it. Readers see either the old object or the whole new
// one, never a part.
func (s *Store) Put(ctx context.Context, key string, data []byte) (Ref, error) {
	if err := checkKey(key); err != nil {
		return Ref{}, err
	}
	sum := sha256.Sum256(data)
	ref := Ref{URL: s.url, Key: key, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	if err := s.bucket.Write(ctx, key, data, map[string]string{metaSHA256: ref.SHA256}); err != nil {
		return Ref{}, fmt.Errorf("artifact %s: write: %w", joinURL(s.url, key), err)
	}
	return ref, nil
}

// Get reads key and verifies it against the checksum stored with it. A
// mismatch returns a *ChecksumError; an object written by other means
// returns an error wrapping ErrNoChecksum.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	// Metadata and content are two reads; a concurrent Put between them
	// would look like corruption, so a mismatch is read once more before
	// it is reported.
	var err error
	for range 2 {
		var want string
		want, err = s.recorded(ctx, key)
		if err != nil {
			return nil, err
		}
		var data []byte
		data, err = s.read(ctx, key, want)
		if err == nil {
			return data, nil
		}
		if !errors.Is(err, ErrChecksum) {
			return nil, err
		}
	}
	return nil, err
}

// Load reads the artifact ref names from this store and verifies it
// against ref.SHA256, the checksum recorded when it was written. It does
// not trust the bucket's own metadata, so a replaced object is caught too.
func (s *Store) Load(ctx context.Context, ref Ref) ([]byte, error) {
	if ref.URL != "" && ref.URL != s.url {
		return nil, fmt.Errorf("artifact %s: stored in %s, not in %s", ref.Key, ref.URL, s.url)
	}
	if ref.SHA256 == "" {
		return nil, fmt.Errorf("artifact %s: %w", joinURL(s.url, ref.Key), ErrNoChecksum)
	}
	if err := checkKey(ref.Key); err != nil {
		return nil, err
	}
	return s.read(ctx, ref.Key, ref.SHA256)
}

// Exists reports whether key is stored.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("artifact %s: %w", joinURL(s.url, key), err)
	}
	return ok, nil
}

// Delete removes key; removing a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.bucket.Delete(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("artifact %s: delete: %w", joinURL(s.url, key), err)
	}
	return nil
}

// recorded returns the checksum stored with key.
func (s *Store) recorded(ctx context.Context, key string) (string, error) {
	meta, err := s.bucket.Metadata(ctx, key)
	if err != nil {
		return "", s.readErr(key, err)
	}
	want := meta[metaSHA256]
	if want == "" {
		return "", fmt.Errorf("artifact %s: %w", joinURL(s.url, key), ErrNoChecksum)
	}
	return want, nil
}

// read returns key's content if it hashes to want.
func (s *Store) read(ctx context.Context, key, want string) ([]byte, error) {
	data, err := s.bucket.Read(ctx, key)
	if err != nil {
		return nil, s.readErr(key, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		return nil, &ChecksumError{URL: s.url, Key: key, Want: want, Got: got}
	}
	return data, nil
}

func (s *Store) readErr(key string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("artifact %s: %w", joinURL(s.url, key), ErrNotFound)
	}
	return fmt.Errorf("artifact %s: read: %w", joinURL(s.url, key), err)
}

// checkKey rejects keys that would escape the bucket or collide with the
// local directory driver's metadata files.
func checkKey(key string) error {
	switch {
	case key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/"):
		return fmt.Errorf("artifact key %q: must be a relative name such as models/v1/model.tfm", key)
	case strings.HasSuffix(key, ".attrs"):
		return fmt.Errorf("artifact key %q: the suffix .attrs is reserved for metadata", key)
	}
	for part := range strings.SplitSeq(key, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("artifact key %q: empty, . and .. path elements are not allowed", key)
		}
	}
	return nil
}

func joinURL(base, key string) string {
	if strings.HasSuffix(base, "/") {
		return base + key
	}
	return base + "/" + key
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	if sum == "" {
		return "(none)"
	}
	return sum
}
