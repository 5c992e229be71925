package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tabforge/tabforge/eval"
)

// ProfileResult is one profile's training run, measured in its own process.
type ProfileResult struct {
	Profile  string  `json:"profile"`
	Seconds  float64 `json:"seconds"`
	PeakMB   float64 `json:"peak_mb"`
	Best     string  `json:"best"`
	Metric   string  `json:"metric"` // r2 (regression) or auc (binary)
	Value    float64 `json:"value"`
	Within20 float64 `json:"within20"` // regression only
	Stages   []string
	Err      string `json:"error,omitempty"`
}

// Profiles runs `tabforge train` once per profile with the same arguments
// (data, target, split, ...) and measures wall time, peak RSS and the best
// model's test metrics: the measured version of the seed document's
// "expected performance impact" table.
func Profiles(ctx context.Context, self string, trainArgs, profiles []string) ([]ProfileResult, error) {
	dir, err := os.MkdirTemp("", "tabforge-profiles-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out []ProfileResult
	for _, p := range profiles {
		args := append([]string{"--profile", p}, trainArgs...)
		res, run := trainProcess(ctx, self, filepath.Join(dir, p), args)
		r := ProfileResult{Profile: p, Seconds: run.seconds, PeakMB: run.peakMB, Err: run.err}
		if r.Err == "" {
			r.Best, r.Stages = res.Best, res.Stages
			r.Metric = res.metric()
			r.Value, r.Within20 = res.Leaderboard[0].Test[r.Metric], res.Leaderboard[0].Test["within20"]
		}
		out = append(out, r)
	}
	return out, ctx.Err()
}

// trainResult is the part of `tabforge train --json` the benches read.
type trainResult struct {
	Task   string   `json:"task"`
	Best   string   `json:"best"`
	CV     string   `json:"cv"`
	Stages []string `json:"stages"`
	Cache  *struct {
		Hits   int64 `json:"hits"`
		Misses int64 `json:"misses"`
	} `json:"cache"`
	Leaderboard []struct {
		Model string       `json:"model"`
		Test  eval.Metrics `json:"test"`
	} `json:"leaderboard"`
}

// best returns the test metrics of the model the run picked (the first
// leaderboard entry when none is named after it).
func (r *trainResult) best() map[string]float64 {
	for _, e := range r.Leaderboard {
		if e.Model == r.Best {
			return e.Test
		}
	}
	return r.Leaderboard[0].Test
}

// metric is the test metric the benches report: R² or AUC.
func (r *trainResult) metric() string {
	if r.Task != "regression" {
		return "auc"
	}
	return "r2"
}

// processRun is what measuring one train process gave.
type processRun struct {
	seconds, peakMB float64
	err             string // set when no result came back
	output          []byte // what train --json printed
}

// trainProcess runs `tabforge train --json` in a fresh process with its
// own model directory and store under dir, measuring wall time and peak
// RSS. A run that fails its quality gates still returns its result.
func trainProcess(ctx context.Context, self, dir string, args []string) (*trainResult, processRun) {
	args = append([]string{"train", "--json", "--out", dir, "--store", "sqlite://" + filepath.Join(dir, "runs.db"),
		"--set", "artifacts=" + filepath.Join(dir, "artifacts")}, args...)
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	run := processRun{seconds: time.Since(start).Seconds(), output: stdout.Bytes()}
	// A process that never started (its context already cancelled, say,
	// when the benchmark is interrupted between two runs) has no state.
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			run.peakMB = float64(ru.Maxrss) / 1024
		}
	}
	var res trainResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || len(res.Leaderboard) == 0 {
		run.err = fmt.Sprintf("%v: %s", runErr, lastLine(stderr.String()))
		return nil, run
	}
	return &res, run
}

// PrintProfiles writes the profile table, relative to the first profile.
func PrintProfiles(w io.Writer, rs []ProfileResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\ttime s\ttime vs base\tpeak MB\tmemory vs base\tbest model\ttest metric\tvs base\twithin20\tstages\t")
	var base *ProfileResult
	for i := range rs {
		r := &rs[i]
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\n", r.Profile, r.Err)
			continue
		}
		if base == nil {
			base = r
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%+.0f%%\t%.0f\t%+.0f%%\t%s\t%s %.4f\t%+.4f\t%.2f\t%v\t\n", r.Profile, r.Seconds,
			100*(r.Seconds/base.Seconds-1), r.PeakMB, 100*(r.PeakMB/base.PeakMB-1), r.Best, r.Metric, r.Value,
			r.Value-base.Value, r.Within20, r.Stages)
	}
	return tw.Flush()
}
