package pipeline

import (
	"testing"

	"github.com/tabforge/tabforge/model"
)

// TestMemoRelease checks that after each candidate the run drops the
// fold preprocessing no later candidate reads: the linear design once
// ridge is done (gbdt reads another), the advanced variant's only after
// its last candidate, and everything after the last.
func TestMemoRelease(t *testing.T) {
	reg := Families()
	input := func(name string) model.Input {
		fam, err := reg.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		return fam.Input
	}
	if input("ridge") == input("gbdt") {
		t.Fatal("ridge and gbdt read the same design inputs; the test needs two")
	}
	r := &trainRun{o: Options{Families: reg}, p: &prepared{memo: &memo{}}, cands: []candidate{
		{family: "ridge", label: "ridge"}, {family: "gbdt", label: "gbdt"}, {family: "gbdt", label: "gbdt" + AdvancedSuffix},
	}}
	m := r.p.memo
	m.prep = map[string]*prepEntry{
		"ridge fold0":    {variant: "", input: input("ridge")},
		"gbdt fold0":     {variant: "", input: input("gbdt")},
		"gbdt adv fold0": {variant: AdvancedSuffix, input: input("gbdt")},
	}
	for ci, want := range [][]string{{"gbdt fold0", "gbdt adv fold0"}, {"gbdt adv fold0"}, nil} {
		m.release(r.laterNeed(ci))
		if len(m.prep) != len(want) {
			t.Errorf("after candidate %d: %d memoised preprocessings; want %v", ci, len(m.prep), want)
		}
		for _, k := range want {
			if m.prep[k] == nil {
				t.Errorf("after candidate %d: %q was dropped", ci, k)
			}
		}
	}
}
