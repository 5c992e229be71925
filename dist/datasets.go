package dist

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// datasets returns the object store of dataset files, creating it.
func (c *conn) datasets(ctx context.Context) (jetstream.ObjectStore, error) {
	return objectStore(ctx, c.js, jetstream.ObjectStoreConfig{Bucket: DatasetsBucket, Storage: jetstream.FileStorage})
}

// ShareDataset puts the file at path into the server's datasets object
// store under the name path, as the run records it, so that workers on
// machines without the file fetch it (Worker.Fetch). A stored object
// with the file's digest is kept as is.
func (e *Executor) ShareDataset(ctx context.Context, path string) error {
	obs, err := e.c.datasets(ctx)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("dist: share dataset: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("dist: share dataset: %w", err)
	}
	if info, err := obs.GetInfo(ctx, path); err == nil && info.Digest == jetstream.GetObjectDigestValue(h) {
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("dist: share dataset: %w", err)
	}
	if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: path}, f); err != nil {
		return fmt.Errorf("dist: share dataset %s: %w", path, err)
	}
	return nil
}

// Fetch returns a local copy of the dataset the run recorded at
// recordedPath, from the datasets object store, cached under
// DataDir/hash/. It is pipeline.UnitRunner's Fetch; the runner checks
// the copy's content hash. It works while Run is serving.
func (w *Worker) Fetch(ctx context.Context, hash, recordedPath string) (string, error) {
	// Both name the cache path: a hash or a file name of ".." would put
	// the copy outside DataDir, or take a directory for the dataset.
	if hash == "" || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", fmt.Errorf("dist: fetch dataset: %q is not a content hash", hash)
	}
	if name := filepath.Base(recordedPath); name == "." || name == ".." || name == string(filepath.Separator) {
		return "", fmt.Errorf("dist: fetch dataset: %q names no file", recordedPath)
	}
	c := w.conn.Load()
	if c == nil {
		return "", errors.New("dist: the worker is not connected")
	}
	dir := w.DataDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "tabforge-datasets")
	}
	dst := filepath.Join(dir, filepath.Base(hash), filepath.Base(recordedPath))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	obs, err := c.datasets(ctx)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("dist: fetch dataset: %w", err)
	}
	tmp := dst + ".part"
	if err := obs.GetFile(ctx, recordedPath, tmp); err != nil {
		return "", fmt.Errorf("dist: fetch dataset %s from the queue (was it shared?): %w", recordedPath, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("dist: fetch dataset: %w", err)
	}
	w.Logger.Info("fetched dataset", "path", recordedPath, "to", dst)
	return dst, nil
}
