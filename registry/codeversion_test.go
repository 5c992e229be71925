package registry

import (
	"strings"
	"testing"
)

func TestCodeVersion(t *testing.T) {
	a, err := CodeVersion("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	b, err := CodeVersion("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	// Either "1.2.3+<12-hex revision>" or "1.2.3+exe.<12-hex hash>".
	rest, ok := strings.CutPrefix(a, "1.2.3+")
	rest = strings.TrimPrefix(rest, "exe.")
	if !ok || len(rest) != 12 || strings.Trim(rest, "0123456789abcdef") != "" {
		t.Errorf("CodeVersion = %q", a)
	}
	if a != b {
		t.Errorf("CodeVersion is not stable: %q then %q", a, b)
	}
	if c, _ := CodeVersion("2.0.0"); c == a {
		t.Errorf("the release is not part of the code version: %q", c)
	}
}
