package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRunSHAP runs a small TreeSHAP-versus-XGBoost measurement on ames:
// both sides must produce the same contributions (to XGBoost's float32
// precision on prices in dollars) and positive rates.
func TestRunSHAP(t *testing.T) {
	if testing.Short() {
		t.Skip("peer benchmark: skipped in -short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import xgboost").Run(); err != nil {
		t.Skipf("peer benchmark: /usr/bin/python3 with xgboost is not available (%v)", err)
	}
	res, err := RunSHAP(context.Background(), SHAPOptions{Data: filepath.Join("..", "testdata", "ames.csv"),
		Target: "Sale_Price", Rows: 500, Trees: 8, Depth: 4, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 500 || res.Features < 50 || !(res.TabforgeRowsPerSec > 0) || !(res.XGBoostRowsPerSec > 0) {
		t.Fatalf("RunSHAP = %+v", res)
	}
	// Sale_Price is ~2e5: float32 sums carry absolute errors of ~0.02.
	if !(res.MaxAbsDiff < 1e-3) {
		t.Fatalf("TreeSHAP and XGBoost differ by %.3g (relative to max(1, |value|))", res.MaxAbsDiff)
	}
}

func TestRunSHAPBadInput(t *testing.T) {
	if _, err := RunSHAP(context.Background(), SHAPOptions{Data: filepath.Join("..", "testdata", "ames.csv"), Target: "Neighborhood"}); err == nil {
		t.Error("a categorical target: no error")
	}
	if _, err := RunSHAP(context.Background(), SHAPOptions{Data: "does-not-exist.csv", Target: "y"}); err == nil {
		t.Error("a missing file: no error")
	}
}
