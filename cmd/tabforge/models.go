package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
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
		Short: "List, inspect, promote, alias and roll back registered models",
		Long: `Every training run registers its best model as a version of a registered
model name (train --name, default the data file's stem). Within a name,
versions move between the stages staging, production and archived, free
aliases (champion, challenger, ...) point at versions, and rollback returns
production to the name's previous production version in one step. Names
never touch each other.

A model reference REF is NAME@production, NAME@staging, NAME@ALIAS,
NAME/VERSION or VERSION (a version may be a unique prefix); predict,
evaluate, explain and export take the same references with --model.`,
	}
	var asJSON bool
	var reason string
	list := a.modelsListCommand(&asJSON)
	show := a.modelsShowCommand(&asJSON)
	promote := a.modelsPromoteCommand(&asJSON, &reason)
	rollback := &cobra.Command{
		Use:   "rollback [NAME]",
		Short: "Return a name's production to its previous production version",
		Long: `rollback NAME returns NAME's production to the version that held it before.
Without NAME it acts on the one name that has a production version, and
is a usage error when several do. A VERSION in place of NAME is a check:
it must be the production version being rolled back.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.rollback(cmd, args, reason, asJSON)
		},
	}
	history := a.modelsHistoryCommand(&asJSON)
	verify := a.modelsVerifyCommand(&asJSON)
	alias := a.modelsAliasCommand(&asJSON, &reason)
	for _, c := range []*cobra.Command{promote, rollback} {
		c.Flags().StringVar(&reason, "reason", "", "why, kept in the history")
	}
	for _, c := range []*cobra.Command{list, show, promote, rollback, history, verify} {
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	}
	models.AddCommand(list, show, promote, rollback, history, verify, alias, a.modelsRouteCommand())
	return models
}

// modelsShowCommand is `tabforge models show`; *asJSON is read when it
// runs, after the parent has registered --json.
func (a *app) modelsShowCommand(asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "show REF",
		Short: "Show a model version: name, stage, aliases, metrics, lineage (run, dataset, config, artifact) and history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := notAFile(args[0], "models show"); err != nil {
				return err
			}
			return a.withRegistry(cmd, toRead, func(ctx context.Context, reg *registry.Registry) error {
				d, err := reg.Show(ctx, args[0])
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(d)
				}
				printDetails(a.stdout, d)
				return nil
			})
		},
	}
}

// modelsHistoryCommand is `tabforge models history`; *asJSON is read
// when it runs, after the parent has registered --json.
func (a *app) modelsHistoryCommand(asJSON *bool) *cobra.Command {
	var limit int
	var since string
	cmd := &cobra.Command{
		Use:   "history [NAME|REF]",
		Short: "Show the newest promotions, rollbacks and alias changes (--limit, default 50), oldest first",
		Args:  cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usagef("--limit %d: want 0 (all) or more", limit)
			}
			q := registry.HistoryQuery{Limit: limit}
			if since != "" {
				var err error
				if q.Since, err = parseSince(since, time.Now()); err != nil {
					return usageError{err}
				}
			}
			return a.withRegistry(cmd, toRead, func(ctx context.Context, reg *registry.Registry) error {
				ref := ""
				if len(args) == 1 {
					ref = args[0]
				}
				if q.Limit > 0 {
					q.Limit++ // one more, to tell whether there are older ones
				}
				h, err := reg.HistoryWith(ctx, ref, q)
				if err != nil {
					return err
				}
				more := limit > 0 && len(h) > limit
				if more {
					h = h[1:]
				}
				if *asJSON {
					return json.NewEncoder(a.stdout).Encode(h)
				}
				printHistory(a.stdout, h, "")
				if more {
					fmt.Fprintf(a.stderr, "the newest %d events; older ones with --limit 0 or --since\n", limit)
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "show the newest N events; 0 shows all")
	cmd.Flags().StringVar(&since, "since", "", "show events at or after a time: a duration back from now (72h or 30d) or a date (2026-01-31, UTC; or RFC 3339)")
	return cmd
}

// parseSince reads --since: a duration back from now (Go's, or whole
// days as gc's durations take them: 30d), or a date or time (RFC 3339; a
// date alone is midnight UTC, the zone history prints its times in).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	var d age // "30d" was refused here while gc --older-than took it
	if err := d.Set(s); err == nil {
		return now.Add(-time.Duration(d)), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration back from now (72h or 30d), a date (2026-01-31) or an RFC 3339 time", s)
}

func (a *app) modelsVerifyCommand(asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "verify [REF]",
		Short: "Load a model version's artifact (default: the production version), checking its checksum and format",
		Args:  cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRegistry(cmd, toRead, func(ctx context.Context, reg *registry.Registry) error {
				ref, err := productionRef(ctx, reg, args, "models verify")
				if err != nil {
					return err
				}
				if err := notAFile(ref, "models verify"); err != nil {
					return err
				}
				m, err := reg.Resolve(ctx, ref)
				if err != nil {
					return err
				}
				p, err := pipeline.LoadVersion(ctx, m)
				if err != nil {
					if *asJSON {
						// The failed check is the answer a script asked for,
						// in the shape of a passed one.
						json.NewEncoder(a.stdout).Encode(map[string]any{"name": m.Name, "version": m.Version, "artifact": m.Artifact, "ok": false, "error": err.Error()})
					}
					return err
				}
				if *asJSON {
					return json.NewEncoder(a.stdout).Encode(map[string]any{"name": m.Name, "version": m.Version, "artifact": m.Artifact, "family": p.Family(), "members": p.MemberNames(), "ok": true})
				}
				fmt.Fprintf(a.stdout, "%s ok: %s model of %s, %s, sha256 %s verified\n", m.Version, modelText(p), m.Name, m.Artifact, m.Artifact.SHA256)
				return nil
			})
		},
	}
}

func (a *app) modelsListCommand(asJSON *bool) *cobra.Command {
	var name string
	list := &cobra.Command{
		Use:   "list [--name NAME]",
		Short: "List model versions grouped by name, newest first, with stages and aliases",
		Long: `List model versions grouped by name, newest first, with stages and aliases.

While a Redis store is unreachable and tabforge runs on its SQLite fallback,
the list holds only the versions registered during the outage: it is
printed (and the command exits 0, as other commands keep working on the
fallback), with a note on stderr saying that versions registered in Redis
are not listed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withRegistry(cmd, toRead, func(ctx context.Context, reg *registry.Registry) error {
				ms, err := reg.List(ctx, name)
				if err != nil {
					return err
				}
				if err := reg.Partial(); err != nil {
					fmt.Fprintf(a.stderr, "tabforge: note: %v, so versions registered there are not listed\n", err)
				}
				if *asJSON {
					return json.NewEncoder(a.stdout).Encode(ms)
				}
				printModels(a.stdout, ms)
				return nil
			})
		},
	}
	list.Flags().StringVar(&name, "name", "", "only the versions of this registered model name")
	return list
}

func (a *app) modelsPromoteCommand(asJSON *bool, reason *string) *cobra.Command {
	var stage string
	var force bool
	promote := &cobra.Command{
		Use:   "promote REF --stage production|staging|archived|rollback",
		Short: "Move a model version to a stage of its name, or roll production back (--stage rollback)",
		Long: `promote REF --stage production puts the version into production of its own
name (a version that failed its quality gates needs --force); --stage staging
and --stage archived move it to those stages. Other names are not touched.
--stage rollback does what models rollback does: REF is the name to roll
back (or its production version, as a check), and may be left out when only
one name has a production version.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.EqualFold(stage, "rollback") {
				return a.rollback(cmd, args, *reason, *asJSON)
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
			if err := notAFile(args[0], "models promote"); err != nil {
				return err
			}
			return a.withRegistry(cmd, toWrite, func(ctx context.Context, reg *registry.Registry) error {
				// A version about to serve must load: a corrupt or missing
				// artifact is refused here, not found by the server.
				e, err := reg.Promote(ctx, args[0], st, registry.PromoteOptions{Force: force, Reason: *reason, Check: pipeline.CheckLoads})
				if nd, ok := errors.AsType[*registry.NotDeployableError](err); ok {
					return fmt.Errorf("models promote %s (%s): %w; add --force to promote it anyway", nd.Version, nd.Name, registry.ErrNotDeployable)
				}
				if err != nil {
					return err
				}
				return a.printEvent(ctx, reg, args[0], "promote", e, *asJSON)
			})
		},
	}
	promote.Flags().StringVar(&stage, "stage", "", "production, staging, archived, or rollback")
	promote.Flags().BoolVar(&force, "force", false, "allow a model that failed its quality gates into production")
	return promote
}

func (a *app) modelsAliasCommand(asJSON *bool, reason *string) *cobra.Command {
	alias := &cobra.Command{
		Use:   "alias",
		Short: "Point a name's aliases (champion, challenger, ...) at its versions",
		Long: `An alias is a free label of a registered name (lower-case letters, digits,
'_' and '-'; not a stage name) pointing at one version of that name, so
NAME@ALIAS addresses it anywhere a model is taken.`,
	}
	set := &cobra.Command{
		Use:   "set NAME ALIAS REF",
		Short: "Point ALIAS of NAME at a version of NAME",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRegistry(cmd, toWrite, func(ctx context.Context, reg *registry.Registry) error {
				e, err := reg.SetAlias(ctx, args[0], args[1], args[2], registry.PromoteOptions{Reason: *reason})
				if err != nil {
					return err
				}
				return a.printEvent(ctx, reg, args[0]+"@"+args[1], "alias", e, *asJSON)
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm NAME ALIAS",
		Short: "Remove ALIAS of NAME",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRegistry(cmd, toWrite, func(ctx context.Context, reg *registry.Registry) error {
				e, err := reg.RemoveAlias(ctx, args[0], args[1], registry.PromoteOptions{Reason: *reason})
				if err != nil {
					return err
				}
				return a.printEvent(ctx, reg, "", "unalias", e, *asJSON)
			})
		},
	}
	for _, c := range []*cobra.Command{set, rm} {
		c.Flags().StringVar(reason, "reason", "", "why, kept in the history")
		c.Flags().BoolVar(asJSON, "json", false, "print JSON")
	}
	alias.AddCommand(set, rm)
	return alias
}

// withRegistry opens the configured store, migrating a registry written
// before model names, and runs f on its registry.
func (a *app) withRegistry(cmd *cobra.Command, use storeUse, f func(context.Context, *registry.Registry) error) error {
	st, err := a.storeFor(cmd, use)
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := registry.Open(cmd.Context(), st)
	if err != nil {
		return err
	}
	return f(cmd.Context(), reg)
}

// loadModel loads --model REF: a saved model file, or a registered model
// version from the configured store, which is opened only then.
func (a *app) loadModel(cmd *cobra.Command, ref string) (*pipeline.Predictor, error) {
	var st store.Store
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	p, _, err := pipeline.LoadModel(cmd.Context(), ref, func(ctx context.Context) (*registry.Registry, error) {
		s, err := a.storeFor(cmd, toRead)
		if err != nil {
			return nil, err
		}
		st = s
		return registry.Open(ctx, s)
	})
	return p, err
}

// productionNames returns the names that have a production version.
func productionNames(ctx context.Context, reg *registry.Registry) ([]string, error) {
	ms, err := reg.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range ms {
		if m.Stage == registry.Production {
			names = append(names, m.Name)
		}
	}
	return names, nil
}

// notAFile refuses a model file where a registered version is needed.
func notAFile(ref, what string) error {
	if st, err := os.Stat(ref); err == nil && !st.IsDir() {
		return usagef("%s: %s is a file, not a registered model version (predict --model takes files)", what, ref)
	}
	return nil
}

// productionRef returns the reference args give, or else NAME@production
// of the one name with a production version; several are a usage error.

func productionRef(ctx context.Context, reg *registry.Registry, args []string, what string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	names, err := productionNames(ctx, reg)
	if err != nil {
		return "", err
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("%s: %w", what, registry.ErrNoProduction)
	case 1:
		return names[0] + "@production", nil
	}
	return "", usagef("%s: %d names have a production version (%s); say which, e.g. %s@production", what, len(names), strings.Join(names, ", "), names[0])
}

func (a *app) rollback(cmd *cobra.Command, args []string, reason string, asJSON bool) error {
	return a.withRegistry(cmd, toWrite, func(ctx context.Context, reg *registry.Registry) error {
		name, err := rollbackName(ctx, reg, args)
		if err != nil {
			return err
		}
		e, err := reg.Rollback(ctx, name, registry.PromoteOptions{Reason: reason, Check: pipeline.CheckLoads})
		if err != nil {
			return err
		}
		return a.printEvent(ctx, reg, e.Version, "rollback", e, asJSON)
	})
}

// rollbackName is the name a rollback acts on: the NAME given, the name of
// the VERSION given (which must be its production version), or the one
// name with a production version.
func rollbackName(ctx context.Context, reg *registry.Registry, args []string) (string, error) {
	if len(args) == 0 {
		ref, err := productionRef(ctx, reg, args, "rollback")
		if err != nil {
			return "", err
		}
		return strings.TrimSuffix(ref, "@production"), nil
	}
	names, err := reg.Names(ctx)
	if err != nil {
		return "", err
	}
	if slices.Contains(names, args[0]) {
		return args[0], nil
	}
	// A version is a guard: it must be the one being rolled back.
	want, err := reg.Resolve(ctx, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return "", reg.Missing(fmt.Errorf("rollback: %q is neither a model name (%s) nor a model version: %w",
			args[0], registry.DescribeNames(names), registry.ErrUnknownName), "names and versions")
	}
	if err != nil {
		return "", err
	}
	if want.Stage != registry.Production {
		cur, err := reg.Production(ctx, want.Name)
		if err != nil {
			return "", fmt.Errorf("rollback: %s is not in production: %w", want.Version, err)
		}
		return "", fmt.Errorf("rollback: %s is not in production (%s is %s's); rollback leaves the production version for the previous one: give the NAME or the production version", want.Version, cur.Version, want.Name)
	}
	return want.Name, nil
}

// eventJSON is what a registry change prints under --json: its event
// and "changed" true.
type eventJSON struct {
	*registry.Event
	Changed bool `json:"changed"`
}

// unchangedJSON is what a registry change that found nothing to change
// prints under --json: the action asked for (and the alias of an alias
// change), the version's name, stage and aliases, and "changed" false.
// It carries eventJSON's "changed", "action", "name", "version" and
// "alias", so a script reads both the same way ("changed" used to be
// printed only when false, and "action" never then).
type unchangedJSON struct {
	Name    string         `json:"name"`
	Action  string         `json:"action"`
	Version string         `json:"version"`
	Stage   registry.Stage `json:"stage"`
	Alias   string         `json:"alias,omitempty"`
	Aliases []string       `json:"aliases"`
	Changed bool           `json:"changed"`
}

// printEvent prints the change e made, or, when it is nil (nothing
// changed), the state of ref, which action asked for already.
func (a *app) printEvent(ctx context.Context, reg *registry.Registry, ref, action string, e *registry.Event, asJSON bool) error {
	if e == nil {
		m, err := reg.Resolve(ctx, ref)
		if err != nil {
			return err
		}
		if asJSON {
			u := unchangedJSON{Name: m.Name, Action: action, Version: m.Version, Stage: m.Stage, Aliases: m.Aliases}
			if u.Aliases == nil {
				u.Aliases = []string{}
			}
			if action == "alias" {
				_, u.Alias, _ = strings.Cut(ref, "@")
			}
			return json.NewEncoder(a.stdout).Encode(u)
		}
		fmt.Fprintf(a.stdout, "%s: %s is already %s; nothing changed\n", m.Name, m.Version, describeStage(m))
		return nil
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(eventJSON{Event: e, Changed: true})
	}
	var verb string
	switch e.Action {
	case "rollback":
		verb = "rolled back production to " + e.Version
	case "alias":
		verb = "alias " + e.Alias + " now points at " + e.Version
	case "unalias":
		verb = "removed alias " + e.Alias + " (it pointed at " + e.Version + ")"
	case "route":
		verb = "traffic route: " + e.Reason
	default:
		verb = "promoted " + e.Version + " to " + string(e.Stage)
	}
	if e.Replaced != "" {
		verb += " (was " + e.Replaced + ")"
	}
	if e.Forced {
		verb += ", forced past failed quality gates"
	}
	// The registry's write is what the call timed; a running tabforge
	// serve switches only once it has seen the change and loaded the
	// version, so "took effect" (as this said) was false at the moment a
	// client could check.
	fmt.Fprintf(a.stdout, "%s: %s; recorded in %s (a running tabforge serve switches within a second)\n",
		e.Name, verb, time.Duration(e.Seconds*float64(time.Second)).Round(time.Microsecond))
	return nil
}

// describeStage is a version's stage and aliases, e.g. "production,
// @champion".
func describeStage(m *registry.Model) string {
	s := string(m.Stage)
	for _, al := range m.Aliases {
		s += ", @" + al
	}
	return s
}

// registrar opens the registry of the store and the artifact store of
// cfg for train's register stage; close releases the artifact store.
func (a *app) registrar(ctx context.Context, cfg *config.Config, rec store.Swapper, code string) (r pipeline.StoreRegistrar, close func() error, err error) {
	arts, err := artifact.Open(ctx, cfg.Artifacts)
	if err != nil {
		return r, nil, err
	}
	reg, err := registry.Open(ctx, rec)
	if err != nil {
		arts.Close()
		return r, nil, err
	}
	return pipeline.StoreRegistrar{Registry: reg, Artifacts: arts, CodeVersion: code}, arts.Close, nil
}
