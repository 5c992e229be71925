package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestMissingValues: an empty missing_values list (only empty fields are
// missing) loads as a list, not as nil (the default), and hashes apart
// from the default, while the default hashes as a config without the key
// did, so cache keys from before it stay valid.
func TestMissingValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("missing_values: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty, _, err := Load(Sources{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if empty.MissingValues == nil || len(empty.MissingValues) != 0 {
		t.Fatalf("missing_values: [] loads as %#v; want an empty list", empty.MissingValues)
	}
	set := Default()
	if err := set.Set("missing_values", "NA,?"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"NA", "?"}; !slices.Equal(set.MissingValues, want) {
		t.Errorf("--set missing_values=NA,? gives %q; want %q", set.MissingValues, want)
	}
	unset := Default()
	unset.MissingValues = nil
	def := Default()
	if def.Hash() != unset.Hash() {
		t.Error("the default missing_values hash apart from a config without them")
	}
	if empty.Hash() == def.Hash() || set.Hash() == def.Hash() || empty.Hash() == set.Hash() {
		t.Error("configs reading different texts as missing hash equal")
	}
	c := def.Clone()
	c.MissingValues[0] = "changed"
	if def.MissingValues[0] != "NA" {
		t.Error("Clone shares missing_values with the original")
	}
}
