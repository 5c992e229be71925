package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/bench"
	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/progress"
)

// metaBuildCommand is `tabforge meta build`: the corpus → shipped
// knowledge base step, a thin layer over meta.Build.
func (a *app) metaBuildCommand() *cobra.Command {
	var f metaBuildFlags
	cmd := &cobra.Command{
		Use:   "build --corpus DIR [--manifest FILE] [--out FILE]",
		Short: "Score a fixed design of configurations on a corpus and write a knowledge base file",
		Long: `Build cross-validates meta.Design (per family its static defaults and a small
seeded space-filling set) on every dataset of the corpus manifest, subsampled to
--max-rows rows, --jobs datasets at a time, and writes the datasets'
meta-features and the scores to --out as gzip JSON. Datasets already in --out
are skipped, so an interrupted build resumes; the file is rewritten atomically
after each dataset. A dataset that fails is listed and left out, and the
build exits 1. Meta-features describe each file's training part, the rows
a train run of it with the manifest's target, task and time column asks the
knowledge base about. --refresh-features recomputes them for the datasets of
this build's corpus and --data list that --out already holds, keeping their
scores (for a file built when they described whole files); others in --out
are kept as they are. The file shipped in the binary (meta/shipped.json.gz)
is built this way (see the meta package doc for the exact command).
With --queue URL (or --set executor=queue) each dataset is one unit of work
for tabforge worker processes (start them with the same --store); a unit's
result is kept under the hash of the dataset's content and the options, so a
redelivered unit, or a rerun, never scores a dataset twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.metaBuild(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.corpus, "corpus", "", "corpus directory (with MANIFEST.csv unless --manifest is given)")
	fl.StringVar(&f.manifest, "manifest", "", "corpus manifest CSV (default DIR/MANIFEST.csv)")
	fl.StringArrayVar(&f.extra, "data", nil, "an extra dataset as FILE:TARGET (repeatable)")
	fl.StringVar(&f.out, "out", "meta-kb.json.gz", "knowledge base file to write (and resume from)")
	fl.IntVar(&f.o.MaxRows, "max-rows", 2000, "rows each dataset's design is scored on (a seeded sample)")
	fl.IntVar(&f.o.Folds, "folds", 3, "CV folds per configuration")
	fl.IntVar(&f.o.Jobs, "jobs", 2, "datasets scored at once")
	fl.BoolVar(&f.o.RefreshFeatures, "refresh-features", false, "recompute the meta-features of this build's datasets that --out already holds (their scores are kept)")
	fl.String("queue", "", "score each dataset on tabforge workers through this JetStream server (nats://HOST:PORT or embedded)")
	return cmd
}

// metaBuildFlags are `meta build`'s flags.
type metaBuildFlags struct {
	corpus, manifest, out string
	extra                 []string
	o                     meta.BuildOptions
}

// datasets lists the corpus manifest's datasets and the --data ones.
func (f *metaBuildFlags) datasets() ([]meta.CorpusDataset, error) {
	if f.corpus == "" && len(f.extra) == 0 {
		return nil, usagef("meta build: --corpus or --data is required")
	}
	var ds []meta.CorpusDataset
	if f.corpus != "" {
		var err error
		if ds, err = corpusDatasets(f.corpus, f.manifest); err != nil {
			return nil, err
		}
	}
	for _, e := range f.extra {
		d, err := parseDataTarget(e)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// check refuses build options out of their range.
func (f *metaBuildFlags) check() error {
	// meta.BuildOptions reads a value below 1 as its default: --folds -1
	// built with 3 folds, saying nothing.
	switch {
	case f.o.Jobs < 1:
		return usagef("meta build: --jobs %d: want 1 or more", f.o.Jobs)
	case f.o.Folds < 2:
		return usagef("meta build: --folds %d: want 2 or more", f.o.Folds)
	case f.o.MaxRows < 1:
		return usagef("meta build: --max-rows %d: want 1 or more", f.o.MaxRows)
	}
	return nil
}

func (a *app) metaBuild(cmd *cobra.Command, f *metaBuildFlags) error {
	ctx := cmd.Context()
	if err := f.check(); err != nil {
		return err
	}
	ds, err := f.datasets()
	if err != nil {
		return err
	}
	cfg, _, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	q, err := a.unitQueue(ctx, cfg)
	if err != nil {
		return err
	}
	defer q.close()
	o := f.o
	o.Executor, o.CodeVersion = q.exec, q.code
	for _, d := range ds {
		if q.share == nil {
			break
		}
		if err := q.share(ctx, d.File); err != nil {
			fmt.Fprintf(a.stderr, "warning: workers without %s cannot score it: %v\n", d.File, err)
		}
	}
	snap, err := meta.ReadSnapshotFileToUpdate(f.out)
	if err != nil {
		return err
	}
	kb := &meta.KB{Records: snap.Records()}
	bars := newProgress(a.stderr, nil)
	o.Done = a.checkpointEach(ctx, kb, f.out, len(ds), bars)
	rep, err := meta.Build(ctx, kb, ds, o)
	bars.wait()
	if err != nil {
		return err
	}
	s, err := kb.Snapshot(ctx)
	if err != nil {
		return err
	}
	if rep.Scored == 0 && rep.Skipped == 0 && len(rep.Failed) > 0 {
		a.printBuildReport(rep, f.out, s)
		return fmt.Errorf("meta build: every dataset failed; %s not written", f.out)
	}
	if err := s.WriteFile(f.out); err != nil {
		return err
	}
	a.printBuildReport(rep, f.out, s)
	if len(rep.Failed) > 0 {
		// As watch --once: a script or cron must see that datasets are
		// missing, though the others were written (and a rerun resumes).
		return fmt.Errorf("meta build: %d of %d datasets failed (listed above); %s holds the others, and a rerun retries them", len(rep.Failed), len(ds), f.out)
	}
	return nil
}

// checkpointEach returns meta.BuildOptions.Done for a build of total
// datasets into kb: it shows each dataset done on bars and, for each one
// scored, writes kb to out, which makes the build resumable.
func (a *app) checkpointEach(ctx context.Context, kb *meta.KB, out string, total int, bars *progressBars) func(meta.CorpusDataset, bool, error) {
	var mu sync.Mutex
	done := 0
	return func(d meta.CorpusDataset, skipped bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		done++
		bars.event(progress.Event{Stage: progress.MetaBuild, Name: filepath.Base(d.File), Step: done, Total: total})
		if err != nil || skipped {
			return
		}
		// A checkpoint after every dataset makes the build resumable.
		if s, serr := kb.Snapshot(ctx); serr == nil {
			if werr := s.WriteFile(out); werr != nil {
				fmt.Fprintf(a.stderr, "warning: checkpoint %s: %v\n", out, werr)
			}
		}
	}
}

func (a *app) printBuildReport(rep *meta.BuildReport, out string, s *meta.Snapshot) {
	refreshed := ""
	if rep.Refreshed > 0 {
		refreshed = fmt.Sprintf(" (%d with meta-features recomputed)", rep.Refreshed)
	}
	fmt.Fprintf(a.stdout, "meta build: %d dataset(s) scored, %d already known%s, %d failed in %.1f s; %s holds %d datasets and %d evaluations\n",
		rep.Scored, rep.Skipped, refreshed, len(rep.Failed), rep.Seconds, out, len(s.Datasets), len(s.Evals))
	for _, w := range rep.Warnings {
		fmt.Fprintf(a.stdout, "  warning %s\n", w)
	}
	files := make([]string, 0, len(rep.Failed))
	for f := range rep.Failed {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		fmt.Fprintf(a.stdout, "  failed %s: %s\n", f, rep.Failed[f])
	}
}

// parseDataTarget parses FILE:TARGET.
func parseDataTarget(s string) (meta.CorpusDataset, error) {
	i := len(s) - 1
	for i >= 0 && s[i] != ':' {
		i--
	}
	if i <= 0 || i == len(s)-1 {
		return meta.CorpusDataset{}, usagef("meta build: --data %q: want FILE:TARGET", s)
	}
	return meta.CorpusDataset{File: s[:i], Target: s[i+1:]}, nil
}

// corpusDatasets reads a corpus manifest (DIR/MANIFEST.csv unless
// manifest is given).
func corpusDatasets(corpus, manifest string) ([]meta.CorpusDataset, error) {
	if manifest == "" {
		manifest = filepath.Join(corpus, "MANIFEST.csv")
	}
	rows, err := bench.ReadManifest(manifest)
	if err != nil {
		return nil, err
	}
	ds := make([]meta.CorpusDataset, 0, len(rows))
	for _, r := range rows {
		ds = append(ds, meta.CorpusDataset{File: r.File, Target: r.Target, Task: r.Task, TimeColumn: r.TimeColumn, PositiveClass: r.PositiveClass})
	}
	return ds, nil
}
