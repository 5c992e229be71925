package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/store/sqlite"
)

// SQLite opens a real SQLite store in a fresh temporary directory, closed
// when the test ends: the store other packages' tests run against.
func SQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Local opens the default local setup in dir, as tabforge lays it out: a
// SQLite store dir/tf.db and an artifact bucket dir/artifacts, both
// closed when the test ends.
func Local(t testing.TB, dir string) (*sqlite.Store, *artifact.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arts.Close() })
	return st, arts
}
