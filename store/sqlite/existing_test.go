package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
)

// TestOpenExisting: OpenExisting opens a store Open made, with what was
// written to it, and refuses a path with no file, creating neither the
// file nor its directory.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.PutRun(ctx, &store.Run{ID: "r1", Status: "done"}); err != nil {
		t.Fatal(err)
	}
	got, err := OpenExisting(ctx, path)
	if err != nil {
		t.Fatalf("OpenExisting(%s) of a store Open made: %v", path, err)
	}
	defer got.Close()
	if r, err := got.GetRun(ctx, "r1"); err != nil || r.ID != "r1" {
		t.Errorf("GetRun(r1) = %v, %v; want the run written through Open", r, err)
	}

	dir := t.TempDir()
	for _, missing := range []string{
		filepath.Join(dir, "typo", "tf.db"), // a mistyped directory
		filepath.Join(dir, "tyop.db"),       // a mistyped file in a real one
	} {
		if st, err := OpenExisting(ctx, missing); !errors.Is(err, store.ErrNoStore) {
			if st != nil {
				st.Close()
			}
			t.Errorf("OpenExisting(%s) = %v; want store.ErrNoStore", missing, err)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("OpenExisting of missing stores left %s behind", left[0].Name())
	}
}
