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
	cmd.AddCommand(generate, rotate, e.keyStatusCommand())
	return cmd
}

// keyState is one row of `key status`: how many secrets one key seals, and what the
// configuration makes of that key.
type keyState struct {
	Key     string `json:"key"` // "plain" for secrets stored before encryption at rest
	State   string `json:"state"`
	Secrets int    `json:"secrets"`
}

// keyStatusCommand answers the question a rotation turns on: may the old key go yet?
func (e *env) keyStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Count the MFA secrets under each key and say whether the configuration holds it",
		Long: "States: current (new secrets are sealed with it), previous (still read; rotate, then remove it),\n" +
			"unknown (not configured: those people cannot use their authenticator app until the key is back),\n" +
			"plain (stored before encryption at rest; the next serve or rotate encrypts them).\n" +
			"Exits 1 when any secret is under an unknown key.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			counts, err := s.MFASecretKeys(ctx)
			if err != nil {
				return err
			}
			states := []keyState{}
			if keys != nil && counts[keys.CurrentID()] == 0 {
				states = append(states, keyState{Key: keys.CurrentID(), State: "current"})
			}
			unknown := 0
			for _, id := range slices.Sorted(maps.Keys(counts)) {
				st := keyState{Key: id, State: "unknown", Secrets: counts[id]}
				switch {
				case id == "":
					st.Key, st.State = "plain", "plain"
				case keys != nil && id == keys.CurrentID():
					st.State = "current"
				case keys != nil && keys.Has(id):
					st.State = "previous"
				default:
					unknown += st.Secrets
				}
				states = append(states, st)
			}
			t := table{headers: []string{"KEY", "STATE", "SECRETS"}}
			for _, st := range states {
				t.rows = append(t.rows, []string{st.Key, st.State, strconv.Itoa(st.Secrets)})
			}
			if err := e.print(states, t); err != nil {
				return err
			}
			if unknown > 0 {
				return fmt.Errorf("%d MFA secrets are under a key the configuration does not hold", unknown)
			}
			return nil
		},
	}
}
