package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/internal/formatversion"
)

// TestOpenRefusesNewerLayout: a store whose layout record a newer
// tabforge raised past LayoutVersion is refused by Open, saying so and
// to upgrade, and its record is left as it is. Open returned a registry
// over it before, which read and wrote its records by this build's older
// rules (an older build's promotions kept no name Summary, say).
func TestOpenRefusesNewerLayout(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rec := b.open(t)
			if _, err := Open(ctx, rec); err != nil {
				t.Fatal(err)
			}
			newer := fmt.Appendf(nil, `{"version":%d,"migrated":"2030-01-01T00:00:00Z"}`, LayoutVersion+1)
			if err := rec.PutRecord(ctx, KindMeta, layoutKey, newer); err != nil {
				t.Fatal(err)
			}
			_, err := Open(ctx, rec)
			want := fmt.Sprintf("registry layout format version %d, written by a newer tabforge", LayoutVersion+1)
			if !errors.Is(err, formatversion.ErrNewer) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Open(store of layout %d) = %v; want an error wrapping formatversion.ErrNewer saying %q", LayoutVersion+1, err, want)
			}
			if got, err := rec.GetRecord(ctx, KindMeta, layoutKey); err != nil || string(got.Value) != string(newer) {
				t.Errorf("layout record after Open = %s, %v; want the newer tabforge's kept", got.Value, err)
			}
			// store import migrates what it wrote: not by older rules.
			if err := MigrateImported(ctx, rec); !errors.Is(err, formatversion.ErrNewer) {
				t.Errorf("MigrateImported(store of layout %d) = %v; want an error wrapping formatversion.ErrNewer", LayoutVersion+1, err)
			}
			if got, err := rec.GetRecord(ctx, KindMeta, layoutKey); err != nil || string(got.Value) != string(newer) {
				t.Errorf("layout record after MigrateImported = %s, %v; want the newer tabforge's kept", got.Value, err)
			}
		})
	}
}
