package secretbox

import (
	"errors"
	"strings"
	"testing"
)

func mustKey(t *testing.T) Key {
	t.Helper()
	text, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(text + "\n")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	ra, _ := NewKeyring(a)
	rb, _ := NewKeyring(b, a)
	sealed, err := ra.Seal("JBSWY3DPEHPK3PXP", []byte("person=1"))
	if err != nil || !strings.HasPrefix(sealed, KeyPrefix(a.ID())) || strings.Contains(sealed, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if id, ok := KeyID(sealed); !ok || id != a.ID() {
		t.Errorf("KeyID = %q, %v", id, ok)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	for _, c := range []struct {
		name   string
		ring   *Keyring
		stored string
		ad     string
		want   string
		err    error
	}{
		{"own key", ra, sealed, "person=1", "JBSWY3DPEHPK3PXP", nil},
		{"previous key", rb, sealed, "person=1", "JBSWY3DPEHPK3PXP", nil},
		{"other record", ra, sealed, "person=2", "", ErrDecrypt},
		{"tampered", ra, tampered, "person=1", "", ErrDecrypt},
		{"unknown key", mustRing(t, b), sealed, "person=1", "", ErrUnknownKey},
		{"legacy plain", ra, "JBSWY3DPEHPK3PXP", "person=1", "JBSWY3DPEHPK3PXP", nil},
		{"malformed", ra, "enc:v1:abc", "person=1", "", ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.ring.Open(c.stored, []byte(c.ad))
			if got != c.want || !errors.Is(err, c.err) {
				t.Errorf("Open = %q, %v; want %q, %v", got, err, c.want, c.err)
			}
		})
	}
}

func mustRing(t *testing.T, k Key) *Keyring {
	r, err := NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseKeyRefusesWrongSizes(t *testing.T) {
	for _, text := range []string{"", "c2hvcnQ=", "not base64 at all!", strings.Repeat("A", 60)} {
		if _, err := ParseKey(text); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseKey(%q): %v, want ErrBadKey", text, err)
		}
	}
}
