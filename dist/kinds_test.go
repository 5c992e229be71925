package dist

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// echo is a Runner that returns its kind and key.
type echo struct{}

func (echo) Run(_ context.Context, key, kind string, _ json.RawMessage, _ int) ([]byte, error) {
	return []byte(kind + " " + key), nil
}

// TestKinds: each unit goes to the runner of its kind; a kind with no
// runner is an error that names it.
func TestKinds(t *testing.T) {
	k := Kinds{"fold": echo{}, "meta_dataset": echo{}}
	for _, tc := range []struct {
		kind, want, err string
	}{
		{kind: "fold", want: "fold K"},
		{kind: "meta_dataset", want: "meta_dataset K"},
		{kind: "backtest_always", err: `no "backtest_always" units`},
	} {
		b, err := k.Run(t.Context(), "K", tc.kind, nil, 1)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Run(%q) error %v; want one containing %q", tc.kind, err, tc.err)
		case tc.err == "" && (err != nil || string(b) != tc.want):
			t.Errorf("Run(%q) = %q, %v; want %q", tc.kind, b, err, tc.want)
		}
	}
}
