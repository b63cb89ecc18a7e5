// Package cli is the tenure command line: thin cobra commands that parse arguments, call the
// engines and print. Exit codes are 0 on success, 1 on error and 2 on bad usage; errors go to
// stderr as one line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
)

// Exit codes scripts rely on.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// usageError marks mistakes in how the command was called (exit 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// env is what every command shares: streams, resolved settings and the clock.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	clock          func() time.Time

	dbFlag, configFlag, output string
	// servePolicies is serve's --policies, which every part of serve (IdP, provisioning,
	// API) reads its policy from.
	servePolicies string
	cfg           config.Config
	logger        *slog.Logger
}

// Main runs the CLI with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runWithClock(ctx, args, stdout, stderr, getenv, time.Now)
}

// runWithClock is Main with the clock passed in, so tests can stop time.
func runWithClock(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, clock func() time.Time) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, clock: clock}
	root := e.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "tenure: "+oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognises the usage errors cobra raises itself (unknown commands and flags).
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "flag needs an argument") ||
		strings.HasPrefix(msg, "invalid argument")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (e *env) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "tenure",
		Short:         "Workforce identity directory with lifecycle provisioning",
		Long:          "Tenure keeps who works here, what each person may use and why: HR is the trigger, policy the judge.",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return e.resolve(cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&e.dbFlag, "db", "", "database URL: sqlite://PATH or postgres://... (env TENURE_DB; default "+config.DefaultDB+")")
	pf.StringVar(&e.configFlag, "config", "", "YAML configuration file (env TENURE_CONFIG)")
	pf.StringVarP(&e.output, "output", "o", "table", "output format: table|json|csv")
	root.AddCommand(e.initCommand(), e.versionCommand(), e.peopleCommand(), e.orgCommand(), e.serveCommand(), e.policyCommand(), e.accessCommand(), e.ldapCommand(), e.hrCommand())
	root.AddCommand(e.credentialsCommand(), e.mfaCommand())
	root.AddCommand(e.planCommand())
	root.AddCommand(e.spCommand())
	root.AddCommand(e.scimCommand(), e.apiCommand())
	root.AddCommand(e.applyCommand())
	root.AddCommand(e.opsCommand())
	root.AddCommand(e.demoCommand())
	root.AddCommand(e.auditCommand(), e.reportCommand())
	return root
}

// resolve applies flag > environment > config file > default.
func (e *env) resolve(cmd *cobra.Command) error {
	switch e.output {
	case "table", "json", "csv":
	default:
		return usagef("--output %q: use table, json or csv", e.output)
	}
	path := firstNonEmpty(e.configFlag, e.getenv("TENURE_CONFIG"))
	if path != "" {
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		e.cfg = cfg
	}
	e.cfg.DB = firstNonEmpty(e.dbFlag, e.getenv("TENURE_DB"), e.cfg.DB, config.DefaultDB)
	e.cfg.Listen = firstNonEmpty(e.getenv("TENURE_LISTEN"), e.cfg.Listen, config.DefaultListen)
	e.logger = newLogger(e.stderr, e.cfg.Log)
	return nil
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(firstNonEmpty(c.Level, "info")))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// openStore opens the configured database. Only `tenure init` may create it; every other
// command wants an initialized one and says how to get it.
func (e *env) openStore(ctx context.Context, create bool) (*sqlstore.Store, error) {
	if _, _, err := sqlstore.ParseURL(e.cfg.DB); err != nil {
		return nil, err
	}
	if p := sqlstore.SQLitePath(e.cfg.DB); p != "" && !create {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s: run 'tenure init' first", p)
		}
	}
	s, err := sqlstore.Open(ctx, e.cfg.DB, sqlstore.Options{Clock: e.clock, Logger: e.logger})
	if err != nil {
		return nil, err
	}
	if !create {
		if err := s.CheckSchema(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// actorContext names the person at the keyboard in audit records.
func (e *env) actorContext(ctx context.Context) context.Context {
	user := firstNonEmpty(e.getenv("TENURE_ACTOR"), e.getenv("USER"), "unknown")
	return audit.WithActor(ctx, "cli:"+user)
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %d argument(s) (%s), got %d", n, strings.Join(names, " "), len(args))
		}
		return nil
	}
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}
