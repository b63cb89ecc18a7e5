package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
)

// Version is set at build time (-ldflags "-X github.com/tenure-id/tenure/pkg/cli.Version=...").
var Version = "dev"

func (e *env) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create or migrate the database (safe to run again)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.Migrate(ctx); err != nil {
				return err
			}
			where := string(s.Kind()) // never echo a PostgreSQL URL: it may hold a password
			if p := sqlstore.SQLitePath(e.cfg.DB); p != "" {
				where = "sqlite://" + p
			}
			fmt.Fprintf(e.stdout, "initialized %s: schema is current\n", where)
			if !e.cfg.Authn.Configured() && e.defaultKeyFile() == "" {
				fmt.Fprintln(e.stderr, "note: tenure serve needs a key to seal MFA secrets: set authn.secret_key_file or authn.secret_key_env "+
					"('tenure credentials key generate' makes one), the same on every replica")
				return nil
			}
			_, err = e.prepareMFAKeys(ctx, s, true)
			return err
		},
	}
}

type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: Version, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v.Commit = s.Value[:12]
			}
		}
	}
	return v
}

func (e *env) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			v := buildVersion()
			return e.print(v, table{headers: []string{"VERSION", "COMMIT", "GO"}, rows: [][]string{{v.Version, v.Commit, v.Go}}})
		},
	}
}
