package storetest

import (
	"context"
	"path/filepath"
	"testing"

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
