package google

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2/jws"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Scopes the service account must be granted domain-wide in the admin console
// (Security ▸ API controls ▸ Domain-wide delegation).
var Scopes = []string{
	"https://www.googleapis.com/auth/admin.directory.user",
	"https://www.googleapis.com/auth/admin.directory.group.member",
}

// DefaultTokenURL is Google's OAuth 2.0 token endpoint.
const DefaultTokenURL = "https://oauth2.googleapis.com/token"

// serviceAccount is the part of a JSON key file the JWT bearer flow needs. The private key
// stays in this struct; nothing formats it.
type serviceAccount struct {
	ClientEmail  string `json:"client_email"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	TokenURI     string `json:"token_uri"`
}

// parseKeyFile reads a service-account key file. Its errors never quote the file.
func parseKeyFile(b []byte) (serviceAccount, *rsa.PrivateKey, error) {
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return sa, nil, errors.New("service-account key: not a JSON key file")
	}
	if sa.ClientEmail == "" || sa.PrivateKey == "" {
		return sa, nil, errors.New("service-account key: client_email and private_key are required")
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return sa, nil, errors.New("service-account key: private_key is not PEM")
	}
	var key any
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return sa, nil, errors.New("service-account key: private_key is neither PKCS#8 nor PKCS#1")
		}
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return sa, nil, errors.New("service-account key: private_key is not an RSA key")
	}
	return sa, rk, nil
}

// tokens fetches and caches access tokens with the JWT bearer grant (RFC 7523), impersonating
// the admin. The fetch runs under the caller's context, so a hanging token endpoint cannot
// outlive the request that needed it.
type tokens struct {
	http     *http.Client
	sa       serviceAccount
	key      *rsa.PrivateKey
	tokenURL string
	subject  string
	now      func() time.Time

	mu      sync.Mutex
	access  string
	expires time.Time
}

func (t *tokens) token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Renew a minute early so a token does not expire in flight.
	if t.access != "" && t.now().Add(time.Minute).Before(t.expires) {
		return t.access, nil
	}
	now := t.now()
	assertion, err := jws.Encode(&jws.Header{Algorithm: "RS256", Typ: "JWT", KeyID: t.sa.PrivateKeyID}, &jws.ClaimSet{
		Iss: t.sa.ClientEmail, Sub: t.subject, Scope: strings.Join(Scopes, " "), Aud: t.tokenURL,
		Iat: now.Unix(), Exp: now.Add(time.Hour).Unix(),
	}, t.key)
	if err != nil {
		return "", errors.New("google: signing the token assertion failed")
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("google: token_url: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := t.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("google: token request: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("google: token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", tokenError(resp, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", &connector.Error{Kind: connector.ErrUnavailable, Status: resp.StatusCode, Detail: "token endpoint answered without an access token"}
	}
	t.access, t.expires = tok.AccessToken, now.Add(time.Duration(tok.ExpiresIn)*time.Second)
	return t.access, nil
}

// forget drops access from the cache, unless another request has already replaced it.
func (t *tokens) forget(access string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == access {
		t.access = ""
	}
}

// tokenError turns an OAuth error answer into a connector error: refusals of the assertion or
// the delegation are credential problems, the rest is the endpoint's trouble.
func tokenError(resp *http.Response, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	detail := "token endpoint: " + e.Error
	if e.Description != "" {
		detail += ": " + e.Description
	}
	kind := connector.ErrUnauthorized
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		kind = connector.ErrRateLimited
	case resp.StatusCode >= 500:
		kind = connector.ErrUnavailable
	}
	return &connector.Error{Kind: kind, Status: resp.StatusCode, Detail: truncate(detail)}
}

// redactURLError drops the query string from a *url.Error, where a page token or search value
// would otherwise be repeated into logs.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
