package directory

import "context"

// MFASecrets manages how second-factor secrets that must be read back (TOTP shared secrets)
// are kept at rest. The store seals them with its configured keyring on every write and opens
// them on every read, bound to the record's identity (person and factor), so a value copied to
// another person's row does not open. A store without a keyring keeps values as given.
type MFASecrets interface {
	// MFASecretKeys counts the stored secrets by the ID of the key that sealed them; the key
	// "" counts legacy plain values, stored before encryption at rest.
	MFASecretKeys(ctx context.Context) (map[string]int, error)
	// RekeyMFASecrets seals again under the current key every secret that is not under it
	// (with PlainOnly, only the legacy plain ones), Batch rows per transaction so sign-ins
	// are not held up. Credentials keep their version: their meaning does not change. A run
	// that rekeyed anything is audited as one record (authn.mfa_secrets.rekey) with the
	// counts. It fails when the store has no keyring, or a secret does not open (its key is
	// not configured, or it was altered): the secrets rekeyed before stay rekeyed.
	RekeyMFASecrets(ctx context.Context, opt MFASecretsRekey) (MFASecretsRekeyed, error)
}

// MFASecretsRekey says which secrets RekeyMFASecrets seals again.
type MFASecretsRekey struct {
	Batch     int  // rows per transaction; 500 when zero
	PlainOnly bool // only legacy plain values: the migration on first start with a key
}

// MFASecretsRekeyed counts what one RekeyMFASecrets did.
type MFASecretsRekeyed struct {
	Key string `json:"key"` // the current key's ID, which now seals them
	// From counts the rekeyed secrets by their former key ID ("plain" for legacy values).
	From    map[string]int `json:"from"`
	Rekeyed int            `json:"rekeyed"`
	Batches int            `json:"batches"`
}
