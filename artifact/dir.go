package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tabforge/tabforge/internal/atomicfile"
)

// dirBucket is a local directory: each object is a file at its key, and
// its metadata a JSON file beside it named KEY.attrs. The layout is
// gocloud.dev's fileblob's, which earlier tabforge versions wrote, so
// their artifact directories read unchanged.
type dirBucket struct {
	root string
}

// attrsSuffix names an object's metadata file.
const attrsSuffix = ".attrs"

// dirAttrs is the metadata file's content (fileblob's field names).
type dirAttrs struct {
	ContentType string            `json:"user.content_type"`
	Metadata    map[string]string `json:"user.metadata"`
}

func openDirBucket(root string) (*dirBucket, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &dirBucket{root: root}, nil
}

func (b *dirBucket) path(key string) string { return filepath.Join(b.root, filepath.FromSlash(key)) }

// Write replaces the metadata file, then the object, each atomically. A
// crash between the two leaves the new checksum beside the old content,
// which Get reports as a checksum mismatch rather than returning it: the
// caller writes again, nothing wrong is ever read.
func (b *dirBucket) Write(_ context.Context, key string, data []byte, meta map[string]string) error {
	p := b.path(key)
	attrs, err := json.Marshal(dirAttrs{ContentType: "application/octet-stream", Metadata: meta})
	if err != nil {
		return err
	}
	// A Delete of the directory's last object removes the directory, and
	// may do so between MkdirAll and the write: then make it again, once.
	for try := 0; ; try++ {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		err := atomicfile.WriteFile(p+attrsSuffix, attrs)
		if errors.Is(err, fs.ErrNotExist) && try == 0 {
			continue
		}
		if err != nil {
			return err
		}
		return atomicfile.WriteFile(p, data)
	}
}

func (b *dirBucket) Read(_ context.Context, key string) ([]byte, error) {
	data, err := os.ReadFile(b.path(key))
	return data, notFound(err)
}

func (b *dirBucket) Metadata(_ context.Context, key string) (map[string]string, error) {
	if _, err := os.Stat(b.path(key)); err != nil {
		return nil, notFound(err)
	}
	raw, err := os.ReadFile(b.path(key) + attrsSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // an object copied in by hand: no metadata
	}
	if err != nil {
		return nil, err
	}
	var a dirAttrs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("metadata %s%s: %w", key, attrsSuffix, err)
	}
	return a.Metadata, nil
}

func (b *dirBucket) Exists(_ context.Context, key string) (bool, error) {
	_, err := os.Stat(b.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes the object and its metadata file, then the directories
// above it that are left empty, up to the root: every registered version
// has a directory of its own (models/VERSION/), and a store whose old
// versions gc removes would otherwise keep one empty directory for each.
func (b *dirBucket) Delete(_ context.Context, key string) error {
	for _, p := range []string{b.path(key), b.path(key) + attrsSuffix} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	root := filepath.Clean(b.root)
	for dir := filepath.Dir(b.path(key)); dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty (another object, a Write under way), or already gone
		}
	}
	return nil
}

func (b *dirBucket) Close() error { return nil }

// notFound maps a missing file to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}
