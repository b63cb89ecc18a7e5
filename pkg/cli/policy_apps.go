package cli

import (
	"context"
	"errors"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

// appCatalogue is the part of the store the catalogue is published to.
type appCatalogue interface {
	GetApp(ctx context.Context, name string) (identity.App, error)
	ListApps(ctx context.Context) ([]identity.App, error)
	PutApp(ctx context.Context, a identity.App) (identity.App, error)
}

// appChange is one line of `policy publish-apps`.
type appChange struct {
	App    string `json:"app"`
	Change string `json:"change"` // created | updated | unchanged | not_in_policy
}

// publishApps writes the policy's catalogue to the store, skipping apps that already match
// so the audit log records real changes only. Apps the policy no longer declares are
// reported, never deleted: their accounts must be deprovisioned first.
func publishApps(ctx context.Context, s appCatalogue, set *policy.Set) ([]appChange, error) {
	var out []appChange
	for _, a := range set.Apps {
		want := a.Identity()
		have, err := s.GetApp(ctx, a.Name)
		change := "updated"
		switch {
		case errors.Is(err, identity.ErrNotFound):
			change = "created"
		case err != nil:
			return nil, err
		case have.Connector == want.Connector && slices.Equal(have.Entitlements, want.Entitlements):
			out = append(out, appChange{a.Name, "unchanged"})
			continue
		}
		if _, err := s.PutApp(ctx, want); err != nil {
			return nil, err
		}
		out = append(out, appChange{a.Name, change})
	}
	stored, err := s.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range stored {
		if _, ok := set.App(a.Name); !ok {
			out = append(out, appChange{a.Name, "not_in_policy"})
		}
	}
	return out, nil
}

func (e *env) policyPublishAppsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "publish-apps [DIR]",
		Short: "Write the policy's app catalogue to the directory, where provisioning and sign-on read it",
		Long: "The policy files are the source of the app catalogue. publish-apps copies it into the\n" +
			"directory (audited); apps the policy no longer declares are reported, not deleted.",
		Args: maxArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			set, err := e.loadPolicy(e.policyDir(firstArg(args)))
			if err != nil {
				return err
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			changes, err := publishApps(e.actorContext(ctx), s, set)
			if err != nil {
				return err
			}
			t := table{headers: []string{"APP", "CHANGE"}}
			for _, c := range changes {
				t.rows = append(t.rows, []string{c.App, c.Change})
			}
			return e.print(changes, t)
		},
	}
}
