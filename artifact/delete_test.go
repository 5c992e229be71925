package artifact

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDeleteRemovesEmptyDirectories: deleting a directory's last object
// removes the directories it leaves empty, never the root nor a directory
// still holding an object, and writing there again works. gc removes one
// version directory (models/VERSION/) per version; before, each stayed
// behind empty, so a store with months of versions kept thousands.
func TestDeleteRemovesEmptyDirectories(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "artifacts")
	s := mustOpen(t, root)
	keys := []string{"models/v1/a.tfm", "models/v2/b.tfm", "models/v2/c.tfm"}
	for _, k := range keys {
		if _, err := s.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		del  string
		want []string // directories under root afterwards
	}{
		{"models/v1/a.tfm", []string{"models", "models/v2"}},
		{"models/v2/b.tfm", []string{"models", "models/v2"}},
		{"models/v2/c.tfm", nil},
		{"models/v2/c.tfm", nil}, // a missing key, its directory gone too
	}
	for _, st := range steps {
		if err := s.Delete(ctx, st.del); err != nil {
			t.Fatalf("Delete(%s): %v", st.del, err)
		}
		var dirs []string
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && p != root {
				rel, _ := filepath.Rel(root, p)
				dirs = append(dirs, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil {
			t.Fatalf("after Delete(%s): %v", st.del, err)
		}
		if !slices.Equal(dirs, st.want) {
			t.Errorf("after Delete(%s): directories %v; want %v", st.del, dirs, st.want)
		}
	}
	if _, err := s.Put(ctx, "models/v3/d.tfm", []byte("d")); err != nil {
		t.Fatalf("Put after the directories went: %v", err)
	}
	if got, err := s.Get(ctx, "models/v3/d.tfm"); err != nil || string(got) != "d" {
		t.Errorf("Get = %q, %v; want %q", got, err, "d")
	}
}
