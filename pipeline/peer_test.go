package pipeline

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// peerResults reads the scikit-learn 1.2.1 / XGBoost 1.7.4 scores that
// ../shared/anchors/baselines.py recorded on the exact test rows in
// testdata/splits (copied to testdata/peers/baselines.json).
func peerResults(t *testing.T) map[string]map[string]map[string]float64 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "peers", "baselines.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Name string           `json:"name"`
			Rows []map[string]any `json:"rows"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]map[string]float64{}
	for _, r := range doc.Results {
		out[r.Name] = map[string]map[string]float64{}
		for _, row := range r.Rows {
			m := map[string]float64{}
			for k, v := range row {
				if f, ok := v.(float64); ok {
					m[k] = f
				}
			}
			out[r.Name][row["model"].(string)] = m
		}
	}
	return out
}

// TestLinearMatchesPeers runs the whole pipeline (reader, preprocessing,
// learner, metrics) on the peers' exact splits and compares the linear
// models with scikit-learn's recorded scores: the same protocol must give
// the same numbers. OLS on ames is the exception: scikit-learn's
// lstsq breaks down on the rank-deficient one-hot design (R² -1.35e19),
// ours must stay sane.
func TestLinearMatchesPeers(t *testing.T) {
	peers := peerResults(t)
	td := func(name string) string { return filepath.Join("..", "testdata", name) }
	cases := []struct {
		peerSet, file, target string
		drop                  []string
		family, peerModel     string
		ours, theirs          string
	}{
		{"ames", "ames.csv", "Sale_Price", nil, "ridge", "Ridge(alpha=1)", "r2", "R2"},
		{"txhousing", "txhousing.csv", "median", []string{"date"}, "ridge", "Ridge(alpha=1)", "r2", "R2"},
		{"txhousing", "txhousing.csv", "median", []string{"date"}, "ols", "LinearRegression", "r2", "R2"},
		{"txhousing_novolume", "txhousing.csv", "median", []string{"date", "volume"}, "ridge", "Ridge(alpha=1)", "r2", "R2"},
		{"credit_data", "credit_data.csv", "Status", nil, "logistic", "Logistic L2 'ridge'(C=1)", "auc", "ROC_AUC"},
		{"mlc_churn", "mlc_churn.csv", "churn", nil, "logistic", "Logistic L2 'ridge'(C=1)", "auc", "ROC_AUC"},
	}
	for _, tc := range cases {
		t.Run(tc.peerSet+"/"+tc.family, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target, cfg.Drop = td(tc.file), tc.target, tc.drop
			cfg.TestRows = td("splits/" + tc.peerSet + ".test_rows.txt")
			cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = []string{tc.family}, 0, false
			cfg.Out = t.TempDir()
			res, err := Train(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Leaderboard[0].Test[tc.ours]
			want, ok := peers[tc.peerSet][tc.peerModel][tc.theirs]
			if !ok {
				t.Fatalf("no peer figure for %s %s", tc.peerSet, tc.peerModel)
			}
			if math.Abs(got-want) > 0.005 {
				t.Errorf("%s test %s = %.4f; scikit-learn %.4f (tolerance 0.005)", tc.family, tc.ours, got, want)
			}
			t.Logf("%s %s: tabforge %.4f, scikit-learn %.4f", tc.peerSet, tc.family, got, want)
		})
	}
	t.Run("ames/ols is sane where the peer's is not", func(t *testing.T) {
		cfg := config.Default()
		cfg.Data, cfg.Target = td("ames.csv"), "Sale_Price"
		cfg.TestRows = td("splits/ames.test_rows.txt")
		cfg.Models, cfg.CVFolds, cfg.Out = []string{"ols"}, 0, t.TempDir()
		res, err := Train(context.Background(), cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r2 := res.Leaderboard[0].Test["r2"]; r2 < 0.8 {
			t.Errorf("OLS on ames: test R² %.4f; want > 0.8 (scikit-learn: %.3g)", r2, peers["ames"]["LinearRegression"]["R2"])
		}
	})
}
