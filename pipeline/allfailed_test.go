package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestEveryCandidateFailedNamesCauses trains on three rows, too few for
// any model to be cross-validated. The error listed all of the run's
// warnings first (here a constant column and a class of one row), so
// the candidates' own failures came last in a long line; it now lists
// each failed candidate with its cause and nothing else.
func TestEveryCandidateFailedNamesCauses(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "tiny.csv")
	if err := os.WriteFile(data, []byte("a,k,y\n0.5,7,yes\n-1.2,7,no\n0.3,7,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = data, "y", dir
	cfg.Models, cfg.ForceProductionQuality = []string{"logistic", "gbdt"}, false
	_, err := Train(context.Background(), cfg, Options{})
	if err == nil {
		t.Fatal("Train on 3 rows succeeded; want every candidate to fail")
	}
	msg := err.Error()
	for _, want := range []string{"every candidate model failed (logistic: ", "; gbdt: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q; want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, `column "k"`) {
		t.Errorf("error %q repeats the constant-column warning", msg)
	}
}
