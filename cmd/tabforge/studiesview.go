package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/tune"
)

// shownTrials bounds the trials studies show prints without --all: a
// study of hundreds of trials scrolled its header and best trial away.
const shownTrials = 50

// setIntermediate sets the row's intermediate and per-fold values.
func (r *trialRow) setIntermediate(intermediate map[int]float64) {
	if len(intermediate) == 0 {
		return
	}
	r.Intermediate = make(map[int]*float64, len(intermediate))
	for step, v := range intermediate {
		r.Intermediate[step] = eval.JSONValue(v)
	}
	for _, v := range pipeline.FoldValues(intermediate) {
		r.FoldValues = append(r.FoldValues, eval.JSONValue(v))
	}
}

// paramText renders a parameter value, a float to 4 significant digits:
// a sampled float's 17 digits made each row too wide to read.
func paramText(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	return fmt.Sprint(v)
}

// foldsText renders per-fold values as "0.8123 0.7990 …", "-" for none.
func foldsText(vs []*float64) string {
	if len(vs) == 0 {
		return "-"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = metricText(v)
	}
	return strings.Join(out, " ")
}

// shown returns the trials to print, in trial order, and a note saying
// what was left out: every trial with v.all or up to shownTrials of
// them, else the shownTrials best (complete trials by value in the
// study's direction, then pruned ones by their last value, then the
// latest of the rest).
func (v studyView) shown() ([]trialRow, string) {
	if v.all || len(v.Trials) <= shownTrials {
		return v.Trials, ""
	}
	ranked := slices.Clone(v.Trials)
	maximize := v.Study.Direction == tune.Maximize
	slices.SortStableFunc(ranked, func(a, b trialRow) int {
		if c := cmp.Compare(stateRank(a.State), stateRank(b.State)); c != 0 {
			return c
		}
		if a.Value != nil && b.Value != nil && *a.Value != *b.Value {
			if (*a.Value > *b.Value) == maximize {
				return -1
			}
			return 1
		}
		if (a.Value == nil) != (b.Value == nil) {
			if a.Value != nil {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Number, a.Number)
	})
	rows := ranked[:shownTrials]
	slices.SortFunc(rows, func(a, b trialRow) int { return cmp.Compare(a.Number, b.Number) })
	return rows, fmt.Sprintf("(%d of %d trials shown: the best by value; --all prints every trial, --json has them all)", shownTrials, len(v.Trials))
}

// stateRank orders states for shown: complete, pruned, then the rest.
func stateRank(s tune.State) int {
	switch s {
	case tune.Complete:
		return 0
	case tune.Pruned:
		return 1
	}
	return 2
}

// printImportance renders the parameters' importance over complete
// trials, most important first; nothing with fewer than two scored
// trials.
func printImportance(w io.Writer, imp []tune.ParamImportance, complete int) error {
	if len(imp) == 0 {
		return nil
	}
	fmt.Fprintf(w, "parameter importance over %d complete trials (share of the objective's variance each parameter's binned marginal explains, as in the web UI):\n", complete)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PARAM\tSHARE\tETA2")
	for _, p := range imp {
		fmt.Fprintf(tw, "  %s\t%.1f%%\t%.4f\n", p.Name, 100*p.Share, p.Eta2)
	}
	return tw.Flush()
}
