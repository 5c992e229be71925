package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

func (a *app) studiesCommand() *cobra.Command {
	studies := &cobra.Command{Use: "studies", Short: "List and inspect hyperparameter tuning studies"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [RUN]",
		Short: "List studies (those of one run, given its id or prefix) with trial counts and best value",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(st store.Store) error {
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
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "STUDY\tDIRECTION\tTRIALS\tCOMPLETE\tPRUNED\tBEST\tBEST TRIAL")
				for _, s := range ss {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\n", s.Name, s.Direction, s.Trials, s.Complete, s.Pruned, metricText(s.Best), s.BestAt)
				}
				return tw.Flush()
			})
		},
	}
	show := &cobra.Command{
		Use:   "show STUDY",
		Short: "Show a study's trials (name or unique prefix): number, state, value, duration, parameters",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(st store.Store) error {
				return a.showStudy(cmd, st, args[0], asJSON)
			})
		},
	}
	for _, c := range []*cobra.Command{list, show} {
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	}
	studies.AddCommand(list, show)
	return studies
}

// trialRow is one trial as studies show prints it.
type trialRow struct {
	Number  int            `json:"number"`
	State   tune.State     `json:"state"`
	Value   *float64       `json:"value,omitempty"`
	Seconds float64        `json:"seconds,omitempty"`
	Params  map[string]any `json:"params"`
	Best    bool           `json:"best,omitempty"`
}

func (a *app) showStudy(cmd *cobra.Command, st store.Store, name string, asJSON bool) error {
	all, err := st.ListStudies(cmd.Context())
	if err != nil {
		return err
	}
	var match []store.Study
	for _, s := range all {
		if s.Name == name {
			match = []store.Study{s}
			break
		}
		if strings.HasPrefix(s.Name, name) {
			match = append(match, s)
		}
	}
	switch {
	case len(match) == 0:
		return fmt.Errorf("study %q: %w", name, store.ErrNotFound)
	case len(match) > 1:
		return usagef("study prefix %q matches %d studies; give more of the name (see 'tabforge studies list')", name, len(match))
	}
	trials, err := st.Trials(cmd.Context(), match[0].ID)
	if err != nil {
		return err
	}
	s := pipeline.SummarizeStudy(match[0], trials)
	rows := make([]trialRow, len(trials))
	for i, t := range trials {
		r := trialRow{Number: t.Number, State: t.State, Params: map[string]any{}, Best: t.Number == s.BestAt}
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
		rows[i] = r
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(map[string]any{"study": s, "trials": rows})
	}
	fmt.Fprintf(a.stdout, "study %s (%s): %d trials, %d complete, %d pruned, best %s at trial %d\n",
		s.Name, s.Direction, s.Trials, s.Complete, s.Pruned, metricText(s.Best), s.BestAt)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRIAL\tSTATE\tVALUE\tSECONDS\tPARAMS")
	for _, r := range rows {
		mark := ""
		if r.Best {
			mark = " *"
		}
		var ps []string
		for _, k := range slices.Sorted(maps.Keys(r.Params)) {
			ps = append(ps, fmt.Sprintf("%s=%v", k, r.Params[k]))
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%s\t%s\t%s\n", r.Number, mark, r.State, metricText(r.Value), strconv.FormatFloat(r.Seconds, 'f', 3, 64), strings.Join(ps, " "))
	}
	return tw.Flush()
}
