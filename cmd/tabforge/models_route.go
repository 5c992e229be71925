package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/registry"
)

// modelsRouteCommand is `tabforge models route NAME`: set, show or clear
// the traffic route a server of NAME follows.
func (a *app) modelsRouteCommand() *cobra.Command {
	var split, key, reason string
	var shadow []string
	var clear, asJSON bool
	cmd := &cobra.Command{
		Use:   "route NAME [--split T1=90,T2=10] [--shadow T3] [--key FIELD] | --clear",
		Short: "Split a name's serving traffic between versions (A/B), mirror it to shadow versions",
		Long: `route sets how tabforge serve divides NAME's requests. A target T is a version
of NAME (a unique prefix will do) or one of its labels: production, staging or
an alias such as challenger; a label follows the version holding it, so
--split production=90,challenger=10 keeps working across promotions.
--split sends each request to one target with probability proportional to its
weight; requests with the header X-Routing-Key (or the input field --key) stick
to one target. --shadow targets get a copy of every request as capacity allows (at most
half serve's --max-concurrent at once; the rest are dropped and counted in
tabforge_shadow_dropped_total): their answers are logged, never returned. Without flags it shows the route; --clear removes it
(all traffic to production). Changes are kept in the history.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set := split != "" || len(shadow) > 0 || key != ""
			if set && clear {
				return usagef("models route: --clear removes the route; drop --split, --shadow and --key")
			}
			rt := registry.Route{Shadow: shadow, Key: key}
			if split != "" {
				var err error
				if rt.Split, err = registry.ParseSplit(split); err != nil {
					return usageError{err}
				}
			}
			use := toWrite
			if !set && !clear {
				use = toRead // shows the route
			}
			return a.withRegistry(cmd, use, func(ctx context.Context, reg *registry.Registry) error {
				if !set && !clear {
					return a.printRoute(ctx, reg, args[0], asJSON)
				}
				e, err := reg.SetRoute(ctx, args[0], rt, registry.PromoteOptions{Reason: reason})
				if errors.Is(err, registry.ErrBadRoute) {
					return usageError{err}
				}
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(e)
				}
				fmt.Fprintf(a.stdout, "%s: %s\n", e.Name, e.Reason)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&split, "split", "", "weighted targets, e.g. production=90,challenger=10")
	f.StringArrayVar(&shadow, "shadow", nil, "target that gets a copy of the traffic (repeatable)")
	f.StringVar(&key, "key", "", "input field whose value makes routing sticky (the X-Routing-Key header wins)")
	f.BoolVar(&clear, "clear", false, "remove the route: all traffic to production")
	f.StringVar(&reason, "reason", "", "why, kept in the history")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printRoute prints NAME's serving plan: its route resolved to versions.
func (a *app) printRoute(ctx context.Context, reg *registry.Registry, name string, asJSON bool) error {
	p, err := reg.Plan(ctx, name)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(p)
	}
	if len(p.Split) == 0 {
		fmt.Fprintf(a.stdout, "%s: all traffic to production (%s)\n", name, p.Production)
	}
	for _, s := range p.Split {
		fmt.Fprintf(a.stdout, "%s: %s (%s) weight %d\n", name, s.Label, s.Version, s.Weight)
	}
	for _, v := range p.Shadow {
		fmt.Fprintf(a.stdout, "%s: shadow %s\n", name, v)
	}
	if p.Key != "" {
		fmt.Fprintf(a.stdout, "%s: sticky by field %s\n", name, p.Key)
	}
	return nil
}
