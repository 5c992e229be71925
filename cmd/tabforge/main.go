// Command tabforge trains, evaluates and applies tabular machine-learning
// models. It is a thin layer over tabforge's packages: flags become a
// config.Config, and the work is done by package pipeline.
//
// Exit codes: 0 success, 1 failure, 2 bad usage (flags, config), 70 an
// internal error (a bug), and 128+N for a command that stopped short
// because signal N interrupted it (130 for SIGINT, Ctrl-C; 143 for
// SIGTERM), as shells report a command a signal killed. A command whose
// normal end is a signal (serve, ui, worker, watch) exits 0 when it
// stops cleanly on one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
)

// usageError marks an error caused by how tabforge was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// app holds what every command shares.
type app struct {
	stdout, stderr io.Writer
	logFormat      string
	logLevel       string
	profile        string
	configFile     string
	sets           []string
	store          string
	sep            string
	comma          rune                // sep parsed before any command runs
	readLimit      int64               // frame.ReadOptions.MemoryLimit from the config's read_memory_limit
	missing        []string            // frame.ReadOptions.Missing from the config's missing_values; nil is frame's default
	columnMissing  map[string][]string // frame.ReadOptions.ColumnMissing from its mapping form
	target         string              // the config's target, whose texts monitor realised reads actuals with
	cpuProfile     string
	profileFile    *os.File // open while --cpuprofile records
	logOut         *logSink // the log handler's writer: stderr, or above live progress bars
}

func main() {
	ctx, stop := interruptContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitInternal is the exit code of a panic caught at the top (EX_SOFTWARE
// of sysexits.h): a bug, told apart from a failed run (1) and bad usage (2).
const exitInternal = 70

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return guard(stderr, func() int { return runCommand(ctx, args, stdout, stderr) })
}

// guard runs cmd and turns a panic that escaped it into one clear line on
// stderr and exitInternal, with the stack only when TABFORGE_DEBUG is set,
// so a user sees what to report rather than a goroutine dump.
func guard(stderr io.Writer, cmd func() int) (code int) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fmt.Fprintf(stderr, "tabforge: internal error: %v (this is a bug; please report it with the command line, and the stack printed with TABFORGE_DEBUG=1)\n", r)
		if os.Getenv(config.EnvDebug) != "" {
			stderr.Write(debug.Stack())
		}
		code = exitInternal
	}()
	return cmd()
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	// A failed command (a gate, say) still gets its whole profile.
	if a.profileFile != nil {
		pprof.StopCPUProfile()
		if cerr := a.profileFile.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("--cpuprofile: %w", cerr)
		}
	}
	if err == nil {
		return 0
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "tabforge: %s\n", msg)
	if errors.Is(err, frame.ErrMemoryLimit) {
		fmt.Fprintln(stderr, "tabforge: if this machine can hold the table, raise the limit with --set read_memory_limit=SIZE (such as 32GiB), or 0 for none")
	}
	if s, ok := interruptedBy(ctx); ok {
		if n, ok := s.(syscall.Signal); ok {
			return 128 + int(n) // the run failed because it was stopped
		}
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "tabforge",
		Short:         "Train, tune, evaluate and serve tabular machine-learning models",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&a.profile, "profile", "", "built-in profile: development, production or research")
	pf.StringVar(&a.configFile, "config", "", "YAML config file")
	pf.StringArrayVar(&a.sets, "set", nil, "set any config key: --set KEY=VALUE (repeatable)")
	pf.StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	pf.StringVar(&a.sep, "sep", "", "CSV field separator: , ; tab or | (default: detected from the first lines)")
	pf.StringVar(&a.store, "store", "", "store URL: sqlite:///path/file.db or redis://[:password@]host:port/db (rediss:// for TLS)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if a.comma, err = config.ParseSep(a.sep); err != nil {
			return usageError{fmt.Errorf("--sep: %w", err)}
		}
		if err := a.checkConfigFlags(cmd); err != nil {
			return err
		}
		a.sayWhenInterrupted(cmd.Context()) // in the log format the config chose
		if a.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(a.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		a.profileFile = f
		return nil
	}
	root.AddCommand(a.trainCommand(), a.predictCommand(), a.evaluateCommand(), a.runsCommand(), a.configCommand(), a.benchCommand(), a.exportCommand(), a.importCommand(), a.versionCommand())
	root.AddCommand(a.explainCommand(), a.reportCommand(), a.storeCommand(), a.doctorCommand(), a.modelsCommand(), a.studiesCommand(), a.gcCommand(), a.serveCommand(), a.metaCommand(), a.uiCommand(), a.workerCommand(), a.workersCommand())
	root.AddCommand(a.driftCommand(), a.genCommand(), a.retrainCommand(), a.backtestCommand(), a.watchCommand(), a.monitorCommand())
	argsAreUsage(root)
	return root
}

// argsAreUsage makes a wrong argument count, and an unknown subcommand,
// bad usage (exit 2) on every command of the tree, as flag errors are. A
// command group run without a subcommand prints its help.
func argsAreUsage(c *cobra.Command) {
	switch check := c.Args; {
	case !c.Runnable() && c.HasSubCommands():
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		}
	case check != nil:
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		argsAreUsage(sub)
	}
}

// checkConfigFlags loads the config --set, --config and --profile name,
// when any is given, and returns its error as bad usage. They are global
// flags, and a command that reads no config (predict or evaluate with a
// model file, drift, gen) ignored them, an unknown key or a missing file
// included, and exited 0. The loaded config's log_format and log_level
// choose the logger unless --log-format or --log-level does: they are
// config keys like any other (YAML, TABFORGE_LOG_LEVEL, --set), and the
// logger used to read only the flags, so setting them changed nothing.
// Its read_memory_limit bounds the data files every command reads whole
// (a.readOptions), a train's and predict's alike, and its missing_values
// are the texts they read as missing, where a model does not record its
// own (see pipeline.Predictor.ReadOptions).
func (a *app) checkConfigFlags(cmd *cobra.Command) error {
	env := os.Environ()
	if len(a.sets) == 0 && a.configFile == "" && a.profile == "" && !envSetsGlobals(env) {
		return nil
	}
	c, _, err := config.Load(config.Sources{Profile: a.profile, File: a.configFile, Env: env, Set: a.sets})
	if err != nil {
		return usageError{err}
	}
	if !cmd.Flags().Changed("log-level") {
		a.logLevel = string(c.LogLevel)
	}
	if !cmd.Flags().Changed("log-format") {
		a.logFormat = string(c.LogFormat)
	}
	a.readLimit, a.missing, a.columnMissing = pipeline.ReadMemoryLimit(c), pipeline.MissingTokens(c), pipeline.ColumnMissing(c)
	a.target = c.Target
	return nil
}

// envSetsGlobals reports whether the environment names a config file, a
// profile, a log key, the read memory limit or the missing values, the
// variables that can change what every command does without a flag.
func envSetsGlobals(env []string) bool {
	for _, kv := range env {
		for _, name := range []string{"TABFORGE_LOG_LEVEL=", "TABFORGE_LOG_FORMAT=", "TABFORGE_READ_MEMORY_LIMIT=", "TABFORGE_MISSING_VALUES=", config.EnvConfig + "=", config.EnvProfile + "="} {
			if strings.HasPrefix(kv, name) {
				return true
			}
		}
	}
	return false
}

func (a *app) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(a.logSink(), opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.logSink(), opts)), nil
	}
	return nil, usagef("--log-format: %q is not one of text, json", a.logFormat)
}

// logSink returns the writer every log handler of a writes to.
func (a *app) logSink() *logSink {
	if a.logOut == nil {
		a.logOut = &logSink{out: a.stderr}
	}
	return a.logOut
}

// version is the tabforge release; it is part of cache keys later on.
const version = "0.1.0"

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tabforge version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, "tabforge", version)
			return nil
		},
	}
}

// readOptions are how a command reads a data file outside a training
// config: with --sep's separator and the config's read_memory_limit
// and missing_values.
func (a *app) readOptions() frame.ReadOptions {
	return frame.ReadOptions{Comma: a.comma, MemoryLimit: a.readLimit, Missing: a.missing, ColumnMissing: a.columnMissing}
}

// readInput reads a data file for model p and checks it against the
// model's input contract: every missing or mistyped column is reported
// at once, and under strict checking extra columns and unseen categories
// are errors too; otherwise they are warned about on stderr. With asJSON
// a refused input's problems are also printed on stdout, as
// {"error", "model", "input"} (serve answers them so), for every command
// that reads data for a model: a script checking a batch gets them as
// data, not prose.
func (a *app) readInput(p *pipeline.Predictor, path string, strict, asJSON bool) (*frame.Frame, *pipeline.InputReport, error) {
	x, r, err := p.ReadInput(path, a.readOptions())
	if err != nil {
		return nil, nil, err
	}
	if err := a.checkReport(p, path, r, strict, asJSON); err != nil {
		return nil, r, err
	}
	return x, r, nil
}

// checkReport is readInput's verdict on the report r of the data file
// path: its error, or its warnings on stderr.
func (a *app) checkReport(p *pipeline.Predictor, path string, r *pipeline.InputReport, strict, asJSON bool) error {
	if err := r.Err(strict); err != nil {
		err = fmt.Errorf("%s: %w", path, err)
		if asJSON {
			json.NewEncoder(a.stdout).Encode(map[string]any{"error": err.Error(), "model": p.Family(), "input": r})
		}
		return err
	}
	for _, w := range r.Warnings() {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	return nil
}
