package cli

import (
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/server"
)

func (e *env) serveCommand() *cobra.Command {
	var listen string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve HTTP: health now; SSO, SCIM, HR webhook and admin API as they land",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			addr := firstNonEmpty(listen, e.cfg.Listen)
			h := server.New(server.Config{DB: s, Logger: e.logger, Version: buildVersion().Version})
			return server.Serve(ctx, addr, h, grace, e.logger, nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (env TENURE_LISTEN; default 127.0.0.1:8080)")
	cmd.Flags().DurationVar(&grace, "grace", 10*time.Second, "how long shutdown waits for requests in flight")
	return cmd
}
