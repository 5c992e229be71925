package main

import (
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/ui"
)

// uiCommand is `tabforge ui`: flags → ui.Options, then serve the
// dashboard until SIGINT or SIGTERM.
func (a *app) uiCommand() *cobra.Command {
	var o ui.Options
	var addr string
	cmd := &cobra.Command{
		Use:   "ui --store URL [--addr 127.0.0.1:8090] [--admin-token TOKEN] [--allow-host NAME]",
		Short: "Serve the web dashboard: runs, comparisons, studies and the model registry",
		Long: `ui serves a dashboard over the store: the runs (filter, sort and page them in
the URL), one run's leaderboard, config, lineage and report, a comparison of
runs showing only the config keys that differ (/compare?runs=a,b), a tuning
study's history, and the model registry. Assets are embedded: it works
offline. It is read-only unless --admin-token (or TABFORGE_ADMIN_TOKEN) is
set; then a model version's page can promote it or roll its name back, each
action needing the token and a confirmation and recorded in the registry's
history. It listens on loopback by default, and there answers only requests
addressed to localhost or a loopback address (a page of another site rebound
to 127.0.0.1 gets 421); --allow-host adds the names a reverse proxy sends.
Admin-token guesses are limited per client address; behind a reverse proxy
that appends to X-Forwarded-For, --trusted-proxy (config key
ui_trusted_proxies) names the proxy, so that each client has its own limit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.AdminToken == "" {
				o.AdminToken = os.Getenv(config.EnvAdminToken)
			}
			log, err := a.logger()
			if err != nil {
				return err
			}
			o.Log = log
			cfg, st, err := a.configStore(cmd, toWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			if o.TrustedProxies, err = cfg.TrustedProxies(); err != nil {
				return err
			}
			// Opened once for its migration: the dashboard reads the
			// registry's current layout (its version index).
			if _, err := registry.Open(cmd.Context(), st); err != nil {
				return err
			}
			srv, err := ui.New(st, o)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("ui: %w", err)
			}
			if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
				log.Warn("the dashboard listens beyond loopback", "addr", ln.Addr().String())
			}
			log.Info("dashboard", "addr", ln.Addr().String(), "admin", o.AdminToken != "")
			fmt.Fprintf(a.stdout, "dashboard on http://%s\n", ln.Addr())
			return srv.Serve(cmd.Context(), ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8090", "listen address (loopback by default)")
	f.StringVar(&o.AdminToken, "admin-token", "", "token enabling promote and rollback (default $TABFORGE_ADMIN_TOKEN; empty: read-only)")
	f.StringSliceVar(&o.AllowHosts, "allow-host", nil, "host names besides loopback ones the dashboard answers on loopback, e.g. a reverse proxy's (comma-separated)")
	trustedProxyFlag(f)
	return cmd
}

// trustedProxyFlag declares --trusted-proxy, the config key
// ui_trusted_proxies (read by loadConfig through flagKeys).
func trustedProxyFlag(f *pflag.FlagSet) {
	f.StringSlice("trusted-proxy", nil, "the reverse proxies in front of this server (addresses or CIDR ranges, comma-separated): "+
		"requests from them count admin-token guesses against the client X-Forwarded-For names (config key ui_trusted_proxies)")
}
