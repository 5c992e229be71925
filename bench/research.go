package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tabforge/tabforge/eval"
)

// ResearchCase is one dataset of the research-profile benchmark: the
// train flags that reproduce the peer's setup, and the name of the peer
// result in baselines.json.
type ResearchCase struct {
	Name string   // the result's name in baselines.json
	Args []string // train flags (paths relative to the testdata directory are resolved by ResearchCases)
	// Metric is the test metric compared: r2 or auc (tabforge's key).
	Metric string
}

// ResearchCases are the four shared datasets with the setup of the
// XGBoost Optuna-TPE rows of ../shared/anchors/baselines.md: the same test
// rows (testdata/splits), the same target coding and, for txhousing, the
// year and month columns in place of the date (which the peer dropped).
// testdata is the directory holding the CSV files and splits/.
func ResearchCases(testdata string) []ResearchCase {
	td := func(p string) string { return filepath.Join(testdata, p) }
	return []ResearchCase{
		{Name: "ames", Metric: "r2", Args: []string{"--data", td("ames.csv"), "--target", "Sale_Price",
			"--time-column", "Year_Sold,Mo_Sold", "--segment-column", "Neighborhood", "--test-rows", td("splits/ames.test_rows.txt")}},
		{Name: "txhousing", Metric: "r2", Args: []string{"--data", td("txhousing.csv"), "--target", "median", "--drop", "date",
			"--time-column", "year,month", "--segment-column", "city", "--test-rows", td("splits/txhousing.test_rows.txt")}},
		{Name: "credit_data", Metric: "auc", Args: []string{"--data", td("credit_data.csv"), "--target", "Status",
			"--positive-class", "bad", "--segment-column", "Home", "--test-rows", td("splits/credit_data.test_rows.txt")}},
		{Name: "mlc_churn", Metric: "auc", Args: []string{"--data", td("mlc_churn.csv"), "--target", "churn",
			"--positive-class", "yes", "--segment-column", "state", "--test-rows", td("splits/mlc_churn.test_rows.txt")}},
	}
}

// PeerTuned is a peer's XGBoost Optuna-TPE row: its test metric and the
// wall-clock seconds its search took.
type PeerTuned struct {
	Model  string
	Value  float64
	TuneS  float64
	Trials int
	// Measured is set when the row was re-run on this machine just before
	// tabforge (Research with a peer command), not read from baselines.json.
	Measured bool
	// RecordedTuneS is baselines.json's tune_s of a measured row.
	RecordedTuneS float64 `json:",omitempty"`
}

//go:embed optuna_row.py
var optunaRowScript []byte

// PeerNow re-measures the peers' Optuna-TPE rows on this machine: the
// baselines script's own tuning, refit and metrics, run by Python
// (Debian's /usr/bin/python3, with python3-xgboost and python3-optuna)
// from Baselines, the path of shared/anchors/baselines.py.
type PeerNow struct {
	Python    string
	Baselines string
}

// writeScript writes the peer script into dir, once per benchmark.
func (p PeerNow) writeScript(dir string) error {
	return os.WriteFile(filepath.Join(dir, "optuna_row.py"), optunaRowScript, 0o644)
}

// run measures one dataset's row. The TPE sampler is seeded, so the test
// metric repeats the recorded one; tune_s is this machine's, now.
// The peer script is dir/optuna_row.py (see writeScript).
func (p PeerNow) run(ctx context.Context, dir, name string, recorded PeerTuned) (PeerTuned, error) {
	script := filepath.Join(dir, "optuna_row.py")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, p.Python, script, p.Baselines, name)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=2", "OPENBLAS_NUM_THREADS=2")
	if err := cmd.Run(); err != nil {
		return PeerTuned{}, fmt.Errorf("peer %s: %s %s: %w: %s", name, p.Python, script, err, lastLine(stderr.String()))
	}
	var got struct {
		Value float64 `json:"value"`
		TuneS float64 `json:"tune_s"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &got); err != nil {
		return PeerTuned{}, fmt.Errorf("peer %s: output %q: %w", name, lastLine(stdout.String()), err)
	}
	if !(got.TuneS > 0) {
		return PeerTuned{}, fmt.Errorf("peer %s: tune_s %v", name, got.TuneS)
	}
	return PeerTuned{Model: recorded.Model, Value: got.Value, TuneS: got.TuneS, Trials: recorded.Trials,
		Measured: true, RecordedTuneS: recorded.TuneS}, nil
}

// baselineResult is one dataset's entry in baselines.json.
type baselineResult struct {
	Name   string           `json:"name"`
	Task   string           `json:"task"`
	Trials int              `json:"optuna_trials"`
	Rows   []map[string]any `json:"rows"`
}

// readBaselines reads the per-dataset results of the peers' baselines.json.
func readBaselines(path string) ([]baselineResult, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Results []baselineResult `json:"results"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Results, nil
}

// ReadPeerTuned reads the Optuna-TPE row of each dataset from
// baselines.json (testdata/peers/baselines.json, a copy of the anchors).
func ReadPeerTuned(path string) (map[string]PeerTuned, error) {
	results, err := readBaselines(path)
	if err != nil {
		return nil, err
	}
	out := map[string]PeerTuned{}
	for _, r := range results {
		key := "ROC_AUC"
		if r.Task == "regression" {
			key = "R2"
		}
		for _, row := range r.Rows {
			name, _ := row["model"].(string)
			if !strings.Contains(name, "Optuna") {
				continue
			}
			v, vok := row[key].(float64)
			t, tok := row["tune_s"].(float64)
			if !vok || !tok {
				return nil, fmt.Errorf("%s: %s: row %q lacks %s or tune_s", path, r.Name, name, key)
			}
			out[r.Name] = PeerTuned{Model: name, Value: v, TuneS: t, Trials: r.Trials}
		}
	}
	return out, nil
}

// ResearchResult is one dataset's comparison.
type ResearchResult struct {
	Name       string    `json:"name"`
	Metric     string    `json:"metric"`
	Peer       PeerTuned `json:"peer"`
	Budget     float64   `json:"budget_s"`
	Value      float64   `json:"value"` // tabforge's best model, test metric
	Best       string    `json:"best"`
	TuneS      float64   `json:"tune_s"` // seconds in tuning studies
	Trials     int       `json:"trials"`
	Pruned     int       `json:"pruned"`
	Seconds    float64   `json:"seconds"` // the whole train run
	LoadBefore float64   `json:"load_before"`
	LoadAfter  float64   `json:"load_after"`
	Err        string    `json:"error,omitempty"`
}

// AtLeastAsGood reports whether tabforge's metric reaches the peer's.
func (r ResearchResult) AtLeastAsGood() bool { return r.Err == "" && r.Value >= r.Peer.Value }

// Research runs `self train --profile research` on each case with a time
// budget equal to the peer's tune_s times scale (1 for the protocol; more
// to compensate a machine busier than the peer's was) and collects the
// test metric of the best model. Each run has a fresh store, so no study
// is resumed. With now set, each dataset's peer row is first re-run on
// this machine and its measured tune_s is the budget, so that both sides
// are timed on the same machine under the same load.
func Research(ctx context.Context, self string, cases []ResearchCase, peers map[string]PeerTuned, now *PeerNow, scale float64, extra []string, log io.Writer) ([]ResearchResult, error) {
	if !(scale > 0) {
		return nil, fmt.Errorf("bench research: budget scale %v; want > 0", scale)
	}
	dir, err := os.MkdirTemp("", "tabforge-research-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if now != nil {
		if err := now.writeScript(dir); err != nil {
			return nil, err
		}
	}
	var out []ResearchResult
	for _, c := range cases {
		peer, ok := peers[c.Name]
		if !ok {
			return out, fmt.Errorf("bench research: no Optuna row for %s", c.Name)
		}
		if now != nil {
			fmt.Fprintf(log, "research %s: re-running the peer's Optuna row\n", c.Name)
			if peer, err = now.run(ctx, dir, c.Name, peer); err != nil {
				return out, fmt.Errorf("bench research: %w", err)
			}
			fmt.Fprintf(log, "research %s: peer %.4f in %.1f s (recorded %.1f s)\n", c.Name, peer.Value, peer.TuneS, peer.RecordedTuneS)
		}
		budget := time.Duration(scale * peer.TuneS * float64(time.Second)).Round(10 * time.Millisecond)
		args := append([]string{"train", "--profile", "research", "--json", "--time-budget", budget.String(),
			"--out", filepath.Join(dir, c.Name), "--store", "sqlite://" + filepath.Join(dir, c.Name+".db")}, c.Args...)
		args = append(args, extra...)
		r := ResearchResult{Name: c.Name, Metric: c.Metric, Peer: peer, Budget: budget.Seconds(), LoadBefore: loadAverage()}
		fmt.Fprintf(log, "research %s: tabforge %s\n", c.Name, strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, self, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		runErr := cmd.Run()
		r.Seconds, r.LoadAfter = time.Since(start).Seconds(), loadAverage()
		var res struct {
			Best        string `json:"best"`
			Leaderboard []struct {
				Model  string       `json:"model"`
				Test   eval.Metrics `json:"test"`
				Tuning *struct {
					Trials  int     `json:"trials"`
					Pruned  int     `json:"pruned"`
					Seconds float64 `json:"seconds"`
				} `json:"tuning"`
			} `json:"leaderboard"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || len(res.Leaderboard) == 0 {
			r.Err = fmt.Sprintf("%v: %s", runErr, lastLine(stderr.String()))
			out = append(out, r)
			continue
		}
		r.Best, r.Value = res.Best, res.Leaderboard[0].Test[c.Metric]
		for _, e := range res.Leaderboard {
			if e.Tuning != nil {
				r.TuneS += e.Tuning.Seconds
				r.Trials += e.Tuning.Trials
				r.Pruned += e.Tuning.Pruned
			}
		}
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out, ctx.Err()
}

// PrintResearch writes the comparison table and the verdict.
func PrintResearch(w io.Writer, rs []ResearchResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tmetric\tOptuna-TPE XGBoost\ttabforge research\tdiff\tverdict\tbudget s\ttune s\ttrials (pruned)\trun s\tload\tbest model\t")
	good, measured := 0, 0
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t%.4f\tfailed: %s\t\n", r.Name, r.Metric, r.Peer.Value, r.Err)
			continue
		}
		if r.Peer.Measured {
			measured++
		}
		verdict := "below"
		if r.AtLeastAsGood() {
			verdict, good = "at least as good", good+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%+.4f\t%s\t%.1f\t%.1f\t%d (%d)\t%.1f\t%.1f-%.1f\t%s\t\n", r.Name, r.Metric, r.Peer.Value, r.Value,
			r.Value-r.Peer.Value, verdict, r.Budget, r.TuneS, r.Trials, r.Pruned, r.Seconds, r.LoadBefore, r.LoadAfter, r.Best)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	budget := "the peer's tune_s recorded in baselines.json"
	if measured > 0 {
		budget = "the peer's tune_s measured just before on this machine"
		for _, r := range rs {
			if r.Peer.Measured {
				budget += fmt.Sprintf("; %s recorded %.1f s", r.Name, r.Peer.RecordedTuneS)
			}
		}
	}
	_, err := fmt.Fprintf(w, "\nat least as good as Optuna-TPE XGBoost on %d of %d datasets (budget = %s; load = 1-min load average before-after)\n", good, len(rs), budget)
	return err
}

// loadAverage is the 1-minute load average, or 0 if unknown.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
