package idp_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory"
)

// sloSP is a gosaml2 service provider with a signing key and an HTTP-POST SingleLogoutService,
// served on a loopback port: /saml/acs signs the browser in, /saml/slo takes the IdP's
// LogoutRequest (answering it with a signed LogoutResponse) or the IdP's LogoutResponse to the
// SP's own request. What it saw is kept for the test to check.
type sloSP struct {
	*testSP
	base string
	key  dsig.X509KeyStore
	// noSLO leaves the SingleLogoutService out of the metadata: the IdP cannot log it out.
	noSLO bool

	mu sync.Mutex
	// nameID and sessionIndex are those of the last assertion accepted.
	nameID, sessionIndex string
	// requests are the LogoutRequests from the IdP it validated (their XML); responses the
	// LogoutResponses it validated; events the order of both across SPs (shared log).
	requests  []*etree.Element
	responses []string
	events    *eventLog
}

type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, s)
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ev...)
}

// newSLOSP serves an SP; events, when set, hears what it receives.
func newSLOSP(t *testing.T, f *fixture, events *eventLog) *sloSP {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	s := &sloSP{testSP: newTestSP(t, f, srv.URL+"/saml/metadata", srv.URL+"/saml/acs"), base: srv.URL,
		key: dsig.RandomKeyStoreForTest(), events: events}
	if s.events == nil {
		s.events = &eventLog{}
	}
	s.sp.SPKeyStore = s.key
	s.sp.SignAuthnRequestsAlgorithm = dsig.RSASHA256SignatureMethod
	s.sp.IdentityProviderSLOURL = f.srv.URL + "/saml/slo"
	s.sp.ServiceProviderSLOURL = srv.URL + "/saml/slo"
	s.sp.NameIdFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /saml/acs", func(w http.ResponseWriter, r *http.Request) {
		info, err := s.accept(r.PostFormValue("SAMLResponse"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		s.mu.Lock()
		s.nameID, s.sessionIndex = info.NameID, info.SessionIndex
		s.mu.Unlock()
		fmt.Fprintf(w, `<p id="welcome">%s</p>`, html.EscapeString(info.NameID))
	})
	mux.HandleFunc("POST /saml/slo", func(w http.ResponseWriter, r *http.Request) {
		if enc := r.PostFormValue("SAMLResponse"); enc != "" {
			resp, err := s.sp.ValidateEncodedLogoutResponsePOST(enc)
			if err != nil {
				http.Error(w, "logout response refused: "+err.Error(), http.StatusForbidden)
				return
			}
			s.mu.Lock()
			s.responses = append(s.responses, enc)
			s.mu.Unlock()
			s.events.add("response to " + s.entityID + " for " + resp.InResponseTo)
			fmt.Fprintf(w, `<p id="sp-signed-out">%s</p>`, html.EscapeString(r.PostFormValue("RelayState")))
			return
		}
		enc := r.PostFormValue("SAMLRequest")
		req, err := s.sp.ValidateEncodedLogoutRequestPOST(enc)
		if err != nil {
			http.Error(w, "logout request refused: "+err.Error(), http.StatusForbidden)
			return
		}
		raw, _ := base64.StdEncoding.DecodeString(enc)
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, doc.Root())
		s.mu.Unlock()
		s.events.add("request to " + s.entityID)
		rdoc, err := s.sp.BuildLogoutResponseDocument(saml2.StatusCodeSuccess, req.ID)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, err := s.sp.BuildLogoutResponseBodyPostFromDocument("", rdoc)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(body)
	})
	srv.Config.Handler = mux
	return s
}

func (s *sloSP) metadata() string {
	slo := ""
	if !s.noSLO {
		slo = fmt.Sprintf(`<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s"/>`, s.sp.ServiceProviderSLOURL)
	}
	_, cert, err := s.key.GetKeyPair()
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAssertionsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    %s
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`, s.entityID, base64.StdEncoding.EncodeToString(cert), slo, s.acs)
}

func (s *sloSP) register(t *testing.T, f *fixture, app string) {
	t.Helper()
	if _, err := f.store.PutSAMLServiceProvider(context.Background(), directory.SAMLServiceProvider{EntityID: s.entityID, App: app,
		NameIDFormat: directory.NameIDPersistent, Attributes: []string{"email"}, Metadata: s.metadata()}); err != nil {
		t.Fatal(err)
	}
}

// signInTo runs SSO to the SP in the browser, which must already be signed in at the IdP.
func (s *sloSP) signInTo(t *testing.T, browser *http.Client) {
	t.Helper()
	p, err := authntest.Get(context.Background(), browser, s.redirectURL(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if p = autoPost(t, browser, p); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="welcome"`) {
		t.Fatalf("SSO to %s ended at %s with %d:\n%s", s.entityID, p.URL, p.Status, p.Body)
	}
}

// logoutRequest is a LogoutRequest of the SP for the subject it last signed in, as an HTTP-POST
// form; signed by the SP's key unless unsigned, and without a SessionIndex if noIndex.
func (s *sloSP) logoutRequest(t *testing.T, signed, noIndex bool) url.Values {
	t.Helper()
	s.mu.Lock()
	nameID, index := s.nameID, s.sessionIndex
	s.mu.Unlock()
	doc, err := s.sp.BuildLogoutRequestDocumentNoSig(nameID, index)
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if noIndex {
		root.RemoveChild(root.SelectElement("SessionIndex"))
	}
	if signed {
		if root, err = s.sp.SignLogoutRequest(root); err != nil {
			t.Fatal(err)
		}
	}
	out := etree.NewDocument()
	out.SetRoot(root)
	b, err := out.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}, "RelayState": {"back-to-" + s.entityID}}
}

var (
	anyFormAction = regexp.MustCompile(`(?i)<form[^>]*action="([^"]*)"`)
	hiddenInput   = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)"`)
)

// autoPost does what a browser does with the IdP's and SPs' auto-submitting forms: it posts
// each until a page without one.
func autoPost(t *testing.T, browser *http.Client, p authntest.Page) authntest.Page {
	t.Helper()
	for range 20 {
		m := anyFormAction.FindStringSubmatch(p.Body)
		if m == nil || !strings.Contains(p.Body, `name="SAML`) {
			return p
		}
		form := url.Values{}
		for _, in := range hiddenInput.FindAllStringSubmatch(p.Body, -1) {
			form.Set(in[1], html.UnescapeString(in[2]))
		}
		target := p.URL.ResolveReference(mustURL(t, html.UnescapeString(m[1])))
		var err error
		if p, err = authntest.Post(context.Background(), browser, target.String(), form); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("more than 20 auto-submitting forms in a row")
	return p
}
