package cli

import (
	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
)

func (e *env) scimCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "scim", Short: "The SCIM 2.0 service provider (/scim/v2) other systems push people to"}
	cmd.AddCommand(e.tokenCommand(tokenSurface{kind: directory.TokenSCIM, label: "SCIM", command: "scim", path: "/scim/v2",
		example: "workday"}, "Bearer tokens of the SCIM service provider"))
	return cmd
}
