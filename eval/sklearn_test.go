package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

// sklearnScript computes with scikit-learn the metrics TestAgainstSklearn
// computes in Go, on the inputs it writes to a JSON file.
const sklearnScript = `
import json, sys
import numpy as np
from sklearn import metrics as M
d = json.load(open(sys.argv[1]))
out = {}
y, p, w = np.array(d["ry"]), np.array(d["rp"]), np.array(d["w"])
out["r2"] = M.r2_score(y, p); out["r2_w"] = M.r2_score(y, p, sample_weight=w)
out["rmse"] = M.mean_squared_error(y, p) ** 0.5
out["rmse_w"] = M.mean_squared_error(y, p, sample_weight=w) ** 0.5
out["mae"] = M.mean_absolute_error(y, p); out["mae_w"] = M.mean_absolute_error(y, p, sample_weight=w)
out["mape"] = M.mean_absolute_percentage_error(y, p)
out["mape_w"] = M.mean_absolute_percentage_error(y, p, sample_weight=w)
out["within20"] = 100.0 * float(np.mean(np.abs(p - y) <= 0.2 * np.abs(y)))
by, bp = np.array(d["by"]), np.array(d["bp"])
bl = np.argmax(np.stack([1 - bp, bp], axis=1), axis=1)
out["accuracy"] = M.accuracy_score(by, bl)
out["auc"] = M.roc_auc_score(by, bp); out["auc_w"] = M.roc_auc_score(by, bp, sample_weight=w)
out["logloss"] = M.log_loss(by, bp); out["logloss_w"] = M.log_loss(by, bp, sample_weight=w)
out["f1"] = M.f1_score(by, bl); out["precision"] = M.precision_score(by, bl)
out["recall"] = M.recall_score(by, bl)
out["f1_w"] = M.f1_score(by, bl, sample_weight=w)
my, mp = np.array(d["my"]), np.array(d["mp"]).reshape(len(d["my"]), d["k"])
ml = np.argmax(mp, axis=1)
out["m_accuracy"] = M.accuracy_score(my, ml)
out["m_auc"] = M.roc_auc_score(my, mp, multi_class="ovr", average="macro")
out["m_logloss"] = M.log_loss(my, mp)
out["m_f1"] = M.f1_score(my, ml, average="macro")
out["m_precision"] = M.precision_score(my, ml, average="macro")
out["m_recall"] = M.recall_score(my, ml, average="macro")
print(json.dumps(out))
`

// sklearnPython is Debian's interpreter, which has scikit-learn 1.2.1 (the
// version of the peer baselines).
const sklearnPython = "/usr/bin/python3"

// TestAgainstSklearn checks every metric against scikit-learn on random
// data with ties (scores rounded to 2 decimals), weights, zero targets
// avoided for MAPE, and 4 classes. It is skipped, with a reason, when
// /usr/bin/python3 with scikit-learn is not installed.
func TestAgainstSklearn(t *testing.T) {
	if err := exec.Command(sklearnPython, "-c", "import sklearn").Run(); err != nil {
		t.Skipf("skipping: %s with scikit-learn not available: %v", sklearnPython, err)
	}
	const n, k = 500, 4
	rng := rand.New(rand.NewPCG(2024, 1))
	d := map[string]any{"k": k}
	ry, rp, w := make([]float64, n), make([]float64, n), make([]float64, n)
	by, bp := make([]float64, n), make([]float64, n)
	my, mp := make([]float64, n), make([]float64, n*k)
	for i := range n {
		ry[i] = 100 + 50*rng.NormFloat64()
		rp[i] = ry[i] + 20*rng.NormFloat64()
		w[i] = rng.Float64() * 3
		by[i] = float64(rng.IntN(2))
		bp[i] = math.Round(100*(0.35*by[i]+0.65*rng.Float64())) / 100 // ties
		my[i] = float64(rng.IntN(k))
		var sum float64
		for c := range k {
			v := rng.Float64()
			if c == int(my[i]) {
				v += 0.5
			}
			mp[i*k+c] = v
			sum += v
		}
		for c := range k {
			mp[i*k+c] /= sum
		}
	}
	d["ry"], d["rp"], d["w"], d["by"], d["bp"], d["my"], d["mp"] = ry, rp, w, by, bp, my, mp
	path := filepath.Join(t.TempDir(), "in.json")
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	outRaw, err := exec.Command(sklearnPython, "-c", sklearnScript, path).Output()
	if err != nil {
		t.Fatalf("scikit-learn script: %v", err)
	}
	var want map[string]float64
	if err := json.Unmarshal(outRaw, &want); err != nil {
		t.Fatalf("scikit-learn output %q: %v", outRaw, err)
	}

	got := map[string]float64{}
	reg, err := Regression(ry, rp)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{KeyR2, KeyRMSE, KeyMAE, KeyMAPE, KeyWithin20} {
		got[key] = reg[key]
	}
	must := func(v float64, err error) float64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	got["r2_w"] = must(R2(ry, rp, w))
	got["rmse_w"] = must(RMSE(ry, rp, w))
	got["mae_w"] = must(MAE(ry, rp, w))
	got["mape_w"] = must(MAPE(ry, rp, w))

	bin, err := Classification(by, bp, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{KeyAccuracy, KeyAUC, KeyLogLoss, KeyF1, KeyPrecision, KeyRecall} {
		got[key] = bin[key]
	}
	byInt, _ := classIndices(by, 2)
	bl, _ := PredictLabels(bp, 2)
	got["auc_w"] = must(ROCAUC(byInt, bp, 2, w))
	got["logloss_w"] = must(LogLoss(byInt, bp, 2, w))
	got["f1_w"] = must(F1(byInt, bl, 2, w))

	multi, err := Classification(my, mp, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{KeyAccuracy, KeyAUC, KeyLogLoss, KeyF1, KeyPrecision, KeyRecall} {
		got["m_"+key] = multi[key]
	}

	if len(want) != len(got) {
		t.Fatalf("compared %d metrics, scikit-learn computed %d", len(got), len(want))
	}
	for key, wv := range want {
		gv, ok := got[key]
		if !ok {
			t.Errorf("%s: not computed in Go", key)
			continue
		}
		// Summation order differs from numpy's pairwise sums: allow 1e-10 relative.
		if !scalar.EqualWithinAbsOrRel(gv, wv, 1e-12, 1e-10) {
			t.Errorf("%s = %.15g; scikit-learn %.15g", key, gv, wv)
		}
	}
}
