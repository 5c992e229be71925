package bench

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// peersJSON is a small baselines.json: a regression, and a multiclass
// dataset whose best scikit-learn row has the lowest log-loss.
const peersJSON = `{"results": [
 {"name": "reg", "task": "regression", "rows": [
  {"model": "Ridge(alpha=1)", "R2": 0.80},
  {"model": "RandomForest(200)", "R2": 0.85},
  {"model": "XGBoost(500,0.05,d6)", "R2": 0.86},
  {"model": "XGBoost Optuna-TPE(30 trials)", "R2": 0.87, "tune_s": 30}]},
 {"name": "multi", "task": "multiclass", "rows": [
  {"model": "Logistic", "log_loss": 0.40, "ROC_AUC": 0.9},
  {"model": "HistGradientBoosting", "log_loss": 0.30, "ROC_AUC": 0.8},
  {"model": "XGBoost Optuna-TPE(30 trials)", "log_loss": 0.25}]}
]}`

func TestReadPeers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	if err := os.WriteFile(path, []byte(peersJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := ReadPeers(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, metric, xgb, optuna, sklearn string
	}{
		{"reg", "r2", "XGBoost(500,0.05,d6)", "XGBoost Optuna-TPE(30 trials)", "RandomForest(200)"},
		{"multi", "logloss", "", "XGBoost Optuna-TPE(30 trials)", "HistGradientBoosting"},
	} {
		p := ps[tc.name]
		name := func(r *PeerRow) string {
			if r == nil {
				return ""
			}
			return r.Model
		}
		if p.Metric != tc.metric || name(p.XGBoost) != tc.xgb || name(p.Optuna) != tc.optuna || name(p.Sklearn) != tc.sklearn {
			t.Errorf("%s: %s xgb %q optuna %q sklearn %q; want %s %q %q %q", tc.name, p.Metric,
				name(p.XGBoost), name(p.Optuna), name(p.Sklearn), tc.metric, tc.xgb, tc.optuna, tc.sklearn)
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"results":[{"name":"x","task":"binary","rows":[{"model":"m","R2":1}]}]}`), 0o644)
	if _, err := ReadPeers(bad); err == nil || !strings.Contains(err.Error(), `row "m" lacks ROC_AUC`) {
		t.Errorf("ReadPeers(binary row without ROC_AUC) error %v; want one naming the row", err)
	}
}

// TestQualityCasesHavePeers: every shared dataset of bench quality has its
// three peer rows in the bundled baselines and its files exist.
func TestQualityCasesHavePeers(t *testing.T) {
	td := filepath.Join("..", "testdata")
	ps, err := ReadPeers(filepath.Join(td, "peers", "baselines.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := QualityCases(td)
	if len(cases) != 5 {
		t.Errorf("%d quality cases; want 5", len(cases))
	}
	for _, c := range cases {
		p, ok := ps[c.Name]
		if !ok || p.XGBoost == nil || p.Optuna == nil || p.Sklearn == nil || p.Metric != HeadlineMetric(c.Task) {
			t.Errorf("%s: peers %+v; want the three rows in %s", c.Name, p, HeadlineMetric(c.Task))
		}
		for i, a := range c.Args {
			if a == "--data" || a == "--test-rows" {
				if _, err := os.Stat(c.Args[i+1]); err != nil {
					t.Errorf("%s: %v", c.Name, err)
				}
			}
		}
	}
}

func TestQualityWins(t *testing.T) {
	optuna := func(metric string, v float64) *Peers {
		return &Peers{Metric: metric, Optuna: &PeerRow{Model: "Optuna", Value: v}}
	}
	for _, tc := range []struct {
		name          string
		r             QualityResult
		win, compared bool
	}{
		{"above", QualityResult{Metric: "auc", Value: 0.90, Peers: optuna("auc", 0.89)}, true, true},
		{"equal", QualityResult{Metric: "r2", Value: 0.75, Peers: optuna("r2", 0.75)}, true, true},
		{"below", QualityResult{Metric: "r2", Value: 0.70, Peers: optuna("r2", 0.75)}, false, true},
		{"logloss lower wins", QualityResult{Metric: "logloss", Value: 0.20, Peers: optuna("logloss", 0.25)}, true, true},
		{"logloss higher loses", QualityResult{Metric: "logloss", Value: 0.30, Peers: optuna("logloss", 0.25)}, false, true},
		{"failed", QualityResult{Metric: "auc", Err: "boom", Peers: optuna("auc", 0.5)}, false, true},
		{"no peers", QualityResult{Metric: "auc", Value: 1}, false, false},
		{"no optuna row", QualityResult{Metric: "auc", Value: 1, Peers: &Peers{Metric: "auc"}}, false, false},
	} {
		win, compared := tc.r.Wins()
		if win != tc.win || compared != tc.compared {
			t.Errorf("%s: Wins() = %v, %v; want %v, %v", tc.name, win, compared, tc.win, tc.compared)
		}
	}
}

func TestPrintQuality(t *testing.T) {
	p := &Peers{Metric: "auc", XGBoost: &PeerRow{"XGBoost(500,0.05,d6)", 0.84}, Optuna: &PeerRow{"Optuna", 0.86}, Sklearn: &PeerRow{"HistGradientBoosting", 0.85}}
	var b bytes.Buffer
	err := PrintQuality(&b, []QualityResult{
		{Name: "a", Metric: "auc", Best: "gbdt", Value: 0.87, Seconds: 2, Peers: p},
		{Name: "b", Metric: "auc", Best: "ridge", Value: 0.80, Seconds: 3, Peers: p},
		{Name: "c", Metric: "auc", Err: "exit status 1: bad data", Seconds: 1, Peers: p},
		{Name: "mine", Metric: "r2", Best: "forest", Value: 0.5, Seconds: 4},
	})
	// The table is printed, and the failed run makes the bench fail: a
	// script must not take a table with a gap for a result.
	var rf *RunsFailedError
	if !errors.As(err, &rf) || rf.Failed != 1 || rf.Total != 4 {
		t.Fatalf("PrintQuality = %v; want a RunsFailedError of 1 of 4", err)
	}
	out := b.String()
	for _, want := range []string{"Optuna-TPE XGBoost", "HistGradientBoosting", "0.8700", "failed: exit status 1: bad data",
		"on 1 of 3 datasets with a peer row; 1 of 4 runs failed; 10.0 s in all"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestReadPeersFiles: the shared baselines and bench/peer_corpus.py's
// peers.json of the meta-corpus sample read together; every sampled
// dataset has its default and Optuna-TPE XGBoost rows in its task's metric
// beside the shared datasets, and a dataset in two files is refused.
func TestReadPeersFiles(t *testing.T) {
	shared := filepath.Join("..", "testdata", "peers", "baselines.json")
	corpus := filepath.Join("testdata", "peer_corpus_peers.json")
	ps, err := ReadPeers(shared, corpus)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := ReadManifest(filepath.Join("testdata", "peer_corpus_sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sample) < 17 {
		t.Errorf("%d sampled datasets; want at least 17", len(sample))
	}
	names := []string{"ames", "credit_data"}
	tasks := map[string]string{"ames": "regression", "credit_data": "binary"}
	for _, d := range sample {
		if d.Name == "mlbench_letterrecognition" {
			continue // cut from the recorded run, see peer_corpus.py
		}
		names = append(names, d.Name)
		tasks[d.Name] = d.Task
	}
	for _, name := range names {
		p, ok := ps[name]
		if !ok || p.XGBoost == nil || p.Optuna == nil || p.Metric != HeadlineMetric(tasks[name]) {
			t.Errorf("%s: peers %+v, %v; want default and Optuna rows in %s", name, p, ok, HeadlineMetric(tasks[name]))
		}
	}
	if _, err := ReadPeers(shared, corpus, shared); err == nil || !strings.Contains(err.Error(), "ames is in both") {
		t.Errorf("ReadPeers(a file twice) error %v; want one naming the dataset in both", err)
	}
}

// TestPrintQualityAllRan: with every run done, PrintQuality returns nil.
func TestPrintQualityAllRan(t *testing.T) {
	rs := []QualityResult{{Name: "mine", Metric: "r2", Best: "forest", Value: 0.5, Seconds: 4}}
	if err := PrintQuality(io.Discard, rs); err != nil {
		t.Errorf("PrintQuality = %v; want nil", err)
	}
	if err := QualityFailed(rs); err != nil {
		t.Errorf("QualityFailed = %v; want nil", err)
	}
}

// TestPrintQualitySeeds: runs at several seeds get a seed column and a
// table over seeds, and the total line counts each dataset's median, not
// its runs. A dataset with a failed run does not win on its median.
func TestPrintQualitySeeds(t *testing.T) {
	p := &Peers{Metric: "r2", Optuna: &PeerRow{"Optuna", 0.86}}
	seed := func(s int) *int { return &s }
	var b bytes.Buffer
	err := PrintQuality(&b, []QualityResult{
		{Name: "a", Metric: "r2", Best: "gbdt", Value: 0.85, Seed: seed(1), Peers: p},
		{Name: "a", Metric: "r2", Best: "forest", Value: 0.88, Seed: seed(2), Peers: p},
		{Name: "a", Metric: "r2", Best: "gbdt", Value: 0.87, Seed: seed(3), Peers: p},
		{Name: "b", Metric: "r2", Best: "gbdt", Value: 0.90, Seed: seed(1), Peers: p},
		{Name: "b", Metric: "r2", Err: "exit status 1", Seed: seed(2), Peers: p},
	})
	var rf *RunsFailedError
	if !errors.As(err, &rf) || rf.Failed != 1 || rf.Total != 5 {
		t.Fatalf("PrintQuality = %v; want a RunsFailedError of 1 of 5", err)
	}
	out := b.String()
	_, summary, ok := strings.Cut(out, "over seeds:")
	if !ok {
		t.Fatalf("no table over seeds:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(summary, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	// dataset metric runs median lowest highest optuna "k of n" verdict
	want := map[string][]string{
		"a": {"a", "r2", "3", "0.8700", "0.8500", "0.8800", "0.8600", "2", "of", "3", "yes"},
		"b": {"b", "r2", "2", "0.9000", "0.9000", "0.9000", "0.8600", "1", "of", "2", "no"},
	}
	for name, w := range want {
		if !slices.Equal(rows[name], w) {
			t.Errorf("row %s = %q; want %q\n%s", name, rows[name], w, out)
		}
	}
	if !strings.Contains(out, "on 1 of 2 datasets (median over seeds) with a peer row; 1 of 5 runs failed") {
		t.Errorf("total line does not count medians:\n%s", out)
	}
	head, _, _ := strings.Cut(out, "\n")
	if f := strings.Fields(head); len(f) < 2 || f[1] != "seed" {
		t.Errorf("header %q; want a seed column after dataset", head)
	}
}
