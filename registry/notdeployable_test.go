package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store/storetest"
)

// TestNotDeployableError: Promote's refusal of a version that failed its
// quality gates names the version and its name for the client to phrase
// its own way to force, still matches ErrNotDeployable, and names the
// library's option, not any client's flag.
func TestNotDeployableError(t *testing.T) {
	r := newTestRegistry(t, storetest.SQLite(t))
	v := mustRegister(t, r, model("bad", false))
	_, err := r.Promote(context.Background(), v, Production, PromoteOptions{})
	nd, ok := errors.AsType[*NotDeployableError](err)
	if !ok || nd.Version != v || nd.Name != "house" || !errors.Is(err, ErrNotDeployable) {
		t.Fatalf("Promote of a non-deployable version: %v; want a *NotDeployableError{house %s} wrapping ErrNotDeployable", err, v)
	}
	if msg := err.Error(); !strings.Contains(msg, "PromoteOptions.Force") || strings.Contains(msg, "use force") {
		t.Errorf("error %q; want it to name PromoteOptions.Force", msg)
	}
}
