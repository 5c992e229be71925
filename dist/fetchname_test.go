package dist

import (
	"context"
	"strings"
	"testing"
)

// TestFetchRefusesPathNames: a unit's dataset hash and recorded path name
// the worker's cache path, so one that is not a hash, or a path whose
// file name is "..", is refused before anything is fetched (".." took
// DataDir itself for the dataset, or a path outside it).
func TestFetchRefusesPathNames(t *testing.T) {
	w := &Worker{DataDir: t.TempDir()}
	for _, tt := range []struct{ hash, path, want string }{
		{"..", "data/sales.csv", "not a content hash"},
		{"", "data/sales.csv", "not a content hash"},
		{"ab/../cd", "data/sales.csv", "not a content hash"},
		{"0d9ba995", "data/..", "names no file"},
		{"0d9ba995", "/", "names no file"},
	} {
		if _, err := w.Fetch(context.Background(), tt.hash, tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Fetch(%q, %q) = %v; want an error saying %s", tt.hash, tt.path, err, tt.want)
		}
	}
}
