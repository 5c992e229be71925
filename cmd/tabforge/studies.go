package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

func (a *app) studiesCommand() *cobra.Command {
	studies := &cobra.Command{Use: "studies", Short: "List and inspect hyperparameter tuning studies"}
	var asJSON, all bool
	list := &cobra.Command{
		Use:   "list [RUN]",
		Short: "List studies (those of one run, given its id or prefix) with trial counts and best value",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, toRead, func(st store.Store) error {
				prefix := ""
				if len(args) == 1 {
					r, err := st.GetRun(cmd.Context(), args[0])
					if err != nil {
						return err
					}
					prefix = pipeline.RunStudyPrefix(r)
				}
				ss, err := pipeline.Studies(cmd.Context(), st, prefix)
				if err != nil {
					return err
				}
				if asJSON {
					if ss == nil {
						ss = []pipeline.StudySummary{}
					}
					return json.NewEncoder(a.stdout).Encode(ss)
				}
				return printStudyList(a.stdout, ss)
			})
		},
	}
	show := &cobra.Command{
		Use:   "show STUDY|RUN",
		Short: "Show a study's trials (name or unique prefix), or those of every study of a run: parameter importance, then each trial's number, state, value, duration, value per CV fold, parameters, and for queued trials the workers and queue and run times",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, toRead, func(st store.Store) error {
				return a.showStudies(cmd, st, args[0], asJSON, all)
			})
		},
	}
	for _, c := range []*cobra.Command{list, show} {
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	}
	show.Flags().BoolVar(&all, "all", false, fmt.Sprintf("print every trial; without it a study of more than %d trials prints its %d best (--json always has every trial)", shownTrials, shownTrials))
	studies.AddCommand(list, show)
	return studies
}

// printStudyList renders studies list's table.
func printStudyList(w io.Writer, ss []pipeline.StudySummary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY\tDIRECTION\tTRIALS\tCOMPLETE\tPRUNED\tBEST\tBEST TRIAL")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Direction, s.Trials, s.Complete, s.Pruned, metricText(s.Best), bestAtText(s.BestAt))
	}
	return tw.Flush()
}

// bestAtText renders a study's best trial number: "-" for the -1 of a
// study without a complete trial (an interrupted or fully pruned one),
// which printed as trial -1.
func bestAtText(n int) string {
	if n < 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// trialRow is one trial as studies show prints it.
type trialRow struct {
	Number int        `json:"number"`
	State  tune.State `json:"state"`
	// Interrupted marks a fail trial cut short (a deadline, Ctrl-C, its
	// process gone), not failed of itself: it is retried.
	Interrupted bool           `json:"interrupted,omitempty"`
	Value       *float64       `json:"value,omitempty"`
	Seconds     float64        `json:"seconds,omitempty"`
	Params      map[string]any `json:"params"`
	Best        bool           `json:"best,omitempty"`
	// Intermediate are the values the trial reported by step, as
	// Optuna's intermediate_values: the mean CV score of folds 1..step.
	// FoldValues are the scores of each fold (pipeline.FoldValues). A
	// non-finite value is null.
	Intermediate map[int]*float64 `json:"intermediate_values,omitempty"`
	FoldValues   []*float64       `json:"fold_values,omitempty"`
	// Worker lists the workers that ran the trial's fold units on a
	// queue, in fold order without repeats; QueuedMS is the units' mean
	// time from publishing to start, RunMS their summed run time.
	Worker   string             `json:"worker,omitempty"`
	QueuedMS *float64           `json:"queued_ms,omitempty"`
	RunMS    *float64           `json:"run_ms,omitempty"`
	Units    []pipeline.UnitRun `json:"units,omitempty"`
}

// MarshalJSON writes a trial value of ±Inf (a diverged fit) as null,
// which JSON can hold; the table says +Inf.
func (r trialRow) MarshalJSON() ([]byte, error) {
	type plain trialRow
	p := plain(r)
	if p.Value != nil {
		p.Value = eval.JSONValue(*p.Value)
	}
	return json.Marshal(p)
}

// studyView is one study as studies show prints it.
type studyView struct {
	Study pipeline.StudySummary `json:"study"`
	// Importance ranks the parameters, most important first
	// (tune.Importance, as the web UI's study page).
	Importance []tune.ParamImportance `json:"importance,omitempty"`
	Trials     []trialRow             `json:"trials"`
	// all prints every trial rather than the best shownTrials.
	all bool
}

// showStudies prints the study named (or prefixed) by arg, or when no
// study matches and arg names a run, every study of the run.
func (a *app) showStudies(cmd *cobra.Command, st store.Store, arg string, asJSON, every bool) error {
	ctx := cmd.Context()
	all, err := st.ListStudies(ctx)
	if err != nil {
		return err
	}
	var match []store.Study
	for _, s := range all {
		if s.Name == arg {
			match = []store.Study{s}
			break
		}
		if strings.HasPrefix(s.Name, arg) {
			match = append(match, s)
		}
	}
	run := false
	if len(match) == 0 {
		r, rerr := st.GetRun(ctx, arg)
		if rerr != nil {
			return fmt.Errorf("study or run %q: %w", arg, store.ErrNotFound)
		}
		run = true
		for _, s := range all {
			if strings.HasPrefix(s.Name, pipeline.RunStudyPrefix(r)) {
				match = append(match, s)
			}
		}
	} else if len(match) > 1 {
		return usagef("study prefix %q matches %d studies; give more of the name (see 'tabforge studies list')", arg, len(match))
	}
	views := make([]studyView, len(match))
	for i, s := range match {
		if views[i], err = studyRows(ctx, st, s); err != nil {
			return err
		}
		views[i].all = every
	}
	if asJSON {
		if run {
			return json.NewEncoder(a.stdout).Encode(views)
		}
		return json.NewEncoder(a.stdout).Encode(views[0])
	}
	for i, v := range views {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		if err := a.printStudy(v); err != nil {
			return err
		}
	}
	return nil
}

// studyRows reads a study's trials and where their units ran.
func studyRows(ctx context.Context, st store.Store, study store.Study) (studyView, error) {
	trials, err := st.Trials(ctx, study.ID)
	if err != nil {
		return studyView{}, err
	}
	units, err := pipeline.TrialUnits(ctx, st, study.Name)
	if err != nil {
		return studyView{}, err
	}
	s := pipeline.SummarizeStudy(study, trials)
	rows := make([]trialRow, len(trials))
	for i, t := range trials {
		r := trialRow{Number: t.Number, State: t.State, Interrupted: t.Interrupted(), Params: map[string]any{}, Best: t.Number == s.BestAt}
		r.setUnits(units[t.Number])
		if !math.IsNaN(t.Value) {
			v := t.Value
			r.Value = &v
		}
		if !t.Start.IsZero() && t.Finish.After(t.Start) {
			r.Seconds = t.Finish.Sub(t.Start).Round(time.Millisecond).Seconds()
		}
		for k, v := range t.Params {
			r.Params[k] = t.Distributions[k].External(v)
		}
		r.setIntermediate(t.Intermediate)
		rows[i] = r
	}
	return studyView{Study: s, Importance: tune.Importance(trials), Trials: rows}, nil
}

// setUnits sets the row's worker and timing columns from its units.
func (r *trialRow) setUnits(units []pipeline.UnitRun) {
	if len(units) == 0 {
		return
	}
	var workers []string
	queued, ran := 0.0, 0.0
	for _, u := range units {
		if !slices.Contains(workers, u.Worker) {
			workers = append(workers, u.Worker)
		}
		queued += u.QueuedMS
		ran += u.RunMS
	}
	queued /= float64(len(units))
	r.Worker, r.QueuedMS, r.RunMS, r.Units = strings.Join(workers, ","), &queued, &ran, units
}

func (a *app) printStudy(v studyView) error {
	s := v.Study
	best := "no complete trial"
	if s.BestAt >= 0 {
		best = fmt.Sprintf("best %s at trial %d", metricText(s.Best), s.BestAt)
	}
	fmt.Fprintf(a.stdout, "study %s (%s): %d trials, %d complete, %d pruned, %s\n",
		s.Name, s.Direction, s.Trials, s.Complete, s.Pruned, best)
	if err := printImportance(a.stdout, v.Importance, s.Complete); err != nil {
		return err
	}
	rows, note := v.shown()
	queued := slices.ContainsFunc(rows, func(r trialRow) bool { return r.Worker != "" })
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	if queued {
		fmt.Fprintln(tw, "TRIAL\tSTATE\tVALUE\tSECONDS\tFOLD VALUES\tWORKER\tQUEUED MS\tRUN MS\tPARAMS")
	} else {
		fmt.Fprintln(tw, "TRIAL\tSTATE\tVALUE\tSECONDS\tFOLD VALUES\tPARAMS")
	}
	for _, r := range rows {
		mark := ""
		if r.Best {
			mark = " *"
		}
		var ps []string
		for _, k := range slices.Sorted(maps.Keys(r.Params)) {
			ps = append(ps, k+"="+paramText(r.Params[k]))
		}
		state := string(r.State)
		if r.Interrupted {
			state = "interrupted"
		}
		cols := fmt.Sprintf("%d%s\t%s\t%s\t%s\t%s\t", r.Number, mark, state, metricText(r.Value), strconv.FormatFloat(r.Seconds, 'f', 3, 64),
			foldsText(r.FoldValues))
		if queued {
			cols += fmt.Sprintf("%s\t%s\t%s\t", orDash(r.Worker), msText(r.QueuedMS), msText(r.RunMS))
		}
		if len(ps) == 0 {
			// A trial that sampled nothing scored the family's defaults
			// (with model_params): trial 0 of a cold study. A blank
			// column read as parameters missing.
			ps = []string{"(defaults)"}
		}
		fmt.Fprintln(tw, cols+strings.Join(ps, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(a.stdout, note)
	}
	return nil
}

func msText(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}
