package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tabforge/tabforge/eval"
)

// QualityCase is one dataset of bench quality: its name (the result's name
// in baselines.json when the peers ran it), task and the train flags that
// load it and reproduce the peers' split.
type QualityCase struct {
	Name string
	Task string // regression, binary or multiclass
	Args []string
}

// QualityCases are the five shared datasets of issue 14: the four of
// ResearchCases and txhousing without volume, on the peers' test rows.
// testdata is the directory holding the CSV files and splits/.
func QualityCases(testdata string) []QualityCase {
	var out []QualityCase
	for _, c := range ResearchCases(testdata) {
		task := "binary"
		if c.Metric == "r2" {
			task = "regression"
		}
		out = append(out, QualityCase{Name: c.Name, Task: task, Args: c.Args})
	}
	td := func(p string) string { return filepath.Join(testdata, p) }
	return append(out, QualityCase{Name: "txhousing_novolume", Task: "regression", Args: []string{
		"--data", td("txhousing.csv"), "--target", "median", "--drop", "volume", "--time-column", "date",
		"--segment-column", "city", "--test-rows", td("splits/txhousing_novolume.test_rows.txt")}})
}

// ManifestCases turns manifest datasets into quality cases.
func ManifestCases(ds []Dataset) []QualityCase {
	out := make([]QualityCase, len(ds))
	for i, d := range ds {
		out[i] = QualityCase{Name: d.Name, Task: d.Task, Args: d.TrainArgs()}
	}
	return out
}

// HeadlineMetric is the test metric the quality and corpus benches
// compare for a task: r2 for regression, auc for binary and logloss for
// multiclass (tabforge's --json keys). An empty or unknown task gives "".
func HeadlineMetric(task string) string {
	switch task {
	case "regression":
		return eval.KeyR2
	case "binary":
		return eval.KeyAUC
	case "multiclass":
		return eval.KeyLogLoss
	}
	return ""
}

// peerKey is baselines.json's name of a tabforge metric key.
var peerKey = map[string]string{eval.KeyR2: "R2", eval.KeyAUC: "ROC_AUC", eval.KeyLogLoss: "log_loss"}

// PeerRow is one peer model's test metric in baselines.json.
type PeerRow struct {
	Model string  `json:"model"`
	Value float64 `json:"value"`
}

// Peers are the rows a quality table shows beside tabforge for a dataset.
type Peers struct {
	Metric  string   `json:"metric"`            // tabforge's key: r2, auc or logloss
	XGBoost *PeerRow `json:"xgboost,omitempty"` // XGBoost with fixed defaults (500 rounds, 0.05, depth 6)
	Optuna  *PeerRow `json:"optuna,omitempty"`  // XGBoost tuned by Optuna TPE
	Sklearn *PeerRow `json:"sklearn,omitempty"` // the best of the other (scikit-learn) rows
}

// ReadPeers reads files in the shape of baselines.json (the shared
// baselines, or bench/peer_corpus.py's peers.json for manifest datasets)
// and returns each dataset's default XGBoost row, Optuna-TPE XGBoost row
// and best scikit-learn row in the metric of its task. A dataset named in
// two files is an error: which of the two a table shows would depend on
// the order of the flags.
func ReadPeers(paths ...string) (map[string]Peers, error) {
	out := map[string]Peers{}
	from := map[string]string{}
	for _, path := range paths {
		ps, err := readPeers(path)
		if err != nil {
			return nil, err
		}
		for _, name := range slices.Sorted(maps.Keys(ps)) { // sorted: the same error every time
			if prev, ok := from[name]; ok {
				return nil, fmt.Errorf("peers: %s is in both %s and %s", name, prev, path)
			}
			out[name], from[name] = ps[name], path
		}
	}
	return out, nil
}

// readPeers reads the rows of one baselines.json-shaped file.
func readPeers(path string) (map[string]Peers, error) {
	results, err := readBaselines(path)
	if err != nil {
		return nil, err
	}
	out := map[string]Peers{}
	for _, r := range results {
		metric := HeadlineMetric(r.Task)
		if metric == "" {
			return nil, fmt.Errorf("%s: %s: task %q", path, r.Name, r.Task)
		}
		p := Peers{Metric: metric}
		for _, row := range r.Rows {
			name, _ := row["model"].(string)
			v, ok := row[peerKey[metric]].(float64)
			if !ok {
				return nil, fmt.Errorf("%s: %s: row %q lacks %s", path, r.Name, name, peerKey[metric])
			}
			pr := &PeerRow{Model: name, Value: v}
			switch {
			case strings.Contains(name, "Optuna"):
				p.Optuna = pr
			case strings.HasPrefix(name, "XGBoost"):
				p.XGBoost = pr
			case p.Sklearn == nil || better(metric, v, p.Sklearn.Value):
				p.Sklearn = pr
			}
		}
		out[r.Name] = p
	}
	return out, nil
}

// better reports whether a is strictly better than b in metric.
func better(metric string, a, b float64) bool {
	if eval.Higher(metric) {
		return a > b
	}
	return a < b
}

// QualityResult is tabforge's run on one dataset, with the peers' rows.
type QualityResult struct {
	Name    string  `json:"name"`
	Metric  string  `json:"metric"`
	Best    string  `json:"best"`
	Value   float64 `json:"value"`
	CV      string  `json:"cv,omitempty"`
	Seconds float64 `json:"seconds"`
	Seed    *int    `json:"seed,omitempty"` // the --seed given, nil for train's default
	Peers   *Peers  `json:"peers,omitempty"`
	Err     string  `json:"error,omitempty"`
}

// Wins reports whether tabforge reaches the Optuna-TPE XGBoost row (at
// least as good), and whether there is such a row to compare with. A
// failed run compares and does not win.
func (r QualityResult) Wins() (win, compared bool) {
	if r.Peers == nil || r.Peers.Optuna == nil {
		return false, false
	}
	if r.Err != "" {
		return false, true
	}
	return !better(r.Metric, r.Peers.Optuna.Value, r.Value), true
}

// Quality runs `self train --profile production` with the quality gates
// off on each case, a fresh process and store each, with extra flags
// appended, and returns tabforge's pick and its test metric beside the
// peers' rows of the same dataset (nil for a dataset they did not run).
// With seeds, each case runs once per seed (`--seed`), in case order; with
// none, once with train's default seed. A failed run is a result with Err
// set, not an error.
func Quality(ctx context.Context, self string, cases []QualityCase, seeds []int, peers map[string]Peers, extra []string, log io.Writer) ([]QualityResult, error) {
	dir, err := os.MkdirTemp("", "tabforge-quality-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	runs := []*int{nil}
	if len(seeds) > 0 {
		runs = make([]*int, len(seeds))
		for i := range seeds {
			runs[i] = &seeds[i]
		}
	}
	var out []QualityResult
	for i, c := range cases {
		for j, seed := range runs {
			r := qualityRun(ctx, self, filepath.Join(dir, fmt.Sprint(i, "-", j)), c, seed, peers, extra, log)
			out = append(out, r)
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
		}
	}
	return out, nil
}

// qualityRun trains one case at one seed (nil: train's default) in dir.
func qualityRun(ctx context.Context, self, dir string, c QualityCase, seed *int, peers map[string]Peers, extra []string, log io.Writer) QualityResult {
	args := append([]string{"--profile", "production", "--set", "force_production_quality=false"}, c.Args...)
	if seed != nil {
		args = append(args, "--seed", fmt.Sprint(*seed))
	}
	args = append(args, extra...)
	fmt.Fprintf(log, "quality %s: tabforge train %s\n", c.Name, strings.Join(args, " "))
	res, run := trainProcess(ctx, self, dir, args)
	r := QualityResult{Name: c.Name, Metric: HeadlineMetric(c.Task), Seconds: run.seconds, Seed: seed, Err: run.err}
	if p, ok := peers[c.Name]; ok {
		r.Peers = &p
		r.Metric = p.Metric
	}
	if res != nil {
		if r.Metric == "" {
			r.Metric = HeadlineMetric(res.Task)
		}
		r.Best, r.CV = res.Best, res.CV
		v, ok := res.best()[r.Metric]
		if !ok {
			r.Err = fmt.Sprintf("no test %s in the result", r.Metric)
		}
		r.Value = v
	}
	return r
}

// PrintQuality writes the quality table: per run tabforge's pick, its test
// metric and time, the peers' rows, whether tabforge reaches the Optuna-TPE
// XGBoost, and a total line; runs at several seeds add a column for the
// seed and a table over seeds (see printSeedSummary), whose medians the
// total line then counts. It returns a *RunsFailedError if any run failed.
func PrintQuality(w io.Writer, rs []QualityResult) error {
	seeded := slices.ContainsFunc(rs, func(r QualityResult) bool { return r.Seed != nil })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	seedHead := ""
	if seeded {
		seedHead = "seed\t"
	}
	fmt.Fprintln(tw, "dataset\t"+seedHead+"metric\ttabforge pick\ttabforge\tseconds\tXGBoost default\tOptuna-TPE XGBoost\tbest sklearn\t\twins\t")
	total := 0.0
	for _, r := range rs {
		total += r.Seconds
		lead := r.Name + "\t"
		if seeded {
			lead += seedText(r.Seed) + "\t"
		}
		var x, o, s *PeerRow
		if r.Peers != nil {
			x, o, s = r.Peers.XGBoost, r.Peers.Optuna, r.Peers.Sklearn
		}
		sName := ""
		if s != nil {
			sName = s.Model
		}
		pick, value := r.Best, fmt.Sprintf("%.4f", r.Value)
		if r.Err != "" {
			pick, value = "failed: "+r.Err, "-"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", lead, r.Metric, pick, value, r.Seconds,
			peerText(x), peerText(o), peerText(s), sName, verdict(r.Wins()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	failed := countFailed(rs)
	sums := summarizeSeeds(rs)
	unit := "datasets"
	if len(sums) < len(rs) {
		if err := printSeedSummary(w, sums); err != nil {
			return err
		}
		unit = "datasets (median over seeds)"
	}
	wins, compared := 0, 0
	for _, s := range sums {
		win, ok := s.wins()
		compared += btoi(ok)
		wins += btoi(win)
	}
	if _, err := fmt.Fprintf(w, "\ntotal: tabforge at least as good as Optuna-TPE XGBoost on %d of %d %s with a peer row; %d of %d runs failed; %.1f s in all (logloss: lower is better)\n",
		wins, compared, unit, failed, len(rs), total); err != nil {
		return err
	}
	return qualityFailed(failed, len(rs))
}

func peerText(p *PeerRow) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", p.Value)
}

func seedText(seed *int) string {
	if seed == nil {
		return "default"
	}
	return fmt.Sprint(*seed)
}

// verdict is the wins column: yes, no, or - where there is no peer row.
func verdict(win, compared bool) string {
	switch {
	case !compared:
		return "-"
	case win:
		return "yes"
	}
	return "no"
}

// QualityFailed returns a *RunsFailedError if any of rs failed.
func QualityFailed(rs []QualityResult) error {
	return qualityFailed(countFailed(rs), len(rs))
}

func countFailed(rs []QualityResult) int {
	n := 0
	for _, r := range rs {
		n += btoi(r.Err != "")
	}
	return n
}

func qualityFailed(failed, total int) error {
	if failed > 0 {
		return &RunsFailedError{Failed: failed, Total: total}
	}
	return nil
}
