package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/secretbox"
)

// defaultKeyFile is where a SQLite database's MFA secret key lives when none is configured:
// beside the database, so `make run` and the demo need no setup. It protects against a leaked
// copy of the database file alone (a dump, a backup, a support bundle), which is the common
// leak; anyone who can read the directory holding both has the secrets anyway, as they would
// have the key from any configuration on that machine. "" for PostgreSQL.
func (e *env) defaultKeyFile() string {
	if p := sqlstore.SQLitePath(e.cfg.DB); p != "" && p != ":memory:" {
		return p + ".key"
	}
	return ""
}

// mfaKeyring loads the keys that seal MFA secrets, as configured, else the SQLite default key
// file when it exists; nil when there is none. A configured key that cannot be read is an
// error: starting without it would lock everyone out, or seal under a key nobody keeps.
func (e *env) mfaKeyring() (*secretbox.Keyring, error) {
	a := e.cfg.Authn
	if !a.Configured() {
		path := e.defaultKeyFile()
		if path == "" {
			return nil, nil
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		k, err := e.loadKey("MFA secret key file", config.SecretKey{File: path})
		if err != nil {
			return nil, err
		}
		return secretbox.NewKeyring(k)
	}
	current, err := e.loadKey("authn.secret_key", config.SecretKey{File: a.SecretKeyFile, Env: a.SecretKeyEnv})
	if err != nil {
		return nil, err
	}
	var previous []secretbox.Key
	for i, ref := range a.PreviousSecretKeys {
		k, err := e.loadKey(fmt.Sprintf("authn.previous_secret_keys[%d]", i), ref)
		if err != nil {
			return nil, err
		}
		previous = append(previous, k)
	}
	return secretbox.NewKeyring(current, previous...)
}

func (e *env) loadKey(what string, ref config.SecretKey) (secretbox.Key, error) {
	if ref.Env != "" {
		v := e.getenv(ref.Env)
		if v == "" {
			return secretbox.Key{}, fmt.Errorf("%s: environment variable %s is empty or unset", what, ref.Env)
		}
		k, err := secretbox.ParseKey(v)
		if err != nil {
			return secretbox.Key{}, fmt.Errorf("%s: $%s: %w", what, ref.Env, err)
		}
		return k, nil
	}
	b, err := os.ReadFile(ref.File)
	if err != nil {
		return secretbox.Key{}, fmt.Errorf("%s: %w", what, err)
	}
	if fi, err := os.Stat(ref.File); err == nil && fi.Mode().Perm()&0o077 != 0 {
		e.logger.Warn("MFA secret key file is readable by others than its owner", "file", ref.File, "mode", fi.Mode().Perm().String())
	}
	k, err := secretbox.ParseKey(string(b))
	if err != nil {
		return secretbox.Key{}, fmt.Errorf("%s %s: %w", what, ref.File, err)
	}
	return k, nil
}

// writeKeyFile writes a new key to path, readable by its owner only; an existing file is never
// replaced: it may be the only copy of the key to every secret.
func writeKeyFile(path string) (secretbox.Key, error) {
	text, err := secretbox.GenerateKey()
	if err != nil {
		return secretbox.Key{}, err
	}
	k, err := secretbox.ParseKey(text)
	if err != nil {
		return secretbox.Key{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return secretbox.Key{}, fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.WriteString(text + "\n"); err != nil {
		f.Close()
		return secretbox.Key{}, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return secretbox.Key{}, fmt.Errorf("write key file %s: %w", path, err)
	}
	return k, nil
}

// mfaSecretCounter counts stored MFA secrets by key; directory stores are one.
type mfaSecretCounter interface {
	MFASecretKeys(ctx context.Context) (map[string]int, error)
}

// prepareMFAKeys makes s seal MFA secrets and checks the keys fit what is stored. Without a
// configured key a SQLite database gets its default key file when it holds no secret yet
// (always, with create: `tenure init` and the demo). It refuses to go on when secrets exist
// that no configured key opens, and encrypts legacy plain ones.
func (e *env) prepareMFAKeys(ctx context.Context, s *sqlstore.Store, create bool) (*sqlstore.Store, error) {
	keys, err := e.mfaKeyring()
	if err != nil {
		return nil, err
	}
	counts, err := s.MFASecretKeys(ctx)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if keys == nil {
		path := e.defaultKeyFile()
		sealed := total - counts[""]
		switch {
		case sealed > 0:
			return nil, fmt.Errorf("%d MFA secrets are sealed under key %s but no key is configured%s: restore the key, or set authn.secret_key_file or authn.secret_key_env",
				sealed, strings.Join(sealedKeyIDs(counts), ", "), missingFile(path))
		case path != "" && (create || total == 0):
			k, err := writeKeyFile(path)
			if err != nil {
				return nil, err
			}
			e.logger.Info("created the key that seals MFA secrets; back it up apart from the database", "file", path, "key", k.ID())
			if keys, err = secretbox.NewKeyring(k); err != nil {
				return nil, err
			}
		case total > 0 && path != "":
			return nil, fmt.Errorf("%d MFA secrets are stored in plain text and no key to seal them is configured: run 'tenure init' (it creates %s and encrypts them), or set authn.secret_key_file or authn.secret_key_env", total, path)
		case total > 0:
			return nil, fmt.Errorf("%d MFA secrets are stored in plain text and no key to seal them is configured: set authn.secret_key_file or authn.secret_key_env ('tenure credentials key generate' makes one)", total)
		default:
			return nil, errors.New("no key to seal MFA secrets is configured: set authn.secret_key_file or authn.secret_key_env, the same on every replica ('tenure credentials key generate' makes one)")
		}
	}
	if err := checkKeys(keys, counts); err != nil {
		return nil, err
	}
	s = s.WithSecrets(keys)
	if counts[""] > 0 {
		n, err := s.RekeyMFASecrets(e.actorContext(ctx), directory.MFASecretsRekey{PlainOnly: true})
		if err != nil {
			return nil, fmt.Errorf("encrypt plain MFA secrets: %w", err)
		}
		e.logger.Info("encrypted MFA secrets stored in plain text", "count", n.Rekeyed, "key", n.Key)
	}
	if stale := total - counts[""] - counts[keys.CurrentID()]; stale > 0 {
		e.logger.Info("MFA secrets still sealed under a previous key: run 'tenure credentials key rotate'", "count", stale)
	}
	return s, nil
}

// checkKeys refuses stored secrets sealed under keys the keyring lacks: a wrong key file, or a
// previous key dropped before the rotation finished. Serving then would fail every one of
// those people's sign-ins.
func checkKeys(keys *secretbox.Keyring, counts map[string]int) error {
	var missing []string
	n := 0
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		if id != "" && !keys.Has(id) {
			missing = append(missing, id)
			n += counts[id]
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%d MFA secrets are sealed under key %s, which the configuration does not hold (current key is %s): "+
		"wrong key file, or a previous key was dropped before 'tenure credentials key rotate' finished",
		n, strings.Join(missing, ", "), keys.CurrentID())
}

func sealedKeyIDs(counts map[string]int) []string {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func missingFile(path string) string {
	if path == "" {
		return ""
	}
	return " (" + path + " is missing)"
}
