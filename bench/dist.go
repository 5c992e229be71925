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
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tabforge/tabforge/dist"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/internal/syncbuf"
)

// DistRow is one configuration of the dist benchmark: a train run in
// one process with GOMAXPROCS cores (Workers 0), or on Workers worker
// processes of one core each through a JetStream server.
type DistRow struct {
	Name    string  `json:"name"`
	Workers int     `json:"workers"`
	Cores   int     `json:"cores"`
	Seconds float64 `json:"seconds"` // wall time of the train process
	// StudySeconds is the tuning study's time (TuningInfo.Seconds): the
	// part the workers share; loading, the final fit and the report run
	// in the driver.
	StudySeconds float64 `json:"study_seconds"`
	// Units is the number of units the workers ran (0 for local rows).
	Units int `json:"units"`
	// Speedup is the study time of the first row of the same kind
	// (local or queue) over this row's.
	Speedup float64 `json:"speedup"`
	// OverheadMS is the median time from publishing an empty unit to an
	// idle worker starting it (dist.Executor.Ping), in milliseconds.
	OverheadMS float64 `json:"overhead_ms,omitempty"`
	Best       float64 `json:"best"` // the study's best CV value
	// Trials counts every trial the study ran, Pruned those of them the
	// pruner stopped early.
	Trials int    `json:"trials"`
	Pruned int    `json:"pruned"`
	Err    string `json:"error,omitempty"`
}

// DistOptions configure Dist.
type DistOptions struct {
	// Self is the tabforge binary to run.
	Self string
	// Workers are the worker counts to measure, e.g. 1, 2; each worker
	// runs with GOMAXPROCS=1. Local rows run with as many cores.
	Workers []int
	// TrainArgs are the train flags (data, target, models, tuning).
	TrainArgs []string
	// Pings is how many empty units measure the overhead; 0 means 50.
	Pings int
	// CodeVersion names Self's build (registry.CodeVersion), whose units
	// its workers pull at once. The pings must name it too: a worker
	// takes units of no build only between waits for its own, so unnamed
	// pings measured that wait (2 s) instead of the queue's overhead.
	CodeVersion string
}

// Dist measures a tuned train on worker processes against the same
// train in one process with the same number of cores. Every row gets a
// fresh store and JetStream server (dist.Start: embedded, or nats-server
// from PATH on 127.0.0.1), so no result is reused; tune_batch is fixed to
// the largest worker count, so every row runs the same study and finds
// the same best value.
func Dist(ctx context.Context, o DistOptions) ([]DistRow, error) {
	if o.Pings == 0 {
		o.Pings = 50
	}
	batch := slices.Max(o.Workers)
	args := append(slices.Clone(o.TrainArgs), "--set", fmt.Sprint("tune_batch=", batch))
	var rows []DistRow
	for _, n := range o.Workers {
		r := distLocal(ctx, o.Self, n, args)
		rows = append(rows, r)
	}
	for _, n := range o.Workers {
		r, err := distQueue(ctx, o, n, args)
		if err != nil {
			r.Err = err.Error()
		}
		rows = append(rows, r)
	}
	speedups(rows)
	return rows, ctx.Err()
}

// speedups sets each row's study-time speedup over the first good row of
// its kind.
func speedups(rows []DistRow) {
	base := map[bool]float64{}
	for i := range rows {
		r := &rows[i]
		if r.Err != "" || r.StudySeconds <= 0 {
			continue
		}
		queue := r.Workers > 0
		if base[queue] == 0 {
			base[queue] = r.StudySeconds
		}
		r.Speedup = base[queue] / r.StudySeconds
	}
}

// distTrain runs one train process with env added and reads its result.
func distTrain(ctx context.Context, self, dir string, env, args []string) (DistRow, error) {
	args = append([]string{"train", "--json", "--out", filepath.Join(dir, "models"), "--store", "sqlite://" + filepath.Join(dir, "runs.db"),
		"--set", "artifacts=" + filepath.Join(dir, "artifacts")}, args...)
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	r := DistRow{Seconds: time.Since(start).Seconds()}
	var res struct {
		Leaderboard []struct {
			Tuning *struct {
				Seconds float64 `json:"seconds"`
				Trials  int     `json:"trials"` // completed
				Pruned  int     `json:"pruned"`
				Failed  int     `json:"failed"`
				Study   string  `json:"study"`
			} `json:"tuning"`
			CV eval.Metrics `json:"cv"`
		} `json:"leaderboard"`
		Metric string `json:"metric"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || len(res.Leaderboard) == 0 {
		return r, fmt.Errorf("train: %v: %s", runErr, lastLine(stderr.String()))
	}
	for _, e := range res.Leaderboard {
		if e.Tuning != nil {
			r.StudySeconds += e.Tuning.Seconds
			r.Trials += e.Tuning.Trials + e.Tuning.Pruned + e.Tuning.Failed
			r.Pruned += e.Tuning.Pruned
			r.Best = e.CV[res.Metric]
		}
	}
	if r.Trials == 0 {
		return r, fmt.Errorf("no tuning study ran (give --set enable_hyperparameter_tuning=true)")
	}
	return r, nil
}

func distLocal(ctx context.Context, self string, cores int, args []string) DistRow {
	dir, err := os.MkdirTemp("", "tabforge-bench-dist-")
	if err != nil {
		return DistRow{Err: err.Error()}
	}
	defer os.RemoveAll(dir)
	r, err := distTrain(ctx, self, dir, []string{fmt.Sprint("GOMAXPROCS=", cores)}, append(slices.Clone(args), "--set", fmt.Sprint("workers=", cores)))
	r.Name, r.Cores = fmt.Sprintf("local, %d core(s)", cores), cores
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// distQueue runs the train on n worker processes through a fresh server.
func distQueue(ctx context.Context, o DistOptions, n int, args []string) (DistRow, error) {
	row := DistRow{Name: fmt.Sprintf("queue, %d worker(s)", n), Workers: n, Cores: n}
	dir, err := os.MkdirTemp("", "tabforge-bench-dist-")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)
	srv, err := dist.Start(0)
	if err != nil {
		return row, err
	}
	defer srv.Shutdown()
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	logs := make([]*syncbuf.Buffer, n)
	defer func() { stop(); wg.Wait() }()
	for i := range n {
		logs[i] = &syncbuf.Buffer{}
		cmd := exec.CommandContext(wctx, o.Self, "worker", "--queue", srv.URL(), "--store", "sqlite://"+filepath.Join(dir, "runs.db"),
			"--concurrency", "1")
		cmd.Env, cmd.Stderr = append(os.Environ(), "GOMAXPROCS=1"), logs[i]
		if err := cmd.Start(); err != nil {
			return row, fmt.Errorf("worker: %w", err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = cmd.Wait() }()
	}
	e, err := dist.Dial(ctx, srv.URL(), pingOptions(o))
	if err != nil {
		return row, err
	}
	defer e.Close()
	if err := waitAlive(ctx, srv.URL(), n); err != nil {
		return row, err
	}
	r, err := distTrain(ctx, o.Self, dir, nil, append(slices.Clone(args), "--queue", srv.URL()))
	r.Name, r.Workers, r.Cores = row.Name, n, n
	if err != nil {
		return r, err
	}
	for _, l := range logs {
		r.Units += strings.Count(l.String(), "unit done")
	}
	pings, err := e.Ping(ctx, o.Pings)
	if err != nil {
		return r, err
	}
	slices.Sort(pings)
	r.OverheadMS = float64(pings[len(pings)/2].Microseconds()) / 1000
	return r, nil
}

// pingOptions are the options of the executor that sends the overhead
// pings: to the workers' build, as train's units go.
func pingOptions(o DistOptions) dist.Options {
	return dist.Options{WaitWorkers: time.Minute, CodeVersion: o.CodeVersion}
}

func waitAlive(ctx context.Context, url string, n int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := dist.QueueStatus(ctx, url)
		if err == nil && len(st.Workers) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d workers did not join %s within a minute (%v)", n, url, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PrintDist writes the benchmark table.
func PrintDist(w io.Writer, rows []DistRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tcores\twall s\tstudy s\ttrials (pruned)\tunits\tunits/s (wall)\tspeedup\tpublish→start ms (median)\tbest CV\t")
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t%d\tfailed: %s\t\n", r.Name, r.Cores, r.Err)
			continue
		}
		units, rate, over := "-", "-", "-"
		if r.Workers > 0 {
			units, rate = fmt.Sprint(r.Units), fmt.Sprintf("%.2f", float64(r.Units)/r.Seconds)
			over = fmt.Sprintf("%.2f", r.OverheadMS)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%d (%d)\t%s\t%s\t%.2fx\t%s\t%.4f\t\n", r.Name, r.Cores, r.Seconds, r.StudySeconds, r.Trials, r.Pruned,
			units, rate, r.Speedup, over, r.Best)
	}
	return tw.Flush()
}
