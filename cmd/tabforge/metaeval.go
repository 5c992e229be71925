package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/progress"
)

// spaced keeps at most n of ds, evenly spaced (all when n <= 0).
func spaced(ds []meta.CorpusDataset, n int) []meta.CorpusDataset {
	if n <= 0 || n >= len(ds) {
		return ds
	}
	out := make([]meta.CorpusDataset, n)
	for i := range out {
		out[i] = ds[i*len(ds)/n]
	}
	return out
}

// sampled keeps n of ds drawn at random with seed, in manifest order
// (all when n <= 0).
func sampled(ds []meta.CorpusDataset, n int, seed uint64) []meta.CorpusDataset {
	if n <= 0 || n >= len(ds) {
		return ds
	}
	idx := rand.New(rand.NewPCG(seed, 0)).Perm(len(ds))[:n]
	slices.Sort(idx)
	out := make([]meta.CorpusDataset, n)
	for i, k := range idx {
		out[i] = ds[k]
	}
	return out
}

// only keeps the datasets of ds whose file names are in names (all when
// names is empty), in manifest order; a name matching none is a usage
// error, so a typo is not a silent empty evaluation.
func only(ds []meta.CorpusDataset, names []string) ([]meta.CorpusDataset, error) {
	if len(names) == 0 {
		return ds, nil
	}
	named := func(n string) func(meta.CorpusDataset) bool {
		return func(d meta.CorpusDataset) bool { return filepath.Base(d.File) == n }
	}
	for _, n := range names {
		if !slices.ContainsFunc(ds, named(n)) {
			return nil, usagef("--only %s: no such table among the corpus tables chosen (file names as in the manifest)", n)
		}
	}
	return slices.DeleteFunc(slices.Clone(ds), func(d meta.CorpusDataset) bool {
		return !slices.Contains(names, filepath.Base(d.File))
	}), nil
}

// printZeroShot renders the zero-shot-against-static tally per family
// and for each dataset's best family, then a summary line and, when
// verbose, every dataset's two scores.
// checkAdvisorFlags refuses, as usage errors, nearest-dataset and list
// counts below 1 and an unknown ranker.
func checkAdvisorFlags(k, top int, ranker string) error {
	switch {
	case k < 1:
		return usagef("--k %d: want at least 1 nearest dataset", k)
	case top < 1:
		return usagef("--top %d: want at least 1 configuration", top)
	case ranker != meta.RankSurrogate && ranker != meta.RankNeighbours:
		return usagef("--ranker %q: want %s or %s", ranker, meta.RankSurrogate, meta.RankNeighbours)
	}
	return nil
}

func printZeroShot(out io.Writer, rep *meta.ZeroShotReport, verbose bool) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "FAMILY\tWINS\tTIES\tLOSSES\tWIN SHARE (decided)")
	row := func(name string, t meta.Tally) {
		share := "-" // none decided
		if v := t.WinShare(); !math.IsNaN(v) {
			share = fmt.Sprintf("%.0f%%", 100*v)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", name, t.Wins, t.Ties, t.Losses, share)
	}
	for _, f := range slices.Sorted(maps.Keys(rep.Families)) {
		row(f, *rep.Families[f])
	}
	row("best family", rep.Best)
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d datasets, %d far from the others (static defaults kept); mean normalised gain of the best zero-shot over the best static score %.3f\n",
		len(rep.Datasets), rep.Far, rep.MeanGain)
	unscored := 0
	for _, t := range rep.Families {
		unscored += t.Unscored
	}
	if unscored > 0 {
		fmt.Fprintf(out, "%d comparisons left out: zero-shot picked a configuration never scored on the dataset (a knowledge base of training runs, not meta build's design)\n", unscored)
	}
	if !verbose {
		return nil
	}
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "DATASET\tFAR\tSTATIC\tZERO-SHOT")
	for _, d := range rep.Datasets {
		fmt.Fprintf(w, "%s\t%v\t%.4f\t%.4f\n", d.Name, d.Far, d.Static, d.Zero)
	}
	return w.Flush()
}

// printWarm renders the cold-against-warm table.
func printWarm(w io.Writer, r *meta.WarmReport, verbose bool) error {
	fmt.Fprintf(w, "\ncold vs warm TPE, %d trials each, same seed, leave-one-dataset-out:\n", r.Trials)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "START")
	for _, c := range r.Checkpoints {
		fmt.Fprintf(tw, "\tBEST@%d", c)
	}
	fmt.Fprintln(tw)
	for _, s := range []struct {
		name string
		v    []float64
	}{{"cold", r.ColdMean}, {"warm", r.WarmMean}} {
		fmt.Fprint(tw, s.name)
		for _, v := range s.v {
			fmt.Fprintf(tw, "\t%.3f", v)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	far, failed := 0, 0
	for _, row := range r.Rows {
		if row.Far {
			far++
		}
		if row.Err != "" {
			failed++
		}
	}
	fmt.Fprintf(w, "warm reached cold's final best on %.0f%% of %d compared datasets, median after %.1f trials (%d far, %d failed)\n",
		100*r.Reached, len(r.Rows)-far-failed, r.MedianReach, far, failed)
	if !verbose {
		return nil
	}
	// Per dataset its final bests, then cold/warm normalised at each
	// checkpoint: the terms of the means above.
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "DATASET\tFAR\tREACH\tCOLD BEST\tWARM BEST")
	for _, c := range r.Checkpoints {
		fmt.Fprintf(tw, "\t@%d COLD/WARM", c)
	}
	fmt.Fprintln(tw, "\tERROR")
	for _, row := range r.Rows {
		cb, wb := math.NaN(), math.NaN()
		if n := len(row.Cold); n > 0 {
			cb = row.Cold[n-1]
		}
		if n := len(row.Warm); n > 0 {
			wb = row.Warm[n-1]
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%.4f\t%.4f", row.Name, row.Far, reachText(row), cb, wb)
		for k := range r.Checkpoints {
			if k < len(row.ColdAt) && k < len(row.WarmAt) {
				fmt.Fprintf(tw, "\t%.3f/%.3f", row.ColdAt[k], row.WarmAt[k])
			} else {
				fmt.Fprint(tw, "\t-") // far or failed: not in the means
			}
		}
		fmt.Fprintf(tw, "\t%s\n", row.Err)
	}
	return tw.Flush()
}

// reachText renders a row's Reach: "never" when warm did not match cold's
// best (Reach 0, which printed as if after zero trials), "-" for a
// dataset left out (far or failed).
func reachText(row meta.WarmRow) string {
	switch {
	case row.Far || row.Err != "":
		return "-"
	case row.Reach == 0:
		return "never"
	}
	return strconv.Itoa(row.Reach)
}

// metaEvalCommand is `tabforge meta eval`: leave-one-dataset-out zero-shot
// against static defaults, over a built knowledge base.
func (a *app) metaEvalCommand() *cobra.Command {
	var kbFile string
	var verbose bool
	var k int
	var ranker string
	var corpus, manifest string
	var wo meta.WarmEvalOptions
	var limit, sample int
	var names []string
	var sampleSeed uint64
	cmd := &cobra.Command{
		Use:   "eval [--kb FILE]",
		Short: "Leave-one-dataset-out: zero-shot defaults against static defaults",
		Long: `Eval leaves each dataset of a knowledge base built by meta build out in turn,
picks each family's zero-shot configuration for it from the other datasets,
and compares that configuration's recorded CV score on the dataset with the
static defaults' (both are in the build's design). It prints wins, ties and
losses per family and for the best family of each dataset; a zero-shot
configuration the dataset has no score of (a knowledge base of training
runs, as meta export writes) is left out and counted, not a tie. --kb
defaults to the knowledge base shipped in the binary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAdvisorFlags(k, 1, ranker); err != nil {
				return err
			}
			// Negative counts read as "all" or the default, silently.
			switch {
			case wo.Trials < 1:
				return usagef("meta eval: --trials %d: want 1 or more", wo.Trials)
			case sample < 0:
				return usagef("meta eval: --sample %d: want 0 (all) or more", sample)
			case limit < 0:
				return usagef("meta eval: --limit %d: want 0 (all) or more", limit)
			}
			snap, err := meta.Shipped()
			if kbFile != "" {
				snap, err = meta.ReadSnapshotFile(kbFile)
			}
			if err != nil {
				return err
			}
			var ds []meta.CorpusDataset // chosen first: a bad --only fails before the zero-shot pass
			if corpus != "" {
				if ds, err = corpusDatasets(corpus, manifest); err != nil {
					return err
				}
				if ds, err = only(spaced(sampled(ds, sample, sampleSeed), limit), names); err != nil {
					return err
				}
			}
			rep, err := meta.EvaluateZeroShot(cmd.Context(), meta.Advisor{KB: &meta.KB{Records: snap.Records()}, K: k, Ranker: ranker})
			if err != nil {
				return err
			}
			if err := printZeroShot(a.stdout, rep, verbose); err != nil {
				return err
			}
			if corpus == "" {
				return nil
			}
			wo.Ranker = ranker
			return a.metaEvalWarm(cmd, snap, ds, wo, verbose)
		},
	}
	cmd.Flags().StringVar(&corpus, "corpus", "", "also tune cold and warm on this corpus (leave-one-dataset-out)")
	cmd.Flags().StringVar(&manifest, "manifest", "", "corpus manifest CSV (default DIR/MANIFEST.csv)")
	cmd.Flags().IntVar(&sample, "sample", 0, "tune on N corpus datasets drawn at random with --seed (0: all)")
	cmd.Flags().Uint64Var(&sampleSeed, "seed", 1, "seed of --sample")
	cmd.Flags().StringSliceVar(&names, "only", nil, "tune only these corpus tables (file names, comma-separated), after --sample and --limit")
	cmd.Flags().IntVar(&limit, "limit", 0, "tune on at most N corpus datasets, evenly spaced in the manifest (0: all)")
	cmd.Flags().IntVar(&wo.Trials, "trials", 30, "trial budget of each cold and warm study")
	cmd.Flags().StringVar(&wo.Family, "family", "gbdt", "family tuned")
	cmd.Flags().StringVar(&kbFile, "kb", "", "knowledge base file written by meta build (default: the shipped one)")
	cmd.Flags().IntVar(&k, "k", 5, "nearest known datasets advising")
	cmd.Flags().StringVar(&ranker, "ranker", meta.RankSurrogate, "how the nearest datasets' configurations are ranked: surrogate or neighbours")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every dataset's scores")
	return cmd
}

// metaEvalWarm tunes each corpus dataset of ds cold and warm-started from
// the knowledge base snap without it, and prints the comparison.
func (a *app) metaEvalWarm(cmd *cobra.Command, snap *meta.Snapshot, ds []meta.CorpusDataset, wo meta.WarmEvalOptions, verbose bool) error {
	bars := newProgress(a.stderr, nil)
	wo.Progress = func(done, total int, row *meta.WarmRow) {
		bars.event(progress.Event{Stage: progress.MetaBuild, Name: row.Name, Step: done, Total: total})
		if verbose { // a long evaluation shows each dataset as it ends
			fmt.Fprintf(a.stderr, "%s: reach %d of %d trials, far %v %s\n", row.Name, row.Reach, len(row.Warm), row.Far, row.Err)
		}
	}
	wr, err := meta.EvaluateWarmStart(cmd.Context(), &meta.KB{Records: snap.Records()}, ds, wo)
	bars.wait()
	if err != nil {
		return err
	}
	return printWarm(a.stdout, wr, verbose)
}
