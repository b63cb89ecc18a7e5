package googlefake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Scopes a delegated service account needs for what Tenure does.
const (
	ScopeUser        = "https://www.googleapis.com/auth/admin.directory.user"
	ScopeGroupMember = "https://www.googleapis.com/auth/admin.directory.group.member"
	ScopeGroup       = "https://www.googleapis.com/auth/admin.directory.group"
)

type trustedKey struct {
	pub    *rsa.PublicKey
	scopes []string // scopes delegated to the client in the admin console
}

type token struct {
	subject string
	scopes  []string
	expires time.Time
}

// ServiceAccount is a service account key as the Google Cloud console downloads it.
type ServiceAccount struct {
	ClientEmail  string
	PrivateKeyID string
	Key          *rsa.PrivateKey
}

// NewServiceAccount makes a service account with a fresh RSA key.
func NewServiceAccount(clientEmail string) (*ServiceAccount, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 20)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return &ServiceAccount{ClientEmail: clientEmail, PrivateKeyID: fmt.Sprintf("%x", id), Key: k}, nil
}

// KeyFile returns the JSON key file, with tokenURI as its token_uri.
func (s *ServiceAccount) KeyFile(tokenURI string) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(s.Key) // an RSA key always marshals
	b, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": "tenure-fake", "private_key_id": s.PrivateKeyID,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": s.ClientEmail, "client_id": "100000000000000000001",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": tokenURI,
	}, "", "  ")
	return b
}

// Delegate trusts the service account's public key and grants it domain-wide delegation of
// scopes, as an admin does in the admin console.
func (f *Fake) Delegate(clientEmail string, pub *rsa.PublicKey, scopes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[clientEmail] = trustedKey{pub: pub, scopes: slices.Clone(scopes)}
}

// AddAdmin makes email a super admin a delegated service account may impersonate.
func (f *Fake) AddAdmin(email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admins[lower(email)] = true
}

// RemoveAdmin takes super admin away from email; tokens already issued for it stop working
// with 403 forbidden.
func (f *Fake) RemoveAdmin(email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.admins, lower(email))
}

// token is the OAuth 2.0 token endpoint for the JWT bearer grant (RFC 7523).
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "Bad Request")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	audience := f.opts.TokenURL
	if audience == "" {
		audience = "http://" + r.Host + r.URL.Path
	}
	claims, err := f.verifyAssertion(r.PostForm.Get("assertion"), audience)
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := f.keys[claims.Iss]
	scopes := strings.Fields(claims.Scope)
	for _, s := range scopes {
		if !slices.Contains(key.scopes, s) {
			tokenError(w, http.StatusUnauthorized, "unauthorized_client",
				"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
			return
		}
	}
	if !f.admins[lower(claims.Sub)] {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid email or User ID")
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	access := "ya29.fake-" + base64.RawURLEncoding.EncodeToString(b)
	f.tokens[access] = token{subject: lower(claims.Sub), scopes: scopes, expires: f.opts.Now().Add(time.Hour)}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3599})
}

type claimSet struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
}

// verifyAssertion checks an RS256 JWT with crypto/rsa directly, independently of the client's
// signing library. Its errors are Google's invalid_grant descriptions.
func (f *Fake) verifyAssertion(jwt, audience string) (claimSet, error) {
	var c claimSet
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, errors.New("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
	}
	var hdr struct{ Alg, Typ string }
	if err := decodeSegment(parts[0], &hdr); err != nil || hdr.Alg != "RS256" {
		return c, errors.New("Invalid JWT Signature.")
	}
	if err := decodeSegment(parts[1], &c); err != nil {
		return c, errors.New("Invalid JWT: malformed claims.")
	}
	f.mu.Lock()
	key, ok := f.keys[c.Iss]
	now := f.opts.Now()
	f.mu.Unlock()
	if !ok {
		return c, errors.New("Invalid JWT Signature.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, errors.New("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, sum[:], sig) != nil {
		return c, errors.New("Invalid JWT Signature.")
	}
	if c.Aud != audience {
		return c, errors.New("Invalid JWT: Failed audience check.")
	}
	iat, exp := time.Unix(c.Iat, 0), time.Unix(c.Exp, 0)
	if exp.Before(now) || iat.After(now.Add(5*time.Minute)) || exp.Sub(iat) > time.Hour {
		return c, errors.New("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	return c, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// authorize checks the bearer token (401 when missing or expired) and that it carries a scope
// the route needs (403 insufficientPermissions otherwise).
func (f *Fake) authorize(r *http.Request) int {
	access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return http.StatusUnauthorized
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[access]
	if !ok || !f.opts.Now().Before(t.expires) {
		return http.StatusUnauthorized
	}
	need := []string{ScopeUser}
	if strings.Contains(r.URL.Path, "/groups") {
		need = []string{ScopeGroupMember, ScopeGroup}
	}
	if !slices.ContainsFunc(t.scopes, func(s string) bool { return slices.Contains(need, s) }) {
		return http.StatusForbidden
	}
	if !f.admins[t.subject] {
		return http.StatusNotAcceptable // the impersonated admin lost the privilege: forbidden
	}
	return http.StatusOK
}

// RevokeTokens invalidates every access token issued so far, as an admin revoking the
// service account's sessions does.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.tokens {
		t.expires = time.Time{}
		f.tokens[k] = t
	}
}

// TokensIssued returns how many access tokens the token endpoint has handed out.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}
