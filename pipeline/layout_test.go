package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
)

// TestLayoutNames checks that every model family, fitted feature-step
// kind and target transform this build ships has the layout that
// introduced it, at most the highest this build reads: a name added
// without one would be written into files older builds read by their
// layout, which would call the name corrupt instead of saying to upgrade.
func TestLayoutNames(t *testing.T) {
	check := func(kind nameKind, what string, names ...string) {
		for _, name := range names {
			if l, ok := layoutOf(kind, name); !ok || l < 1 || l > predictorVersion {
				t.Errorf("layoutOf(%s %q) = %d, %v; want a layout from 1 to %d (raise predictorVersion for a new name)", what, name, l, ok, predictorVersion)
			}
		}
	}
	check(familyName, "family", append(Families().Names(), ensemble.FamilyName)...)
	check(stepName, "feature step", features.Kinds()...)
	check(transformName, "target transform", model.TargetLog, model.TargetTrend)
	if _, ok := layoutOf(familyName, "my_family"); ok {
		t.Error("layoutOf(family \"my_family\") says tabforge ships it")
	}
}

// TestUnknownFamily renames the family of a real saved model to one no
// build ships. In a file of a layout this build reads the name is
// corrupt (it said only "unknown model family", like a family missing
// from the registry); at a later layout the file is a newer build's,
// refused as such before its names are looked at.
func TestUnknownFamily(t *testing.T) {
	_, payload := savedModel(t, "gbdt")
	renamed := raise(t, payload, `"family":"gbdt"`, `"family":"gbdx"`)
	_, p, err := model.DecodeEnvelope(renamed)
	if err != nil {
		t.Fatal(err)
	}
	newer := raise(t, p, `(?s)^.{8}\{"version":\d`, string(p[:8])+fmt.Sprintf(`{"version":%d`, predictorVersion+1))
	for _, c := range []struct {
		name          string
		data          []byte
		corrupt, newr bool
	}{
		{"layout 2", renamed, true, false},
		{"a later layout", newer, false, true},
	} {
		path := filepath.Join(t.TempDir(), "m.tfm")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadPredictor(path, nil)
		if errors.Is(err, model.ErrCorrupt) != c.corrupt || errors.Is(err, formatversion.ErrNewer) != c.newr {
			t.Errorf("%s: LoadPredictor = %v; want corrupt %v, newer %v", c.name, err, c.corrupt, c.newr)
		}
	}
	if !bytes.Contains(payload, []byte(`{"version":2,`)) {
		t.Errorf("a gbdt model's header is not written at layout 2: %.40q", payload[8:])
	}
}
