package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/ldapsync"
)

// authnManager builds sign-in from the configuration: timeouts, cookies, throttling, links, and
// the LDAP bind check when a source delegates passwords.
// obs, when not nil, hears every sign-in step (metrics).
func (e *env) authnManager(s directory.Store, obs authn.Observer) (*authn.Manager, error) {
	c := e.cfg.Authn
	public := firstNonEmpty(c.PublicURL, e.cfg.IdP.BaseURL, "http://"+e.cfg.Listen)
	opt := authn.Options{Store: s, Clock: e.clock, Logger: e.logger, IdleTimeout: c.SessionIdle, MaxLifetime: c.SessionMax,
		SecureCookies: c.Secure(public), ActivationTTL: c.ActivationTTL, PublicURL: public,
		Throttle: authn.ThrottlePolicy{AccountFree: c.Throttle.AccountFailures, IPFree: c.Throttle.IPFailures,
			BaseDelay: c.Throttle.BaseDelay, MaxDelay: c.Throttle.MaxDelay, ResetAfter: c.Throttle.ResetAfter}, Observer: obs}
	delegates := map[string]bool{}
	for _, src := range e.cfg.LDAP.Sources {
		if src.DelegatedBind {
			delegates[src.Name] = true
		}
	}
	if len(delegates) > 0 {
		opt.Delegated = &authn.LDAPChecker{Entries: s, Delegates: func(source string) bool { return delegates[source] },
			Binder: &ldapsync.Binder{Store: s, Config: e.cfg.LDAP, Getenv: e.getenv}}
	}
	return authn.New(opt)
}

func (e *env) credentialsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "credentials", Short: "Sign-in credentials: activation links for new hires, the key that encrypts MFA secrets"}
	var ttl time.Duration
	issue := &cobra.Command{
		Use:   "issue PERSON",
		Short: "Make a one-time activation link where PERSON sets a password and enrols two-step verification",
		Long: "Prints the link's details and, on the last line, the URL alone. Earlier links of the person stop working.\n" +
			"Hand the link over privately: whoever opens it first becomes the person.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ttl < 0 {
				return usagef("--ttl %s: must be positive", ttl)
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if ttl > 0 {
				e.cfg.Authn.ActivationTTL = ttl
			}
			m, err := e.authnManager(s, nil)
			if err != nil {
				return err
			}
			a, err := m.IssueActivation(audit.WithReason(e.actorContext(ctx), "activation link issued"), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "person:  %s\nexpires: %s\n%s\n", a.PersonID, a.ExpiresAt.Format(time.RFC3339), a.URL)
			return nil
		},
	}
	issue.Flags().DurationVar(&ttl, "ttl", 0, "how long the link works (default authn.activation_ttl, 72h)")
	cmd.AddCommand(issue, e.keyCommand())
	return cmd
}

func (e *env) mfaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mfa", Short: "Two-step verification of people"}
	var reason string
	reset := &cobra.Command{
		Use:   "reset PERSON --reason TEXT",
		Short: "Remove PERSON's authenticator and recovery codes and end their sessions; the next sign-in enrols afresh",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usagef("--reason is required: resetting a second factor is a security event")
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			p, ended, err := authn.ResetMFA(audit.WithReason(e.actorContext(ctx), reason), s, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "reset two-step verification of %s (%s); ended %d session(s)\n", p.DisplayName(), p.ID, ended)
			return nil
		},
	}
	reset.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit log)")
	cmd.AddCommand(reset)
	return cmd
}
