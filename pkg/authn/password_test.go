package authn

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/identity"
)

// weakParams are below Tenure's minimum: hashes made with them must be upgraded at sign-in.
var weakParams = HashParams{Time: 1, Memory: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPasswordPHCForm(t *testing.T) {
	h, err := HashPassword("correct horse battery", DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Errorf("hash %q does not carry argon2id v=19 m=7168 t=5 p=1", h)
	}
	h2, _ := HashPassword("correct horse battery", DefaultHashParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyPassword(t *testing.T) {
	strong, _ := HashPassword("correct horse battery", DefaultHashParams)
	weak, _ := HashPassword("correct horse battery", weakParams)
	tests := []struct {
		name, stored, password string
		ok, rehash             bool
		err                    error
	}{
		{"right", strong, "correct horse battery", true, false, nil},
		{"wrong", strong, "correct horse battery!", false, false, nil},
		{"empty", strong, "", false, false, nil},
		{"weak hash right", weak, "correct horse battery", true, true, nil},
		{"weak hash wrong", weak, "nope nope nope", false, false, nil},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "x", false, false, ErrBadHash},
		{"argon2i", strings.Replace(strong, "argon2id", "argon2i", 1), "x", false, false, ErrBadHash},
		{"bad version", strings.Replace(strong, "v=19", "v=16", 1), "x", false, false, ErrBadHash},
		{"no memory", strings.Replace(strong, "m=7168,", "", 1), "x", false, false, ErrBadHash},
		{"truncated", strong[:len(strong)-30], "x", false, false, ErrBadHash},
		{"empty string", "", "x", false, false, ErrBadHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(tt.stored, tt.password, DefaultHashParams)
			if !errors.Is(err, tt.err) || ok != tt.ok || rehash != tt.rehash {
				t.Errorf("VerifyPassword = %v, %v, %v; want %v, %v, %v", ok, rehash, err, tt.ok, tt.rehash, tt.err)
			}
		})
	}
}

func TestNewRefusesWeakParameters(t *testing.T) {
	if _, err := New(Options{Store: nilStore{}, Hash: weakParams}); err == nil {
		t.Fatal("New accepted argon2id t=1 m=1024, below Keycloak's default strength")
	}
}

// nilStore satisfies Store for constructor checks that never reach it.
type nilStore struct{ Store }

func TestCheckPassword(t *testing.T) {
	p := identity.Person{Username: "richard.hendricks", WorkEmail: "rhendricks@piedpiper.test", LegalFirstName: "Richard",
		LegalLastName: "Hendricks", PreferredName: "Rich", EmployeeID: "PP0001"}
	tests := []struct {
		password string
		want     string // "" for accepted, else the message ID
	}{
		{"purple elephant lamp", ""},
		{"tr0ub4dor&3xq", ""},
		{"ünïcödé pässwörd", ""},
		{"short pass", "pw.short"},
		{"elevenchars", "pw.short"},
		{strings.Repeat("a", 129), "pw.long"},
		{strings.Repeat("ab", 64) + "c", "pw.long"},
		{"password1234", "pw.common"},
		{"PASSWORD1234", "pw.common"},
		{"qwertyuiop123", "pw.common"},
		{"iloveyou2024", "pw.common"},
		{"sunshine!!!!2024", "pw.common"},
		{"aaaaaaaaaaaa", "pw.common"},
		{"abababababab", "pw.common"},
		{"123456789012", "pw.common"},
		{"abcdefghijklmnopq", "pw.common"},
		{"richard.hendricks!", "pw.personal"},
		{"my name is hendricks", "pw.personal"},
		{"rhendricks@home99", "pw.personal"},
		{"Richard likes pizza", "pw.personal"},
		{"pp0001 is my number", "pw.personal"},
		{"bad utf8 \xff\xfe here", "pw.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			err := CheckPassword(tt.password, p)
			var pe *PolicyError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && !errors.As(err, &pe):
				t.Errorf("accepted (err %v), want %s", err, tt.want)
			case tt.want != "" && pe.ID != tt.want:
				t.Errorf("refused as %s, want %s", pe.ID, tt.want)
			case tt.want != "" && !errors.Is(err, ErrPolicy):
				t.Errorf("%v does not match ErrPolicy", err)
			}
		})
	}
}

func TestCommonListShipped(t *testing.T) {
	n := strings.Count(commonPasswords, "\n")
	if n < 5000 {
		t.Fatalf("common password list has %d entries, want several thousand", n)
	}
	for _, id := range []string{"pw.invalid", "pw.short", "pw.long", "pw.common", "pw.personal"} {
		if msg(id) == id {
			t.Errorf("message %s is missing from the catalogue", id)
		}
	}
}
