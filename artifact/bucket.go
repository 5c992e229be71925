package artifact

import (
	"context"
	"maps"
	"sync"
)

// Bucket is the object storage under a Store: a local directory, memory,
// or (in builds with their tags) S3, GCS and HDFS. Write must be atomic:
// a reader sees the previous object or the whole new one with its
// metadata, never a part.
type Bucket interface {
	// Write stores data under key with its metadata.
	Write(ctx context.Context, key string, data []byte, meta map[string]string) error
	// Read returns key's content; a missing key is an error wrapping
	// ErrNotFound.
	Read(ctx context.Context, key string) ([]byte, error)
	// Metadata returns the metadata written with key; a missing key is an
	// error wrapping ErrNotFound.
	Metadata(ctx context.Context, key string) (map[string]string, error)
	// Exists reports whether key is stored.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Close releases the bucket.
	Close() error
}

// memBucket is an in-process Bucket for tests (mem://).
type memBucket struct {
	mu      sync.RWMutex
	objects map[string]memObject
}

type memObject struct {
	data []byte
	meta map[string]string
}

func newMemBucket() *memBucket { return &memBucket{objects: map[string]memObject{}} }

func (b *memBucket) Write(_ context.Context, key string, data []byte, meta map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = memObject{data: append([]byte(nil), data...), meta: maps.Clone(meta)}
	return nil
}

func (b *memBucket) get(key string) (memObject, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.objects[key]
	if !ok {
		return memObject{}, ErrNotFound
	}
	return o, nil
}

func (b *memBucket) Read(_ context.Context, key string) ([]byte, error) {
	o, err := b.get(key)
	return append([]byte(nil), o.data...), err
}

func (b *memBucket) Metadata(_ context.Context, key string) (map[string]string, error) {
	o, err := b.get(key)
	return maps.Clone(o.meta), err
}

func (b *memBucket) Exists(_ context.Context, key string) (bool, error) {
	_, err := b.get(key)
	return err == nil, nil
}

func (b *memBucket) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objects, key)
	return nil
}

func (b *memBucket) Close() error { return nil }
