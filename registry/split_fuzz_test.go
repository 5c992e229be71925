package registry

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzParseSplit feeds --split texts to ParseSplit: no panic; shares it
// accepts have trimmed, distinct targets (as routeTarget reads them: "@a"
// is "a") and weights in range with a positive sum; and writing them back
// as TARGET=WEIGHT,... parses to the same shares.
func FuzzParseSplit(f *testing.F) {
	for _, s := range []string{"a=90,b=10", " production=1 ", "a=0,b=0", "a=1.5", "a=1,a=2", "a", "=3",
		"a=1000000,b=1", "a =5,a=3", "a=5,@a=5", "a=+5", "a=05", "a= 5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		shares, err := ParseSplit(s)
		if err != nil {
			return
		}
		var seen []string
		total := 0
		parts := make([]string, len(shares))
		for i, sh := range shares {
			key := strings.TrimPrefix(sh.Target, "@")
			if sh.Target == "" || sh.Target != strings.TrimSpace(sh.Target) || slices.Contains(seen, key) {
				t.Fatalf("ParseSplit(%q) = %v: target %q is empty, untrimmed or repeated", s, shares, sh.Target)
			}
			if sh.Weight < 0 || sh.Weight > MaxWeight {
				t.Fatalf("ParseSplit(%q) = %v: weight out of range", s, shares)
			}
			seen = append(seen, key)
			total += sh.Weight
			parts[i] = fmt.Sprintf("%s=%d", sh.Target, sh.Weight)
		}
		if total <= 0 {
			t.Fatalf("ParseSplit(%q) = %v: weights sum to %d", s, shares, total)
		}
		back, err := ParseSplit(strings.Join(parts, ","))
		if err != nil || !slices.Equal(back, shares) {
			t.Fatalf("ParseSplit(%q) = %v; written back it parses to %v, %v", s, shares, back, err)
		}
	})
}
