package formatversion

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		version int
		newer   bool
		ok      bool
		say     string
	}{
		{version: 1, ok: true},
		{version: 2, ok: true},
		{version: 3, newer: true, say: "model file format version 3, written by a newer tabforge (this build reads versions 1 to 2): upgrade tabforge"},
		{version: 0, say: "model file format version 0 is not one this build reads (versions 1 to 2)"},
	} {
		err := Check("model file", c.version, 1, 2)
		if (err == nil) != c.ok {
			t.Fatalf("Check(%d) = %v; want ok %v", c.version, err, c.ok)
		}
		if errors.Is(err, ErrNewer) != c.newer {
			t.Errorf("Check(%d) = %v; errors.Is ErrNewer %v, want %v", c.version, err, !c.newer, c.newer)
		}
		if err != nil && !strings.HasPrefix(err.Error(), c.say) {
			t.Errorf("Check(%d) = %q; want it to start %q", c.version, err, c.say)
		}
	}
}

func TestCheckTag(t *testing.T) {
	for _, c := range []struct {
		tag   string
		newer bool
	}{
		{"TFtree2\x00", false},
		{"TFtree1\x00", false},
		{"TFtree3\x00", true},
		{"TFtree12", true},
		{"TFtreeX\x00", false},
		{"TFforst1", false},
	} {
		err := CheckTag("tree", c.tag, "TFtree", 2)
		if errors.Is(err, ErrNewer) != c.newer || (err != nil && !c.newer) {
			t.Errorf("CheckTag(%q) = %v; want newer %v", c.tag, err, c.newer)
		}
	}
}
