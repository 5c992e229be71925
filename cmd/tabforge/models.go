package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// modelsCommand is `tabforge models`: the model registry.
func (a *app) modelsCommand() *cobra.Command {
	models := &cobra.Command{
		Use:   "models",
		Short: "List, inspect, promote and roll back registered model versions",
		Long: `Every training run registers its best model as a version: a hash of the
dataset version, config, seed and code version. Versions move between the
stages staging, production and archived; rollback returns production to the
previous production version in one step. VERSION may be a unique prefix.`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List model versions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withRegistry(cmd, func(ctx context.Context, reg *registry.Registry) error {
				ms, err := reg.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(ms)
				}
				printModels(a.stdout, ms)
				return nil
			})
		},
	}
	show := &cobra.Command{
		Use:   "show VERSION",
		Short: "Show a model version: stage, metrics, lineage (run, dataset, config, artifact) and history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRegistry(cmd, func(ctx context.Context, reg *registry.Registry) error {
				d, err := reg.Show(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(d)
				}
				printDetails(a.stdout, d)
				return nil
			})
		},
	}
	var stage, reason string
	var force bool
	promote := &cobra.Command{
		Use:   "promote VERSION --stage production|staging|archived|rollback",
		Short: "Move a model version to a stage, or roll production back (--stage rollback)",
		Long: `promote VERSION --stage production puts VERSION into production (a version that
failed its quality gates needs --force); --stage staging and --stage archived
move it to those stages. --stage rollback returns production to the previous
production version; it takes no VERSION, or the current production version as
a check.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.EqualFold(stage, "rollback") {
				return a.rollback(cmd, args, reason, asJSON)
			}
			if stage == "" {
				return usagef("models promote: --stage is required (production, staging, archived or rollback)")
			}
			st, err := registry.ParseStage(stage)
			if err != nil {
				return usageError{err}
			}
			if len(args) != 1 {
				return usagef("models promote: give the VERSION to move to %s", st)
			}
			return a.withRegistry(cmd, func(ctx context.Context, reg *registry.Registry) error {
				e, err := reg.Promote(ctx, args[0], st, registry.PromoteOptions{Force: force, Reason: reason})
				if err != nil {
					return err
				}
				return a.printEvent(ctx, reg, args[0], st, e, asJSON)
			})
		},
	}
	promote.Flags().StringVar(&stage, "stage", "", "production, staging, archived, or rollback")
	promote.Flags().BoolVar(&force, "force", false, "allow a model that failed its quality gates into production")
	rollback := &cobra.Command{
		Use:   "rollback",
		Short: "Return production to the previous production version",
		Args:  cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.rollback(cmd, args, reason, asJSON)
		},
	}
	history := &cobra.Command{
		Use:   "history [VERSION]",
		Short: "Show the history of promotions and rollbacks, oldest first",
		Args:  cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRegistry(cmd, func(ctx context.Context, reg *registry.Registry) error {
				v := ""
				if len(args) == 1 {
					v = args[0]
				}
				h, err := reg.History(ctx, v)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(h)
				}
				printHistory(a.stdout, h, "")
				return nil
			})
		},
	}
	verify := &cobra.Command{
		Use:   "verify [VERSION]",
		Short: "Load a model version's artifact (default: production), checking its checksum and format",
		Args:  cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRegistry(cmd, func(ctx context.Context, reg *registry.Registry) error {
				var m *registry.Model
				var err error
				if len(args) == 1 {
					m, err = reg.Get(ctx, args[0])
				} else {
					m, err = reg.Production(ctx)
				}
				if err != nil {
					return err
				}
				arts, err := artifact.Open(ctx, m.Artifact.URL)
				if err != nil {
					return err
				}
				defer arts.Close()
				p, err := pipeline.LoadRegistered(ctx, arts, m)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(map[string]any{"version": m.Version, "artifact": m.Artifact, "family": p.Family(), "ok": true})
				}
				fmt.Fprintf(a.stdout, "%s ok: %s model, %s, sha256 %s verified\n", m.Version, p.Family(), m.Artifact, m.Artifact.SHA256)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{promote, rollback} {
		c.Flags().StringVar(&reason, "reason", "", "why, kept in the history")
	}
	for _, c := range []*cobra.Command{list, show, promote, rollback, history, verify} {
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	}
	models.AddCommand(list, show, promote, rollback, history, verify)
	return models
}

// withRegistry opens the configured store and runs f on its registry.
func (a *app) withRegistry(cmd *cobra.Command, f func(context.Context, *registry.Registry) error) error {
	st, err := a.storeFor(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	var rec store.Records = st
	return f(cmd.Context(), registry.New(rec))
}

func (a *app) rollback(cmd *cobra.Command, args []string, reason string, asJSON bool) error {
	return a.withRegistry(cmd, func(ctx context.Context, reg *registry.Registry) error {
		if len(args) == 1 {
			// A VERSION is a guard: it must be the one being rolled back.
			want, err := reg.Get(ctx, args[0])
			if err != nil {
				return err
			}
			cur, err := reg.Production(ctx)
			if err != nil {
				return err
			}
			if cur.Version != want.Version {
				return fmt.Errorf("rollback: %s is not in production (%s is); rollback leaves the production version for the previous one, give no VERSION or the production one", want.Version, cur.Version)
			}
		}
		e, err := reg.Rollback(ctx, registry.PromoteOptions{Reason: reason})
		if err != nil {
			return err
		}
		return a.printEvent(ctx, reg, e.Version, registry.Production, e, asJSON)
	})
}

func (a *app) printEvent(ctx context.Context, reg *registry.Registry, v string, st registry.Stage, e *registry.Event, asJSON bool) error {
	if e == nil {
		m, err := reg.Get(ctx, v)
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(a.stdout).Encode(map[string]any{"version": m.Version, "stage": m.Stage, "changed": false})
		}
		fmt.Fprintf(a.stdout, "%s is already %s; nothing changed\n", m.Version, m.Stage)
		return nil
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(e)
	}
	verb := "promoted " + e.Version + " to " + string(e.Stage)
	if e.Action == "rollback" {
		verb = "rolled back production to " + e.Version
	}
	if e.Replaced != "" {
		verb += " (was " + e.Replaced + ")"
	}
	if e.Forced {
		verb += ", forced past failed quality gates"
	}
	fmt.Fprintf(a.stdout, "%s; took effect in %s\n", verb, time.Duration(e.Seconds*float64(time.Second)).Round(time.Microsecond))
	return nil
}

// registerRun registers the run's best model (file copied into the
// artifact bucket of cfg.Artifacts) under the code version code.
func (a *app) registerRun(ctx context.Context, cfg *config.Config, rec store.Records, res *pipeline.Result, code string) (*registry.Model, bool, error) {
	arts, err := artifact.Open(ctx, cfg.Artifacts)
	if err != nil {
		return nil, false, err
	}
	defer arts.Close()
	return pipeline.Register(ctx, registry.New(rec), arts, cfg, res, code)
}

// trainOutput is train --json's object: the run's result plus the model
// version it registered.
type trainOutput struct {
	*pipeline.Result
	ModelVersion string `json:"model_version,omitempty"`
}

func printRegistered(w io.Writer, m *registry.Model, created bool) {
	how := "registered"
	if !created {
		how = "already registered (same data, config, seed and code; this run is added to its lineage)"
	}
	deploy := ""
	if !m.Deployable {
		deploy = ", not deployable"
	}
	fmt.Fprintf(w, "model version %s %s, stage %s%s\n", m.Version, how, m.Stage, deploy)
}

// headlineMetric is the metric a list shows for a task.
func headlineMetric(m *registry.Model) string {
	for _, k := range []string{"r2", "auc", "accuracy"} {
		if v, ok := m.Metrics[k]; ok && (k != "r2" || m.Task == "regression") {
			return k + " " + formatMetric(k, v)
		}
	}
	return "-"
}

func printModels(w io.Writer, ms []*registry.Model) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTAGE\tCREATED\tFAMILY\tTASK\tTEST\tDEPLOYABLE\tRUN\tDATASET")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Version, m.Stage, m.Created.Local().Format("2006-01-02 15:04:05"),
			m.Family, m.Task, headlineMetric(m), yesNo(m.Deployable), m.RunID, shortHash(m.DatasetHash))
	}
	tw.Flush()
}

func printDetails(w io.Writer, d *registry.Details) {
	m, l := d.Model, d.Lineage
	fmt.Fprintf(w, "model %s  stage %s  deployable %s\n", m.Version, m.Stage, yesNo(m.Deployable))
	fmt.Fprintf(w, "family %s  task %s  target %s  created %s\n", m.Family, m.Task, m.Target, m.Created.Local().Format(time.RFC3339))
	keys := make([]string, 0, len(m.Metrics))
	for k := range m.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+formatMetric(k, m.Metrics[k]))
	}
	fmt.Fprintf(w, "test: %s\n", strings.Join(parts, "  "))
	fmt.Fprintln(w, "lineage:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	runs := l.RunID
	if len(l.Runs) > 0 {
		runs += " (reproduced by " + strings.Join(l.Runs, ", ") + ")"
	}
	fmt.Fprintf(tw, "  run\t%s\n", runs)
	fmt.Fprintf(tw, "  dataset\t%s  %s\n", l.DatasetHash, l.DatasetPath)
	fmt.Fprintf(tw, "  config\t%s  seed %d\n", l.ConfigHash, l.Seed)
	fmt.Fprintf(tw, "  code\t%s\n", l.CodeVersion)
	fmt.Fprintf(tw, "  artifact\t%s  sha256 %s  %d bytes\n", l.Artifact, l.Artifact.SHA256, l.Artifact.Size)
	tw.Flush()
	fmt.Fprintln(w, "history:")
	if len(d.History) == 0 {
		fmt.Fprintln(w, "  (never promoted)")
	}
	printHistory(w, d.History, "  ")
}

func printHistory(w io.Writer, h []registry.Event, indent string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if indent == "" {
		fmt.Fprintln(tw, "TIME\tACTION\tVERSION\tSTAGE\tREPLACED\tREASON")
	}
	for _, e := range h {
		reason := e.Reason
		if e.Forced {
			reason = strings.TrimSpace("forced " + reason)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\n", indent, e.Time.Local().Format("2006-01-02 15:04:05"), e.Action, e.Version, e.Stage, dash(e.Replaced), reason)
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
