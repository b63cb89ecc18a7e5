package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"github.com/tenure-id/tenure/pkg/clientip"
	"net/http"
	"time"
)

// Cookie names; with SecureCookies they get the __Host- prefix, which browsers only accept from
// a secure origin, for the whole host, without a Domain: a sibling subdomain cannot plant them.
const (
	sessionCookie = "tenure_session"
	csrfCookie    = "tenure_csrf"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

func (m *Manager) cookieName(base string) string {
	if m.opt.SecureCookies {
		return "__Host-" + base
	}
	return base
}

func (m *Manager) setCookie(w http.ResponseWriter, base, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: m.cookieName(base), Value: value, Path: "/", HttpOnly: true,
		Secure: m.opt.SecureCookies, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// setSession hands the browser a session token. The cookie outlives the absolute timeout by
// nothing: the server decides liveness, the cookie is only the bearer.
func (m *Manager) setSession(w http.ResponseWriter, token string, until time.Time) {
	m.setCookie(w, sessionCookie, token, until.Sub(m.now()))
}

// newToken is 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("authn: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what the store keeps of a token: SHA-256 suffices for 256-bit random values.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

type ctxKey int

const csrfKey ctxKey = 0

// protect adds what every page needs: no caching, no framing, no referrer (activation links
// carry their token in the path), a strict content policy (no inline script; the one script,
// for security keys, is served from here and every form works without it), and CSRF
// defence on every POST in two layers: the browser's Sec-Fetch-Site/Origin headers
// (http.CrossOriginProtection) and a double-submit token, for browsers that send neither.
func (m *Manager) protect(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.message(w, r, http.StatusForbidden, "csrf.title", "csrf.text", LoginURL(r.FormValue("next")))
	}))
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		token := ""
		if c, err := r.Cookie(m.cookieName(csrfCookie)); err == nil && len(c.Value) == 43 {
			token = c.Value
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			// Script calls (the WebAuthn ceremonies post JSON) send the token in a header.
			sent := r.Header.Get(csrfHeader)
			if sent == "" {
				sent = r.PostFormValue(csrfField)
			}
			if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				m.opt.Logger.Warn("csrf token missing or wrong", "path", r.URL.Path, "ip", clientIP(r))
				m.message(w, r, http.StatusForbidden, "csrf.title", "csrf.text", LoginURL(r.PostFormValue("next")))
				return
			}
		}
		if token == "" {
			token = newToken()
			m.setCookie(w, csrfCookie, token, 0)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, token)))
	})
	return cop.Handler(inner)
}

func csrfToken(r *http.Request) string {
	s, _ := r.Context().Value(csrfKey).(string)
	return s
}

// clientIP is the visitor's address: the peer, or whom a trusted proxy names (pkg/clientip).
func clientIP(r *http.Request) string { return clientip.From(r) }
