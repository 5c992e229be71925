package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "tf.db")
		return func() (store.Store, error) { return sqlite.Open(context.Background(), path) }
	})
}
