package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func samlTests() []subTest {
	return []subTest{
		{"SAMLServiceProviderPutGet", testSAMLSPPutGet},
		{"SAMLServiceProviderValidation", testSAMLSPValidation},
		{"SAMLServiceProviderListDelete", testSAMLSPListDelete},
		{"SAMLSigningKeyFirstWriterWins", testSAMLSigningKey},
	}
}

const spMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com/saml"/>`

func newSP(entityID string) directory.SAMLServiceProvider {
	return directory.SAMLServiceProvider{EntityID: entityID, App: "github", NameIDFormat: directory.NameIDPersistent,
		Attributes: []string{"email", "groups"}, Metadata: strings.Replace(spMetadata, "https://sp.example.com/saml", entityID, 1)}
}

func checkSP(t *testing.T, what string, want, got directory.SAMLServiceProvider) {
	t.Helper()
	if got.ID != want.ID || got.EntityID != want.EntityID || got.App != want.App || got.NameIDFormat != want.NameIDFormat ||
		got.Metadata != want.Metadata || got.Version != want.Version || !slices.Equal(got.Attributes, want.Attributes) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: CreatedAt/UpdatedAt = %v/%v, want %v/%v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func testSAMLSPPutGet(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	in := newSP("https://github.com/orgs/piedpiper")
	first, err := s.PutSAMLServiceProvider(ctx, in)
	if err != nil {
		t.Fatalf("PutSAMLServiceProvider(new): %v", err)
	}
	if first.ID == "" || first.Version != 1 || first.CreatedAt.IsZero() {
		t.Errorf("PutSAMLServiceProvider(new) = %+v; want ID, Version 1 and timestamps", first)
	}
	got, err := s.GetSAMLServiceProvider(ctx, in.EntityID)
	if err != nil {
		t.Fatalf("GetSAMLServiceProvider: %v", err)
	}
	checkSP(t, "GetSAMLServiceProvider", first, got)

	repl := in
	repl.App, repl.NameIDFormat, repl.Attributes = "slack", directory.NameIDEmail, []string{"email", "givenName", "sn"}
	second, err := s.PutSAMLServiceProvider(ctx, repl)
	if err != nil {
		t.Fatalf("PutSAMLServiceProvider(replace): %v", err)
	}
	if second.ID != first.ID || second.Version != 2 || !second.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("replace: ID %q→%q Version %d CreatedAt %v→%v; want same ID, Version 2, same CreatedAt",
			first.ID, second.ID, second.Version, first.CreatedAt, second.CreatedAt)
	}
	got, err = s.GetSAMLServiceProvider(ctx, in.EntityID)
	if err != nil {
		t.Fatalf("GetSAMLServiceProvider after replace: %v", err)
	}
	checkSP(t, "GetSAMLServiceProvider after replace", second, got)

	_, err = s.GetSAMLServiceProvider(ctx, "https://unknown.example.com")
	wantErrIs(t, err, identity.ErrNotFound, "GetSAMLServiceProvider(unknown)")

	// Both writes are audited under the entity ID, without the metadata itself.
	recs, err := s.AuditRecords(ctx, 0, 100)
	if err != nil {
		t.Fatalf("AuditRecords: %v", err)
	}
	var actions []string
	for _, r := range recs {
		if r.Target == "saml_sp:"+in.EntityID {
			actions = append(actions, r.Action)
			if strings.Contains(string(r.After), "EntityDescriptor") {
				t.Errorf("audit record %s holds the metadata document: %s", r.Action, r.After)
			}
		}
	}
	if !slices.Equal(actions, []string{"saml_sp.create", "saml_sp.update"}) {
		t.Errorf("audit actions for the service provider = %v, want [saml_sp.create saml_sp.update]", actions)
	}
}

func testSAMLSPValidation(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	cases := []struct {
		name  string
		mod   func(*directory.SAMLServiceProvider)
		field string
	}{
		{"no entity id", func(sp *directory.SAMLServiceProvider) { sp.EntityID = " " }, "entity_id"},
		{"no app", func(sp *directory.SAMLServiceProvider) { sp.App = "" }, "app"},
		{"bad nameid format", func(sp *directory.SAMLServiceProvider) { sp.NameIDFormat = "transient" }, "nameid_format"},
		{"no metadata", func(sp *directory.SAMLServiceProvider) { sp.Metadata = "" }, "metadata"},
		{"unknown attribute", func(sp *directory.SAMLServiceProvider) { sp.Attributes = []string{"email", "salary"} }, "attributes"},
		{"attribute twice", func(sp *directory.SAMLServiceProvider) { sp.Attributes = []string{"email", "email"} }, "attributes"},
	}
	for _, tc := range cases {
		sp := newSP("https://sp.example.com/" + strings.ReplaceAll(tc.name, " ", "-"))
		tc.mod(&sp)
		_, err := s.PutSAMLServiceProvider(ctx, sp)
		wantField(t, err, "PutSAMLServiceProvider("+tc.name+")", tc.field)
	}
	all, err := s.ListSAMLServiceProviders(ctx)
	if err != nil {
		t.Fatalf("ListSAMLServiceProviders: %v", err)
	}
	if len(all) != 0 {
		t.Errorf("invalid service providers were stored: %d", len(all))
	}
}

func testSAMLSPListDelete(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	for _, id := range []string{"https://c.example.com", "https://a.example.com", "https://b.example.com"} {
		if _, err := s.PutSAMLServiceProvider(ctx, newSP(id)); err != nil {
			t.Fatalf("PutSAMLServiceProvider(%s): %v", id, err)
		}
	}
	if err := s.DeleteSAMLServiceProvider(ctx, "https://b.example.com"); err != nil {
		t.Fatalf("DeleteSAMLServiceProvider: %v", err)
	}
	err := s.DeleteSAMLServiceProvider(ctx, "https://b.example.com")
	wantErrIs(t, err, identity.ErrNotFound, "DeleteSAMLServiceProvider(already deleted)")
	all, err := s.ListSAMLServiceProviders(ctx)
	if err != nil {
		t.Fatalf("ListSAMLServiceProviders: %v", err)
	}
	got := pluck(all, func(sp directory.SAMLServiceProvider) string { return sp.EntityID })
	if want := []string{"https://a.example.com", "https://c.example.com"}; !slices.Equal(got, want) {
		t.Errorf("ListSAMLServiceProviders = %v, want %v (by entity ID)", got, want)
	}
	again, err := s.PutSAMLServiceProvider(ctx, newSP("https://b.example.com"))
	if err != nil || again.Version != 1 {
		t.Errorf("re-adding a deleted service provider: version %d, err %v; want version 1", again.Version, err)
	}
}

func testSAMLSigningKey(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	_, err := s.EnsureSAMLSigningKey(ctx, directory.SAMLSigningKey{})
	wantErrIs(t, err, identity.ErrNotFound, "EnsureSAMLSigningKey(empty) on a fresh store")
	first := directory.SAMLSigningKey{KeyPEM: "-----BEGIN PRIVATE KEY-----\nfirst-secret\n-----END PRIVATE KEY-----\n",
		CertPEM: selfSignedPEM(t, "first"), NameIDKey: "first-secret-nameid"}
	second := directory.SAMLSigningKey{KeyPEM: "-----BEGIN PRIVATE KEY-----\nsecond-secret\n-----END PRIVATE KEY-----\n",
		CertPEM: selfSignedPEM(t, "second"), NameIDKey: "second-secret-nameid"}
	got, err := s.EnsureSAMLSigningKey(ctx, first)
	if err != nil {
		t.Fatalf("EnsureSAMLSigningKey(first): %v", err)
	}
	if got.KeyPEM != first.KeyPEM || got.CertPEM != first.CertPEM || got.NameIDKey != first.NameIDKey || got.CreatedAt.IsZero() {
		t.Errorf("EnsureSAMLSigningKey(first) did not store and return the candidate: %+v", got)
	}
	got, err = s.EnsureSAMLSigningKey(ctx, second)
	if err != nil {
		t.Fatalf("EnsureSAMLSigningKey(second): %v", err)
	}
	if got.KeyPEM != first.KeyPEM || got.CertPEM != first.CertPEM || got.NameIDKey != first.NameIDKey {
		t.Errorf("EnsureSAMLSigningKey(second) replaced the stored key; want the first writer's key kept")
	}
	recs, err := s.AuditRecords(ctx, 0, 100)
	if err != nil {
		t.Fatalf("AuditRecords: %v", err)
	}
	n := 0
	for _, r := range recs {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), "secret") {
			t.Errorf("audit record %s holds the private key", r.Action)
		}
		if r.Action == "saml_signing_key.create" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("saml_signing_key.create audit records = %d, want 1", n)
	}
	got, err = s.EnsureSAMLSigningKey(ctx, directory.SAMLSigningKey{})
	if err != nil || got.KeyPEM != first.KeyPEM {
		t.Errorf("EnsureSAMLSigningKey(empty) with a key stored: %v; want the stored key", err)
	}
}

// selfSignedPEM is a throwaway certificate; the store only checks it parses.
func selfSignedPEM(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
