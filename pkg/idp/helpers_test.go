package idp_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }

// One generated key per test binary: RSA generation is the slow part of a fixture.
var (
	keyOnce sync.Once
	keyMat  directory.SAMLSigningKey
	keyErr  error
)

func testKey(t testing.TB) directory.SAMLSigningKey {
	t.Helper()
	keyOnce.Do(func() { keyMat, keyErr = idp.GenerateSigningKey("idp.test", time.Now()) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyMat
}

// fakeSessions is a session source keyed by a test cookie; what sessions exist is up to the test.
// Each is also stored as a signed-in session, whose ID it takes, since single logout records
// its participants against stored sessions.
type fakeSessions struct {
	store *sqlstore.Store
	mu    sync.Mutex
	m     map[string]authn.Session
}

const sessionCookie = "test_session"

func (f *fakeSessions) Current(r *http.Request) (authn.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return authn.Session{}, fmt.Errorf("%w: no cookie", authn.ErrNoSession)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.m[c.Value]
	if !ok {
		return authn.Session{}, fmt.Errorf("%w: unknown", authn.ErrNoSession)
	}
	return s, nil
}

func (f *fakeSessions) add(token string, s authn.Session) {
	sum := sha256.Sum256([]byte(token))
	as, err := f.store.CreateAuthSession(context.Background(), directory.AuthSession{TokenHash: hex.EncodeToString(sum[:]),
		PersonID: s.PersonID, Stage: directory.StageSigned, Methods: s.Methods, AuthnAt: s.AuthnAt, LastSeen: s.LastSeen,
		ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	s.ID = as.ID
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]authn.Session{}
	}
	f.m[token] = s
}

// fixture is an IdP on a loopback server over a directory (a SQLite file unless the options
// name a database) with two people: Alice, an engineer granted the wiki, and Carl, a
// contractor granted nothing.
type fixture struct {
	store    *sqlstore.Store
	dbURL    string
	idp      *idp.IdP
	srv      *httptest.Server
	sessions *fakeSessions
	keys     idp.Keys
	cert     *x509.Certificate
	certPEM  string
	nameKey  []byte
	alice    identity.Person
	carl     identity.Person
}

type fixtureOpts struct {
	nextCert *x509.Certificate
	// realSignIn serves pkg/authn's sign-in pages and uses its sessions instead of the fake.
	realSignIn bool
	lifetime   time.Duration
	// dbURL is the database; a fresh SQLite file when empty.
	dbURL string
}

// openStore opens and migrates url, closing it when t ends.
func openStore(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return store
}

func newFixture(t testing.TB, opts fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	if opts.dbURL == "" {
		opts.dbURL = "sqlite://" + filepath.Join(t.TempDir(), "t.db")
	}
	store := openStore(t, opts.dbURL)
	f := &fixture{store: store, dbURL: opts.dbURL, sessions: &fakeSessions{store: store}}
	var err error
	f.alice, err = store.CreatePerson(ctx, identity.Person{EmployeeID: "E1", LegalFirstName: "Alice", LegalLastName: "Liddell",
		PreferredName: "Ally", Username: "alice", WorkEmail: "alice@piedpiper.test", EmploymentType: identity.Employee,
		Status: identity.Active, JobTitle: "Software Engineer"})
	if err != nil {
		t.Fatal(err)
	}
	f.carl, err = store.CreatePerson(ctx, identity.Person{EmployeeID: "C1", LegalFirstName: "Carl", LegalLastName: "Contractor",
		Username: "carl", WorkEmail: "carl@piedpiper.test", EmploymentType: identity.Contractor, Status: identity.Active})
	if err != nil {
		t.Fatal(err)
	}
	mat := testKey(t)
	f.keys, err = idp.LoadKeysFromPEM(mat)
	if err != nil {
		t.Fatal(err)
	}
	f.cert, f.certPEM, f.nameKey = f.keys.Cert, mat.CertPEM, f.keys.NameIDKey
	f.srv, f.idp = f.serve(t, store, nil, opts)
	return f
}

// serve starts an IdP over store on a loopback server of its own. base is the URL the IdP
// names itself by — replicas share the load balancer's — and the server's own when nil.
func (f *fixture) serve(t testing.TB, store *sqlstore.Store, base *url.URL, opts fixtureOpts) (*httptest.Server, *idp.IdP) {
	t.Helper()
	set, err := policy.LoadDir("testdata/policy")
	if err != nil {
		t.Fatal(err)
	}
	access := &idp.PolicyAccess{Resolver: policy.NewResolver(set), MaxAge: time.Minute, Clock: time.Now,
		Load: func(ctx context.Context, now time.Time) (*policy.Snapshot, error) {
			people, err := store.ListPeople(ctx, directory.PersonFilter{})
			if err != nil {
				return nil, err
			}
			return policy.NewSnapshot(policy.SnapshotData{Now: now, People: people}), nil
		}}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	if base == nil {
		base, _ = url.Parse(srv.URL)
	}
	mux := http.NewServeMux()
	var sessions idp.Sessions = f.sessions
	if opts.realSignIn {
		m, err := authn.New(authn.Options{Store: store, PublicURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		sessions = m
		for _, p := range []string{"/login", "/logout", "/mfa/", "/activate/"} {
			mux.Handle(p, m.Handler())
		}
	} else {
		mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "login page") })
	}
	k := f.keys
	p, err := idp.New(idp.Config{BaseURL: base, Key: k.Key, Cert: k.Cert, NextCert: opts.nextCert, NameIDKey: k.NameIDKey,
		AssertionLifetime: opts.lifetime, Sessions: sessions, People: store, ServiceProviders: store, Access: access, Audit: store,
		Parking: store, Replay: store, Participants: store})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := sessions.(*authn.Manager); ok {
		m.SetAppSignOut(p)
	}
	mux.Handle("/saml/", p.Handler())
	srv.Config.Handler = mux
	return srv, p
}

// replica is another IdP server on the fixture's database, through a connection pool of its
// own, named as the first: replicas sit behind one load balancer address, so the SP's request
// and the IdP's response carry the same URLs whichever replica serves them.
func (f *fixture) replica(t testing.TB, opts fixtureOpts) *httptest.Server {
	t.Helper()
	srv, _ := f.serve(t, openStore(t, f.dbURL), mustURL(t, f.srv.URL), opts)
	return srv
}

// signIn gives the person a session with the given methods and returns a client carrying it.
func (f *fixture) signIn(t testing.TB, p identity.Person, methods ...string) *http.Client {
	t.Helper()
	c, _ := f.signInToken(t, p, methods...)
	return c
}

// signInToken is signIn, also returning the session's cookie token.
func (f *fixture) signInToken(t testing.TB, p identity.Person, methods ...string) (*http.Client, string) {
	t.Helper()
	token := fmt.Sprintf("tok-%s-%d", p.ID, time.Now().UnixNano())
	now := time.Now()
	f.sessions.add(token, authn.Session{ID: "s-" + token, PersonID: p.ID, AuthnAt: now, LastSeen: now, Methods: methods})
	c := f.client(t)
	u, _ := url.Parse(f.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: token, Path: "/"}})
	return c, token
}

// client follows no redirects: the tests look at each hop.
func (f *fixture) client(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// testSP is a service provider built on gosaml2, an implementation independent of crewjam, plus
// the two checks gosaml2 leaves to its caller: InResponseTo must answer a request this SP sent
// and not yet used, and an assertion ID is accepted once.
type testSP struct {
	sp          *saml2.SAMLServiceProvider
	entityID    string
	acs         string
	mu          sync.Mutex
	outstanding map[string]bool
	seen        map[string]bool
}

func newTestSP(t testing.TB, f *fixture, entityID, acs string) *testSP {
	t.Helper()
	store := dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{f.cert}}
	return &testSP{entityID: entityID, acs: acs, outstanding: map[string]bool{}, seen: map[string]bool{},
		sp: &saml2.SAMLServiceProvider{
			IdentityProviderSSOURL:      f.srv.URL + "/saml/sso",
			IdentityProviderIssuer:      f.idp.EntityID(),
			ServiceProviderIssuer:       entityID,
			AssertionConsumerServiceURL: acs,
			AudienceURI:                 entityID,
			IDPCertificateStore:         &store,
			Clock:                       dsig.NewRealClock(),
		}}
}

func (s *testSP) metadata() string {
	return fmt.Sprintf(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAssertionsSigned="true">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`, s.entityID, s.acs)
}

// register adds the SP to the IdP's registry.
func (s *testSP) register(t testing.TB, f *fixture, app string, format directory.NameIDFormat, attrs ...string) {
	t.Helper()
	if _, err := f.store.PutSAMLServiceProvider(context.Background(), directory.SAMLServiceProvider{EntityID: s.entityID, App: app,
		NameIDFormat: format, Attributes: attrs, Metadata: s.metadata()}); err != nil {
		t.Fatal(err)
	}
}

// authnRequest returns a fresh AuthnRequest document and remembers its ID as outstanding.
func (s *testSP) authnRequest(t testing.TB) *etree.Document {
	t.Helper()
	doc, err := s.sp.BuildAuthRequestDocument()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.outstanding[doc.Root().SelectAttrValue("ID", "")] = true
	s.mu.Unlock()
	return doc
}

// redirectURL is the HTTP-Redirect binding URL of a new request.
func (s *testSP) redirectURL(t testing.TB, relay string) string {
	t.Helper()
	u, err := s.sp.BuildAuthURLFromDocument(relay, s.authnRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var errRejected = errors.New("service provider rejected the response")

// accept is what the SP's assertion consumer service does with a posted SAMLResponse.
func (s *testSP) accept(encoded string) (*saml2.AssertionInfo, error) {
	info, err := s.sp.RetrieveAssertionInfo(encoded)
	if err != nil {
		return nil, err
	}
	switch {
	case info.WarningInfo.NotInAudience:
		return nil, fmt.Errorf("%w: not in audience", errRejected)
	case info.WarningInfo.InvalidTime:
		return nil, fmt.Errorf("%w: outside its validity window", errRejected)
	}
	a := info.Assertions[0]
	irt := ""
	if a.Subject != nil && a.Subject.SubjectConfirmation != nil && a.Subject.SubjectConfirmation.SubjectConfirmationData != nil {
		irt = a.Subject.SubjectConfirmation.SubjectConfirmationData.InResponseTo
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[a.ID] {
		return nil, fmt.Errorf("%w: assertion %s replayed", errRejected, a.ID)
	}
	if irt != "" {
		if !s.outstanding[irt] {
			return nil, fmt.Errorf("%w: InResponseTo %q answers no request of ours", errRejected, irt)
		}
		delete(s.outstanding, irt)
	}
	s.seen[a.ID] = true
	return info, nil
}

var (
	formResponse = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)
	formAction   = regexp.MustCompile(`action="([^"]*)"`)
	formRelay    = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
)

// postedResponse is what the IdP's auto-submitting form would post to the SP.
type postedResponse struct {
	action, samlResponse, relay string
}

func (p postedResponse) xml(t testing.TB) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(p.samlResponse)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readForm(t testing.TB, resp *http.Response) postedResponse {
	t.Helper()
	body := readBody(t, resp)
	p := parseForm(t, resp.StatusCode, body)
	checkFormPolicy(t, resp.Header.Get("Content-Security-Policy"), body)
	return p
}

var formScript = regexp.MustCompile(`<script>(.*?)</script>`)

// checkFormPolicy wants the page carrying an assertion to run its own script and no other
// (by hash), and not to be framed.
func checkFormPolicy(t testing.TB, policy, body string) {
	t.Helper()
	m := formScript.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no auto-submit script in the response page:\n%s", body)
	}
	sum := sha256.Sum256([]byte(m[1]))
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'", "frame-ancestors 'none'"} {
		if !strings.Contains(policy, want) {
			t.Fatalf("response page's Content-Security-Policy %q lacks %q", policy, want)
		}
	}
}

// parseForm reads the response form out of a page the IdP answered with status.
func parseForm(t testing.TB, status int, body string) postedResponse {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("IdP answered %d, want 200 with a response form; body:\n%s", status, body)
	}
	m := formResponse.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no SAMLResponse in the IdP's page:\n%s", body)
	}
	p := postedResponse{samlResponse: html.UnescapeString(m[1])}
	if a := formAction.FindStringSubmatch(body); a != nil {
		p.action = html.UnescapeString(a[1])
	}
	if r := formRelay.FindStringSubmatch(body); r != nil {
		p.relay = html.UnescapeString(r[1])
	}
	return p
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func get(t testing.TB, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// auditActions returns the audit records with the given action.
func auditRecords(t testing.TB, s *sqlstore.Store, action string) []identity.AuditRecord {
	t.Helper()
	recs, err := s.AuditRecords(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []identity.AuditRecord
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func certPEMOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func parseIdPMetadata(b []byte) (*types.EntityDescriptor, error) {
	var ed types.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		return nil, err
	}
	if ed.IDPSSODescriptor == nil {
		return nil, errors.New("metadata has no IDPSSODescriptor")
	}
	return &ed, nil
}

func signingCerts(ed *types.EntityDescriptor) []string {
	var out []string
	for _, kd := range ed.IDPSSODescriptor.KeyDescriptors {
		if kd.Use == "signing" || kd.Use == "" {
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				out = append(out, strings.Join(strings.Fields(c.Data), ""))
			}
		}
	}
	return out
}

func ssoBindings(ed *types.EntityDescriptor) []string {
	var out []string
	for _, s := range ed.IDPSSODescriptor.SingleSignOnServices {
		out = append(out, s.Binding)
	}
	return out
}

// testNextCert is a second certificate, as an operator would stage before a rotation.
func testNextCert(t testing.TB) *x509.Certificate {
	t.Helper()
	m, err := idp.GenerateSigningKey("next.idp.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k, err := idp.LoadKeysFromPEM(m)
	if err != nil {
		t.Fatal(err)
	}
	return k.Cert
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
