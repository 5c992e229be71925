package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/cache"
)

// flagKeys maps train's convenience flags to config keys: a flag given on
// the command line is the top layer of the config.
func flagKeys() map[string]string {
	return map[string]string{
		"data": "data", "target": "target", "task": "task", "time-column": "time_column",
		"segment-column": "segment_column", "segment-by": "segment_by", "drop": "drop", "test-rows": "test_rows",
		"test-fraction": "test_fraction", "models": "models", "seed": "seed", "out": "out",
		"cv-folds": "cv_folds", "as-of": "as_of", "positive-class": "positive_class",
		"max-evals": "max_evals", "time-budget": "time_budget", "name": "name", "queue": "queue",
		"trusted-proxy": "ui_trusted_proxies",
	}
}

func (a *app) trainCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "train --data PATH --target COL [flags]",
		Short: "Train candidate models, rank them and save the best",
		Long: `Train loads a CSV or Parquet file, versions it by content hash, splits it
(test rows file, as-of date, temporal or random holdout), fits every candidate
model family with cross-validation on the training part, scores each on the
test part, prints the leaderboard, saves the best model and records the run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.train(cmd, asJSON)
		},
	}
	f := cmd.Flags()
	f.String("data", "", "training data file (.csv or .parquet)")
	f.String("target", "", "target column")
	f.String("task", "auto", "regression, binary, multiclass or auto")
	f.String("time-column", "", "time column for temporal splits (or COL1,COL2 ordered lexicographically)")
	f.String("segment-column", "", "segment column (per-segment metrics)")
	f.String("segment-by", "", "train one model per value of this column (small segments use the global model)")
	f.StringSlice("drop", nil, "columns to leave out (comma-separated)")
	f.String("test-rows", "", "file of 0-based data-row indices forming the test set")
	f.Float64("test-fraction", 0.2, "share of rows held out for testing")
	f.String("as-of", "", "train on rows before this date (YYYY-MM-DD), test on the rest")
	f.StringSlice("models", nil, "model families: ols,ridge,logistic,tree,forest,extra_trees,gbdt, or the groups linear (ols,ridge,logistic) and trees (tree,forest,gbdt) (default: all applicable but extra_trees)")
	f.Uint64("seed", 42, "random seed")
	f.Int("cv-folds", 5, "cross-validation folds on the training part (0 = none)")
	f.String("positive-class", "", "positive class label for binary tasks")
	f.Int("max-evals", 50, "tuning trials per model family (with enable_hyperparameter_tuning), at most 10 per tuned parameter")
	f.String("time-budget", "", "wall-clock tuning budget for the run, e.g. 2m (shared by the families); a trial still running at a family's share is cut, recorded failed and rerun first when the study runs again")
	f.String("out", "", "directory for saved models")
	f.String("name", "", "registered model name the model becomes a version of (default: the data file's stem)")
	f.String("queue", "", "run CV folds on tabforge workers through this JetStream server (nats://HOST:PORT or embedded)")
	f.String("resume", "", "continue the interrupted run RUN under its id, with its recorded config (finished trials and queued results are reused)")
	f.BoolVar(&asJSON, "json", false, "print the result as one JSON object on stdout")
	return cmd
}

// loadConfig builds the effective config from profile, file, environment,
// --set and the command's changed flags.
func (a *app) loadConfig(cmd *cobra.Command) (*config.Config, *config.Provenance, error) {
	flags := map[string]string{}
	if a.store != "" {
		flags["store"] = a.store
	}
	if a.sep != "" {
		flags["sep"] = a.sep
	}
	for name, key := range flagKeys() {
		fl := cmd.Flags().Lookup(name)
		if fl == nil || !fl.Changed {
			continue
		}
		v := fl.Value.String()
		if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
			v = strings.Join(sv.GetSlice(), ",")
		}
		flags[key] = v
		if key == "queue" && cmd.Name() != "worker" {
			flags["executor"] = string(config.ExecutorQueue) // --queue means: run units on the queue (train, meta build, backtest)
		}
	}
	cfg, prov, err := config.Load(config.Sources{Profile: a.profile, File: a.configFile, Env: os.Environ(), Set: a.sets, Flags: flags})
	if err != nil {
		return nil, nil, usageError{err}
	}
	return cfg, prov, nil
}

// train is the train command's run: config, checks, the store and the
// pipeline's options, one pipeline.Train, then the result on stdout.
func (a *app) train(cmd *cobra.Command, asJSON bool) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	cfg, prov, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cfg, resume, err := a.resumedConfig(cmd, cfg, log)
	if err != nil {
		return err
	}
	warnings, err := checkTrainConfig(cfg, prov)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	st, err := a.openStore(ctx, cfg, toWrite)
	if err != nil {
		return err
	}
	defer st.Close()

	bars := newProgress(a.stderr, a.logSink())
	// The code version names this build in cache keys and model versions.
	code, err := registry.CodeVersion("tabforge " + version)
	if err != nil {
		return err
	}
	reg, closeArts, err := a.registrar(ctx, cfg, st, code)
	if err != nil {
		return err
	}
	defer closeArts()
	// Every run adds its dataset and evaluations to the knowledge base.
	o := pipeline.Options{Logger: log, Progress: bars.event, Runs: st, Studies: st, Registrar: reg, Knowledge: &meta.KB{Records: st},
		Profile: prov.Profile, Resume: resume}
	if cfg.MetaLearning {
		// The user's own history over the knowledge base tabforge ships.
		kb, err := meta.WithShipped(st)
		if err != nil {
			return err
		}
		o.Meta = meta.Advisor{KB: kb, Logger: log}
	}
	o.CodeVersion = code // in unit keys too, which workers rebuild with their own
	if cfg.Cache {
		o.Cache = cache.New(st, log)
	}
	exec, closeExec, err := a.queueExecutor(ctx, cfg, log, code)
	if err != nil {
		return err
	}
	defer closeExec()
	o.Executor = exec
	res, err := pipeline.Train(ctx, cfg, o)
	bars.wait()
	// A run that failed its quality gates still shows its leaderboard; its
	// model is registered as not deployable.
	var gateErr *pipeline.GateError
	if err != nil && !errors.As(err, &gateErr) {
		return err
	}
	res.Warnings = append(warnings, res.Warnings...)
	if jerr := a.writeTrainResult(res, asJSON); jerr != nil {
		return jerr
	}
	return err
}

// resumedConfig applies --resume: the interrupted run's recorded config
// replaces cfg (pipeline.ResumeConfig keeps cfg's operational settings),
// and the run's full id is returned for pipeline.Options.Resume. Without
// --resume it returns cfg and "".
func (a *app) resumedConfig(cmd *cobra.Command, cfg *config.Config, log *slog.Logger) (*config.Config, string, error) {
	resume, _ := cmd.Flags().GetString("resume")
	if resume == "" {
		return cfg, "", nil
	}
	ctx := cmd.Context()
	st, err := a.openStore(ctx, cfg, toRead) // a run to resume is in a store that exists
	if err != nil {
		return nil, "", err
	}
	rcfg, rec, err := pipeline.ResumeConfig(ctx, st, resume, cfg)
	st.Close()
	if err != nil {
		return nil, "", err
	}
	log.Info("resuming run", "run", rec.ID, "data", rcfg.Data)
	return rcfg, rec.ID, nil
}

// checkTrainConfig refuses, as a usage error and before anything is
// opened or written, a config train cannot run: no data or target, a model name
// the registry would refuse, unknown models, or a setting this build
// cannot honour. It returns the warnings about stages the profile or the
// default switched on that this build will run without.
func checkTrainConfig(cfg *config.Config, prov *config.Provenance) ([]string, error) {
	if cfg.Data == "" {
		return nil, usagef("train: --data is required")
	}
	if cfg.Target == "" {
		return nil, usagef("train: --target is required")
	}
	if err := registry.CheckName(pipeline.ModelName(cfg)); err != nil {
		return nil, usageError{fmt.Errorf("train: --name: %w", err)}
	}
	if err := checkModels(cfg); err != nil {
		return nil, err
	}
	errs, warnings := cfg.Unavailable(pipeline.Capabilities(), prov)
	if len(errs) > 0 {
		return nil, usageError{errs[0]}
	}
	return append(warnings, cfg.Ineffective(prov)...), nil
}

// writeTrainResult renders a run's result on stdout, as JSON for
// scripts or as the leaderboard and the registered model for people.
func (a *app) writeTrainResult(res *pipeline.Result, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(res)
	}
	printResult(a.stdout, res)
	if res.Registered != nil {
		printRegistered(a.stdout, res.Registered.Model, res.Registered.Created)
	}
	return nil
}

// checkModels refuses, as usage errors, unknown families and groups in
// models and model_params for names that are no family.
func checkModels(cfg *config.Config) error {
	if err := cfg.CheckModels(modelNames()); err != nil {
		return usageError{err}
	}
	if err := cfg.CheckModelParams(pipeline.Families().Names()); err != nil {
		return usageError{err}
	}
	if err := pipeline.CheckModelParams(cfg, pipeline.Families()); err != nil {
		return usageError{err}
	}
	return nil
}

// modelNames lists what --models accepts: family names and groups.
func modelNames() []string {
	return append(pipeline.Families().Names(), pipeline.ModelGroups()...)
}

// rankingLine says how the leaderboard was ranked: by CV on the training
// rows, or, with cv_folds 0, by the test metric alone.
func rankingLine(r *pipeline.Result) string {
	if r.CVFolds == 0 {
		return "no CV; ranked by test " + r.Metric
	}
	cv := fmt.Sprintf("%d-fold CV", r.CVFolds)
	if r.CV != "" {
		cv = "CV " + r.CV
	}
	return fmt.Sprintf("%s on train; ranked by CV %s", cv, r.Metric)
}

// printResult renders a leaderboard as a table.
func printResult(w io.Writer, r *pipeline.Result) {
	fmt.Fprintf(w, "run %s  dataset %s  task %s  target %s\n", r.RunID, r.DatasetHash[:12], r.Task, r.Target)
	fmt.Fprintf(w, "split: %s (train %d, test %d rows); %s\n\n", r.Split, r.TrainRows, r.TestRows, rankingLine(r))
	keys := []string{"r2", "rmse", "mae", "within20"}
	if r.Task != "regression" {
		keys = []string{"auc", "accuracy", "logloss", "f1"}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "#\tmodel\tcv " + r.Metric + "\t"
	if len(r.RankedFolds) > 0 {
		// The leaderboard is ranked on these folds, not on the means of
		// every fold beside them.
		head += "cv " + r.Metric + " " + eval.FoldsText(r.RankedFolds) + "\t"
	}
	for _, k := range keys {
		head += "test " + k + "\t"
	}
	fmt.Fprintln(tw, head+"fit s\t")
	for i, e := range r.Leaderboard {
		if e.Error != "" {
			// Not a cell (no closing tab): a long error would widen the CV
			// column, and so the whole table, to its length.
			fmt.Fprintf(tw, "%d\t%s\t  failed: %s\n", i+1, e.Model, e.Error)
			continue
		}
		line := fmt.Sprintf("%d\t%s\t%s\t", i+1, e.Model, cvCell(e, r.Metric))
		if len(r.RankedFolds) > 0 {
			line += rankedCell(e, r.Metric) + "\t"
		}
		for _, k := range keys {
			line += formatMetric(k, e.Test[k]) + "\t"
		}
		fmt.Fprintln(tw, line+strconv.FormatFloat(e.FitSeconds, 'f', 2, 64)+"\t")
	}
	tw.Flush()
	printUndefined(w, r.Leaderboard)
	fmt.Fprintf(w, "\nbest: %s -> %s\n", r.Best, r.ModelPath)
	if len(r.Leaderboard) > 0 && r.Leaderboard[0].Chosen != "" {
		fmt.Fprintf(w, "  (%s)\n", r.Leaderboard[0].Chosen)
	}
	if c := r.Cache; c != nil {
		fmt.Fprintf(w, "cache: %d hits, %d misses (hit rate %.0f%%)\n", c.Hits, c.Misses, 100*c.HitRate())
	}
	for _, g := range r.Gates {
		verdict := "pass"
		if !g.Passed {
			verdict = "FAIL"
		}
		if g.Detail != "" {
			fmt.Fprintf(w, "gate %s (%s): %s %s\n", g.Name, g.Metric, g.Detail, verdict)
			continue
		}
		fmt.Fprintf(w, "gate %s: test %s %s (threshold %s) %s\n", g.Name, g.Metric, formatMetric(g.Metric, g.Value), formatMetric(g.Metric, g.Threshold), verdict)
	}
	if r.Report != "" {
		fmt.Fprintf(w, "report: %s\n", r.Report)
	}
	if len(r.Segments) > 0 {
		printSegments(w, r, keys)
	}
	if r.SegmentModels != nil {
		printSegmentModels(w, r.SegmentModels, r.Metric)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func cvCell(e pipeline.Entry, metric string) string {
	v, ok := e.CV[metric]
	if !ok {
		return "-"
	}
	return formatMetric(metric, v) + " ± " + formatMetric(metric, e.CVStd[metric])
}

// rankedCell is e's score on the folds the leaderboard is ranked on.
func rankedCell(e pipeline.Entry, metric string) string {
	if e.CVRanked == nil {
		return "-"
	}
	return formatMetric(metric, *e.CVRanked)
}

// printUndefined notes the CV metrics undefined on some folds, one line
// for the models that share the same: a target with zeros makes mape
// undefined on every fold of every model, which took a line per model.
func printUndefined(w io.Writer, lb []pipeline.Entry) {
	var texts []string
	models := map[string][]string{}
	for _, e := range lb {
		u := eval.UndefinedText(e.CVUndefined, e.CVFolds)
		if u == "" || e.Error != "" {
			continue
		}
		if models[u] == nil {
			texts = append(texts, u)
		}
		models[u] = append(models[u], e.Model)
	}
	for _, u := range texts {
		fmt.Fprintf(w, "note: %s: cv %s\n", strings.Join(models[u], ", "), u)
	}
}

// formatMetric prints metric key's value v for a table: "n/a" when it
// is undefined (NaN: the AUC of one class, the MAPE of a zero target).
func formatMetric(key string, v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if math.Abs(v) >= 1e12 {
		// A MAPE over zero targets, errors of targets in the 1e100s:
		// hundreds of digits would break the table.
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	switch key {
	case "rmse", "mae":
		// Whole units for prices; 4 significant digits for small scales,
		// which 'f' 0 printed as 0.
		if math.Abs(v) >= 1000 {
			return strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strconv.FormatFloat(v, 'g', 4, 64)
	case "within20", "mape":
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// printSegments shows the best model's test metrics per segment, worst
// first; long lists are cut to the worst and best few.
func printSegments(w io.Writer, r *pipeline.Result, keys []string) {
	fmt.Fprintf(w, "\nper segment (%d segments, worst first):\n", len(r.Segments))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "segment\trows\t"
	for _, k := range keys {
		head += k + "\t"
	}
	fmt.Fprintln(tw, head)
	const show = 8
	for i, s := range r.Segments {
		if len(r.Segments) > 2*show && i == show {
			fmt.Fprintf(tw, "...\t%d more\t\n", len(r.Segments)-2*show)
		}
		if len(r.Segments) > 2*show && i >= show && i < len(r.Segments)-show {
			continue
		}
		line := fmt.Sprintf("%s\t%d\t", s.Segment, s.Rows)
		for _, k := range keys {
			v, ok := s.Test[k]
			if !ok {
				line += "-\t"
				continue
			}
			line += formatMetric(k, v) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

// printSegmentModels shows every segment's test metrics under the global
// model and under the model the saved artifact routes it to.
func printSegmentModels(w io.Writer, sm *pipeline.SegmentModels, metric string) {
	keys := []string{metric}
	if metric == "r2" {
		keys = append(keys, "within20")
	}
	fmt.Fprintf(w, "\nper-segment models by %s (%s; %d segments with their own model, %d on the global model):\n",
		sm.Column, sm.Model, sm.Trained, sm.Fallback)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "segment\ttrain\ttest\tmodel\t"
	for _, k := range keys {
		head += "global " + k + "\tsegment " + k + "\t"
	}
	fmt.Fprintln(tw, head)
	cell := func(m map[string]float64, k string) string {
		if v, ok := m[k]; ok {
			return formatMetric(k, v)
		}
		return "-"
	}
	row := func(name, train, test, which string, global, routed map[string]float64) {
		line := name + "\t" + train + "\t" + test + "\t" + which + "\t"
		for _, k := range keys {
			line += cell(global, k) + "\t" + cell(routed, k) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	for _, s := range sm.Segments {
		which := "own"
		if !s.OwnModel {
			which = "global"
		}
		row(s.Segment, strconv.Itoa(s.TrainRows), strconv.Itoa(s.TestRows), which, s.Global, s.Routed)
	}
	row("all", "", "", "", sm.Global, sm.Routed)
	tw.Flush()
}
