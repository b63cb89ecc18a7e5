package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/secretbox"
)

// keyCommand manages the key that seals MFA secrets at rest: make one, and rotate to a new one.
func (e *env) keyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "The key that encrypts MFA secrets at rest: generate, rotate"}
	var out string
	generate := &cobra.Command{
		Use:   "generate [--out FILE]",
		Short: "Make a new random key (32 bytes, base64) for authn.secret_key_file or authn.secret_key_env",
		Long: "Without --out, prints the key alone on stdout, for a secret manager or an environment variable.\n" +
			"With --out, writes it to FILE readable by its owner only (0600), never over an existing file.",
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if out == "" {
				text, err := secretbox.GenerateKey()
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, text)
				return nil
			}
			k, err := writeKeyFile(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote key %s to %s\n", k.ID(), out)
			return nil
		},
	}
	generate.Flags().StringVar(&out, "out", "", "write the key to this new file (0600)")
	var batch int
	rotate := &cobra.Command{
		Use:   "rotate [--batch N]",
		Short: "Encrypt every MFA secret again under the current key (plain ones and those under previous keys)",
		Long: "Run it once every replica has the new key as authn.secret_key_* and the old one under\n" +
			"authn.previous_secret_keys; afterwards the old key can be removed. Safe to run again; audited as one record.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batch < 0 {
				return usagef("--batch %d: must be positive", batch)
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			keys, err := e.mfaKeyring()
			if err != nil {
				return err
			}
			if keys == nil {
				return fmt.Errorf("no key to seal MFA secrets is configured: set authn.secret_key_file or authn.secret_key_env")
			}
			counts, err := s.MFASecretKeys(ctx)
			if err != nil {
				return err
			}
			if err := checkKeys(keys, counts); err != nil {
				return err
			}
			ks := s.WithSecrets(keys)
			n, err := ks.RekeyMFASecrets(audit.WithReason(e.actorContext(ctx), "MFA secret key rotation"),
				directory.MFASecretsRekey{Batch: batch})
			if err != nil {
				return err
			}
			rows := [][]string{}
			for _, from := range slices.Sorted(maps.Keys(n.From)) {
				rows = append(rows, []string{from, n.Key, strconv.Itoa(n.From[from])})
			}
			return e.print(n, table{headers: []string{"FROM", "TO", "SECRETS"}, rows: rows})
		},
	}
	rotate.Flags().IntVar(&batch, "batch", 500, "secrets per transaction")
	cmd.AddCommand(generate, rotate)
	return cmd
}
