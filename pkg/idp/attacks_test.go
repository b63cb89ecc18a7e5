package idp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// xmlsec1Verify runs xmlsec1 on a response, checking the Response signature or, with
// assertion, the Assertion's; it returns xmlsec1's error output when verification fails.
func xmlsec1Verify(t *testing.T, bin string, f *fixture, response []byte, assertion bool) error {
	t.Helper()
	args := []string{"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"}
	if assertion {
		args = append(args, "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
			"--node-xpath", `//*[local-name()="Assertion"]/*[local-name()="Signature"]`)
	}
	return xmlsec1Run(t, bin, f, response, args...)
}

// xmlsec1VerifyNode checks the signature of a document whose root, of the given type
// (namespace:Name), carries it.
func xmlsec1VerifyNode(t *testing.T, bin string, f *fixture, doc []byte, node string) error {
	t.Helper()
	return xmlsec1Run(t, bin, f, doc, "--id-attr:ID", node)
}

func xmlsec1Run(t *testing.T, bin string, f *fixture, response []byte, idArgs ...string) error {
	t.Helper()
	dir := t.TempDir()
	certFile, respFile := filepath.Join(dir, "idp-cert.pem"), filepath.Join(dir, "response.xml")
	if err := os.WriteFile(certFile, []byte(f.certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(respFile, response, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"--verify"}, idArgs...), "--trusted-pem", certFile, respFile)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return errors.New(strings.TrimSpace(string(out)))
	}
	if !bytes.Contains(out, []byte("OK")) {
		return errors.New("xmlsec1 did not say OK: " + string(out))
	}
	return nil
}

// freshResponse is a valid response for Alice to a new request of sp.
func freshResponse(t *testing.T, f *fixture, sp *testSP) postedResponse {
	t.Helper()
	return readForm(t, get(t, f.signIn(t, f.alice, "pwd", "totp"), sp.redirectURL(t, "")))
}

func TestSignaturesVerifyWithXmlsec1(t *testing.T) {
	bin := testenv.Require(t, "xmlsec1")["xmlsec1"]
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, allAttrs...)
	resp := freshResponse(t, f, sp).xml(t)
	for _, assertion := range []bool{false, true} {
		if err := xmlsec1Verify(t, bin, f, resp, assertion); err != nil {
			t.Errorf("xmlsec1 (assertion %v) refused our signature: %v", assertion, err)
		}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(resp); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"./Signature/SignedInfo/SignatureMethod", "./Assertion/Signature/SignedInfo/SignatureMethod"} {
		el := doc.Root().FindElement(path)
		if el == nil || el.SelectAttrValue("Algorithm", "") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
			t.Errorf("%s is not RSA-SHA256: %v", path, el)
		}
	}
}

// mutate parses the response, applies fn and re-encodes it as the SP would receive it.
func mutate(t *testing.T, resp []byte, fn func(root *etree.Element)) string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(resp); err != nil {
		t.Fatal(err)
	}
	fn(doc.Root())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func removeSignature(el *etree.Element) {
	if sig := el.SelectElement("Signature"); sig != nil {
		el.RemoveChild(sig)
	}
}

// Every row is a response an attacker (or a mistake) puts in front of a service provider; the
// independent SP must refuse it, and where the attack is on the signature, xmlsec1 must too.
func TestAttacksRejectedByValidators(t *testing.T) {
	xmlsec, _ := testenv.Require(t, "xmlsec1")["xmlsec1"]
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, allAttrs...)

	cases := []struct {
		name string
		// attack returns what reaches the SP and the SP that receives it.
		attack func(t *testing.T) (string, *testSP)
		// xmlsec says whether xmlsec1 must refuse the signatures too.
		xmlsec bool
	}{
		{"replayed response", func(t *testing.T) (string, *testSP) {
			r := freshResponse(t, f, sp)
			if _, err := sp.accept(r.samlResponse); err != nil {
				t.Fatalf("first delivery refused: %v", err)
			}
			return r.samlResponse, sp
		}, false},
		{"wrong audience", func(t *testing.T) (string, *testSP) {
			other := newTestSP(t, f, "https://evil.test/saml/metadata", wikiACS)
			return freshResponse(t, f, sp).samlResponse, other
		}, false},
		{"wrong recipient", func(t *testing.T) (string, *testSP) {
			other := newTestSP(t, f, wikiEntity, "https://wiki.test/other/acs")
			return freshResponse(t, f, sp).samlResponse, other
		}, false},
		{"expired", func(t *testing.T) (string, *testSP) {
			late := newTestSP(t, f, wikiEntity, wikiACS)
			late.sp.Clock = dsig.NewFakeClockAt(time.Now().Add(10 * time.Minute))
			r := freshResponse(t, f, sp)
			late.outstanding = sp.outstanding
			return r.samlResponse, late
		}, false},
		{"unsigned", func(t *testing.T) (string, *testSP) {
			return mutate(t, freshResponse(t, f, sp).xml(t), func(root *etree.Element) {
				removeSignature(root)
				removeSignature(root.SelectElement("Assertion"))
			}), sp
		}, true},
		{"tampered assertion", func(t *testing.T) (string, *testSP) {
			return mutate(t, freshResponse(t, f, sp).xml(t), func(root *etree.Element) {
				root.FindElement("./Assertion/Subject/NameID").SetText("someone-else")
			}), sp
		}, true},
		{"tampered assertion, response signature stripped", func(t *testing.T) (string, *testSP) {
			return mutate(t, freshResponse(t, f, sp).xml(t), func(root *etree.Element) {
				removeSignature(root)
				root.FindElement("./Assertion/AttributeStatement/Attribute/AttributeValue").SetText("mallory@evil.test")
			}), sp
		}, true},
		{"signature wrapping: forged assertion before the signed one", func(t *testing.T) (string, *testSP) {
			return mutate(t, freshResponse(t, f, sp).xml(t), func(root *etree.Element) {
				removeSignature(root)
				signed := root.SelectElement("Assertion")
				forged := signed.Copy()
				removeSignature(forged)
				forged.FindElement("./Subject/NameID").SetText("mallory")
				root.InsertChildAt(signed.Index(), forged)
			}), sp
		}, false},
		{"signature wrapping: signed assertion hidden inside the forged one", func(t *testing.T) (string, *testSP) {
			return mutate(t, freshResponse(t, f, sp).xml(t), func(root *etree.Element) {
				removeSignature(root)
				signed := root.SelectElement("Assertion")
				forged := signed.Copy()
				removeSignature(forged)
				forged.FindElement("./Subject/NameID").SetText("mallory")
				root.RemoveChild(signed)
				forged.FindElement("./Subject").AddChild(signed)
				root.AddChild(forged)
			}), sp
		}, false},
		{"signature wrapping: forged assertion with a new ID, signed one kept in Extensions", func(t *testing.T) (string, *testSP) {
			return mutate(t, freshResponse(t, f, sp).xml(t), func(root *etree.Element) {
				signed := root.SelectElement("Assertion")
				forged := signed.Copy()
				removeSignature(forged)
				forged.CreateAttr("ID", "id-forged")
				forged.FindElement("./Subject/NameID").SetText("mallory")
				root.RemoveChild(signed)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(signed)
				root.InsertChildAt(root.SelectElement("Status").Index(), ext)
				root.AddChild(forged)
			}), sp
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			encoded, receiver := tc.attack(t)
			info, err := receiver.accept(encoded)
			if err == nil {
				t.Fatalf("the SP accepted it: NameID %q", info.NameID)
			}
			t.Logf("refused: %v", err)
			if tc.xmlsec && xmlsec != "" {
				raw, _ := base64.StdEncoding.DecodeString(encoded)
				// The response signature is gone or broken in every such row; the assertion's
				// signature is broken when the assertion was touched.
				respErr := xmlsec1Verify(t, xmlsec, f, raw, false)
				assertErr := xmlsec1Verify(t, xmlsec, f, raw, true)
				if respErr == nil || assertErr == nil {
					t.Errorf("xmlsec1 verified a signature it should refuse (response err %v, assertion err %v)", respErr, assertErr)
				}
			}
		})
	}
}

// Each row is refused by our IdP itself: no response form is written at all.
func TestAttacksRejectedByIdP(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
	unknown := newTestSP(t, f, "https://unregistered.test/saml", "https://unregistered.test/acs")
	badACS := newTestSP(t, f, wikiEntity, "https://evil.test/steal")

	leaver := f.alice
	cases := []struct {
		name   string
		client func(t *testing.T) *http.Client
		url    func(t *testing.T) string
		status int
		page   string
		// audited names the person whose refusal must be in the audit log.
		audited string
	}{
		{"AuthnRequest from an unknown SP", func(t *testing.T) *http.Client { return f.signIn(t, f.alice, "pwd", "totp") },
			func(t *testing.T) string { return unknown.redirectURL(t, "") }, http.StatusBadRequest, "Unknown application", ""},
		{"ACS URL not in the SP's metadata", func(t *testing.T) *http.Client { return f.signIn(t, f.alice, "pwd", "totp") },
			func(t *testing.T) string { return badACS.redirectURL(t, "") }, http.StatusBadRequest, "address it has not registered", ""},
		{"session without a second factor", func(t *testing.T) *http.Client { return f.signIn(t, f.alice, "pwd") },
			func(t *testing.T) string { return sp.redirectURL(t, "") }, http.StatusForbidden, "second factor is required", f.alice.ID},
		{"person without the app's grant", func(t *testing.T) *http.Client { return f.signIn(t, f.carl, "pwd", "totp") },
			func(t *testing.T) string { return sp.redirectURL(t, "") }, http.StatusForbidden, "No access to this application", f.carl.ID},
		{"terminated person's live session", func(t *testing.T) *http.Client {
			c := f.signIn(t, leaver, "pwd", "totp")
			// The session works, then HR terminates the person; the session is still live in
			// the session source (the fake does not check), so the IdP's own check must refuse.
			readForm(t, get(t, c, sp.redirectURL(t, "")))
			if _, err := f.store.UpdatePerson(context.Background(), leaver.ID, func(p *identity.Person) error {
				p.Status = identity.Terminated
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return c
		}, func(t *testing.T) string { return sp.redirectURL(t, "") }, http.StatusForbidden, "not active", f.alice.ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(auditRecords(t, f.store, "saml.sso.refused"))
			c := tc.client(t)
			resp := get(t, c, tc.url(t))
			body := readBody(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.page) {
				t.Errorf("got %d, want %d with %q; body:\n%s", resp.StatusCode, tc.status, tc.page, body)
			}
			if strings.Contains(body, "SAMLResponse") {
				t.Error("a response was written")
			}
			recs := auditRecords(t, f.store, "saml.sso.refused")
			if tc.audited == "" {
				if len(recs) != before {
					t.Errorf("audit records %d → %d, want none for a request refused before sign-in", before, len(recs))
				}
				return
			}
			if len(recs) != before+1 || recs[len(recs)-1].Target != "person:"+tc.audited {
				t.Fatalf("want one new saml.sso.refused record for person:%s, got %d → %d", tc.audited, before, len(recs))
			}
			var after map[string]string
			_ = json.Unmarshal(recs[len(recs)-1].After, &after)
			if after["sp"] != wikiEntity || after["reason"] == "" {
				t.Errorf("audit record says %v; want the SP and a reason", after)
			}
		})
	}
}

// The assertion maker is the second lock: even handed a session straight from a caller that
// skipped the session provider, it makes no assertion without the multi-factor class.
func TestAssertionMakerRefusesSingleFactorSession(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
	r, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/saml/sso", nil)
	ed, err := f.idp.GetServiceProvider(r, wikiEntity)
	if err != nil {
		t.Fatal(err)
	}
	req := &saml.IdpAuthnRequest{IDP: &saml.IdentityProvider{}, HTTPRequest: r, ServiceProviderMetadata: ed, Now: time.Now()}
	for _, class := range []string{"", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"} {
		err := f.idp.MakeAssertion(req, &saml.Session{NameID: "x", AuthnContextClassRef: class})
		if !errors.Is(err, idp.ErrNoSecondFactor) || req.Assertion != nil {
			t.Errorf("class %q: err %v, assertion %v; want ErrNoSecondFactor and none", class, err, req.Assertion)
		}
	}
}

// An SP that asks for its response at an HTTP-Artifact endpoint cannot be answered: the IdP
// says so before the login page, rather than after the person signed in.
func TestUnsendableACSRefusedBeforeLogin(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	const artifactACS = "https://wiki.test/saml/artifact"
	sp := newTestSP(t, f, wikiEntity, artifactACS)
	md := strings.Replace(newTestSP(t, f, wikiEntity, wikiACS).metadata(), "</md:SPSSODescriptor>",
		`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="`+artifactACS+`" index="2"/></md:SPSSODescriptor>`, 1)
	if _, err := f.store.PutSAMLServiceProvider(context.Background(), directory.SAMLServiceProvider{EntityID: wikiEntity, App: "wiki",
		NameIDFormat: directory.NameIDPersistent, Metadata: md}); err != nil {
		t.Fatal(err)
	}
	resp := get(t, f.client(t), sp.redirectURL(t, ""))
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not support (only HTTP-POST)") {
		t.Errorf("artifact ACS without a session: %d, want 400 before any login redirect; body %s", resp.StatusCode, body)
	}
}

// A signed AuthnRequest (HTTP-Redirect query signature, checked against the SP's metadata) is
// answered once; the same request sent again, or with its signature broken, is refused.
func TestSignedAuthnRequestReplayAndTamperRefused(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	signed, sp := signedRequest(t, f)
	c := f.signIn(t, f.alice, "pwd", "totp")
	if _, err := sp.accept(readForm(t, get(t, c, signed)).samlResponse); err != nil {
		t.Fatalf("first use of the signed request: %v", err)
	}
	u := mustURL(t, signed)
	q := u.Query()
	sig, _ := base64.StdEncoding.DecodeString(q.Get("Signature"))
	sig[10] ^= 0xff
	q.Set("Signature", base64.StdEncoding.EncodeToString(sig))
	u.RawQuery = q.Encode()
	for name, target := range map[string]string{"replayed": signed, "signature tampered": u.String()} {
		resp := get(t, c, target)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, "SAMLResponse") {
			t.Errorf("%s signed request: %d, want 400 and no response; body %s", name, resp.StatusCode, body)
		}
	}
	// Unsigned requests from an SP that signs are refused as well.
	unsigned := newTestSP(t, f, wikiEntity, wikiACS)
	resp := get(t, c, unsigned.redirectURL(t, ""))
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || strings.Contains(body, "SAMLResponse") {
		t.Errorf("unsigned request from a signing SP: %d, want 400", resp.StatusCode)
	}
}

// signedRequest registers an SP that signs its AuthnRequests (HTTP-Redirect query signature)
// and returns one such request's URL at the fixture's server.
func signedRequest(t *testing.T, f *fixture) (string, *testSP) {
	t.Helper()
	spKey, err := idp.GenerateSigningKey("sp.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k, err := idp.LoadKeysFromPEM(spKey)
	if err != nil {
		t.Fatal(err)
	}
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.sp.SignAuthnRequests = true
	if err := sp.sp.SetSPSigningKeyStore(&saml2.KeyStore{Signer: k.Key, Cert: k.Cert.Raw}); err != nil {
		t.Fatal(err)
	}
	md := strings.Replace(sp.metadata(), `WantAssertionsSigned="true">`, `WantAssertionsSigned="true" AuthnRequestsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>`+
		base64.StdEncoding.EncodeToString(k.Cert.Raw)+`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`, 1)
	if _, err := f.store.PutSAMLServiceProvider(context.Background(), directory.SAMLServiceProvider{EntityID: wikiEntity, App: "wiki",
		NameIDFormat: directory.NameIDPersistent, Attributes: []string{"email"}, Metadata: md}); err != nil {
		t.Fatal(err)
	}
	doc, err := sp.sp.BuildAuthRequestDocumentNoSig()
	if err != nil {
		t.Fatal(err)
	}
	sp.outstanding[doc.Root().SelectAttrValue("ID", "")] = true
	signed, err := sp.sp.BuildAuthURLRedirect("", doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(signed, "Signature=") {
		t.Fatalf("the request URL is not signed: %s", signed)
	}
	return signed, sp
}
