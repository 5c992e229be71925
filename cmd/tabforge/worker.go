package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/continuous"
	"github.com/tabforge/tabforge/dist"
	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/cache"
)

func (a *app) workerCommand() *cobra.Command {
	var queue string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "worker --queue nats://HOST:PORT --store URL [--concurrency N]",
		Short: "Run units of work (CV folds, ensemble fits, meta build datasets, backtest periods) that drivers with executor=queue send",
		Long: `Worker pulls units of work from a NATS JetStream server and runs them,
N at a time. It rebuilds each unit from the run record in the store the
driver uses (--store, shared: a SQLite file on one machine, Redis across
machines) and writes the result once under the unit's key. A worker
killed mid-unit loses nothing: the server redelivers its unit to another
worker after a few seconds. A worker started before its server waits
for it. Stop it with Ctrl-C or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if queue == "" || queue == config.QueueEmbedded {
				return usagef("worker: --queue nats://HOST:PORT is required (the server the driver prints)")
			}
			return a.worker(cmd, queue, concurrency)
		},
	}
	cmd.Flags().StringVar(&queue, "queue", "", "JetStream server URL, e.g. nats://127.0.0.1:4222")
	cmd.Flags().IntVar(&concurrency, "concurrency", 1, "units run at once")
	return cmd
}

func (a *app) worker(cmd *cobra.Command, queue string, concurrency int) error {
	if concurrency < 1 {
		return usagef("worker: --concurrency %d: want at least 1", concurrency)
	}
	log, err := a.logger()
	if err != nil {
		return err
	}
	cfg, _, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := a.primaryStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	code, err := registry.CodeVersion("tabforge " + version)
	if err != nil {
		return err
	}
	r := &pipeline.UnitRunner{Runs: st, CodeVersion: code, Logger: log}
	if cfg.Cache {
		r.Cache = cache.New(st, log)
	}
	w := &dist.Worker{Concurrency: concurrency, Logger: log, CodeVersion: code}
	r.Fetch = w.Fetch       // datasets the driver shared, for a worker without the file
	r.Artifact = w.Artifact // the candidates' predictions an ensemble unit combines
	w.Runner = dist.Kinds{
		"fold":                    r,
		pipeline.EnsembleUnitKind: r,
		meta.UnitKind:             meta.UnitRunner{CodeVersion: code, Fetch: w.Fetch},
		continuous.UnitKind:       continuous.UnitRunner{CodeVersion: code, Fetch: w.Fetch},
	}
	fmt.Fprintf(a.stderr, "worker: serving %s with %d at a time (store %s)\n", config.RedactURL(queue), concurrency, st.URL())
	return w.Run(ctx, queue)
}

// queueExecutor returns the executor cfg asks for (nil: local) and a
// function that releases it; with queue embedded it starts the server.
// code names this build to the workers (dist.Options.CodeVersion).
func (a *app) queueExecutor(ctx context.Context, cfg *config.Config, log *slog.Logger, code string) (pipeline.Executor, func(), error) {
	if cfg.Executor != config.ExecutorQueue {
		return nil, func() {}, nil
	}
	url, stop := cfg.Queue, func() {}
	if url == config.QueueEmbedded {
		// The NATS port when it is free. Builds without the natsembed tag
		// run nats-server from PATH instead.
		srv, err := dist.Start(4222)
		if err != nil && !errors.Is(err, dist.ErrNoEmbedded) {
			srv, err = dist.Start(0)
		}
		if err != nil {
			return nil, nil, err
		}
		url, stop = srv.URL(), srv.Shutdown
		fmt.Fprintf(a.stderr, "queue: JetStream server at %s; start workers with: tabforge worker --queue %s --store %s\n", url, url, cfg.Store)
	}
	o := dist.Options{Logger: log, CodeVersion: code}
	if cfg.ExecutorFallback == config.FallbackLocal {
		o.Fallback = pipeline.Local{Workers: cfg.Workers}
	}
	e, err := dist.Dial(ctx, url, o)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("queue (is the server running? executor=queue): %w", err)
	}
	if cfg.Data == "" {
		return e, func() { e.Close(); stop() }, nil
	}
	// Shared under the path the run records (absolute), which is the
	// name a worker fetches it by.
	if err := e.ShareDataset(ctx, pipeline.AbsPath(cfg.Data)); err != nil {
		log.Warn("workers without the data file cannot run this run's units", "err", err)
	}
	return e, func() { e.Close(); stop() }, nil
}

func (a *app) workersCommand() *cobra.Command {
	var queue string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "workers --queue nats://HOST:PORT [--json]",
		Short: "Show the workers on a queue, its depth, units in flight and redeliveries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if queue == "" || queue == config.QueueEmbedded {
				return usagef("workers: --queue nats://HOST:PORT is required")
			}
			st, err := dist.QueueStatus(cmd.Context(), queue)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(st)
			}
			fmt.Fprintf(a.stdout, "queue %s: %d queued, %d in flight (%d redelivered), %d results\n", config.RedactURL(queue), st.Queued, st.InFlight, st.Redelivered, st.Results)
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "worker\thost\tpid\tconcurrency\trunning\tdone\tup\tbuild")
			for _, w := range st.Workers {
				build := w.Code
				if build == "" {
					build = "-" // an older worker, or one naming no build: it runs the units of drivers naming none
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", w.ID, w.Host, w.PID, w.Concurrency, w.Running, w.Done, time.Since(w.Started).Round(time.Second), build)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&queue, "queue", "", "JetStream server URL")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// unitQueue is the executor of a command whose units are not a train's
// folds (meta build datasets, backtest periods): nil unless the config
// says executor=queue (--queue URL), with the code version that goes
// into the units' keys and a function that shares a file with workers on
// other machines.
type unitQueue struct {
	exec  pipeline.Executor
	code  string
	share func(ctx context.Context, path string) error
	close func()
}

func (a *app) unitQueue(ctx context.Context, cfg *config.Config) (*unitQueue, error) {
	log, err := a.logger()
	if err != nil {
		return nil, err
	}
	if cfg.Executor != config.ExecutorQueue {
		return &unitQueue{close: func() {}}, nil
	}
	code, err := registry.CodeVersion("tabforge " + version)
	if err != nil {
		return nil, err
	}
	exec, closeExec, err := a.queueExecutor(ctx, cfg, log, code)
	if err != nil {
		return nil, err
	}
	q := &unitQueue{exec: exec, code: code, close: closeExec}
	if de, ok := exec.(*dist.Executor); ok {
		q.share = de.ShareDataset
	}
	return q, nil
}
