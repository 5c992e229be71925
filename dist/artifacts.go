package dist

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ArtifactsBucket holds what a driver shares with its workers by content
// hash besides datasets: the candidates' predictions an ensemble unit
// combines. Its objects expire with the results they serve.
const ArtifactsBucket = "TABFORGE_ARTIFACTS"

// artifacts returns the object store of artifacts, creating it on first
// use; the handle is kept, since every ensemble unit asks for it.
func (c *conn) artifacts(ctx context.Context) (jetstream.ObjectStore, error) {
	c.artsMu.Lock()
	defer c.artsMu.Unlock()
	if c.arts != nil {
		return c.arts, nil
	}
	cfg := jetstream.ObjectStoreConfig{Bucket: ArtifactsBucket, Storage: jetstream.FileStorage, TTL: resultTTL}
	obs, err := objectStore(ctx, c.js, cfg)
	if err != nil {
		return nil, err
	}
	c.arts = obs
	return obs, nil
}

// ShareArtifact implements pipeline.Sharer: it puts b into the artifacts
// object store under its content hash, unless an object of that name is
// there already (the same hash names the same bytes).
func (e *Executor) ShareArtifact(ctx context.Context, hash string, b []byte) error {
	obs, err := e.c.artifacts(ctx)
	if err != nil {
		return err
	}
	h := sha256.New()
	h.Write(b)
	if info, err := obs.GetInfo(ctx, hash); err == nil && info.Digest == jetstream.GetObjectDigestValue(h) {
		return nil
	}
	if _, err := obs.PutBytes(ctx, hash, b); err != nil {
		return fmt.Errorf("dist: share artifact %.12s: %w", hash, err)
	}
	return nil
}

// Artifact returns the bytes a driver shared under hash (ShareArtifact).
// It is pipeline.UnitRunner's Artifact; the runner checks their hash. It
// works while Run is serving.
func (w *Worker) Artifact(ctx context.Context, hash string) ([]byte, error) {
	c := w.conn.Load()
	if c == nil {
		return nil, errors.New("dist: the worker is not connected")
	}
	obs, err := c.artifacts(ctx)
	if err != nil {
		return nil, err
	}
	b, err := obs.GetBytes(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("dist: fetch artifact %.12s from the queue (was it shared?): %w", hash, err)
	}
	return b, nil
}
