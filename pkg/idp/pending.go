package idp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// pending is an SP-initiated request waiting for its browser to sign in, kept as it arrived so
// that the SSO continues exactly as if the browser had sent it again — signatures included,
// and whatever its binding (an HTTP-POST request cannot survive a redirect through /login).
type pending struct {
	Method     string // GET (HTTP-Redirect) or POST (HTTP-POST, SimpleSign)
	RawQuery   string
	Form       url.Values
	ReceivedAt time.Time
}

var (
	errTooManyPending = errors.New("idp: too many sign-ins in progress")
	errPendingTooBig  = errors.New("idp: request too large to park")
)

// maxPendingSize bounds one parked request: real AuthnRequests are a few KiB, and the store
// holds up to max of them for anyone who asks.
const maxPendingSize = 16 << 10

// pendingStore keeps pending requests in memory, under random keys, for ttl.
type pendingStore struct {
	mu  sync.Mutex
	m   map[string]pending
	ttl time.Duration
	max int
}

func newPendingStore(ttl time.Duration, max int) *pendingStore {
	return &pendingStore{m: map[string]pending{}, ttl: ttl, max: max}
}

func (s *pendingStore) put(p pending, now time.Time) (string, error) {
	if p.size() > maxPendingSize {
		return "", errPendingTooBig
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	key := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		for k, v := range s.m {
			if now.Sub(v.ReceivedAt) >= s.ttl {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.max {
			return "", errTooManyPending
		}
	}
	s.m[key] = p
	return key, nil
}

// get returns the pending request without using it up.
func (s *pendingStore) get(key string, now time.Time) (pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[key]
	if ok && now.Sub(p.ReceivedAt) >= s.ttl {
		delete(s.m, key)
		return pending{}, false
	}
	return p, ok
}

// take returns the pending request and forgets it: a request resumes once.
func (s *pendingStore) take(key string, now time.Time) (pending, bool) {
	p, ok := s.get(key, now)
	if ok {
		s.mu.Lock()
		_, still := s.m[key]
		delete(s.m, key)
		s.mu.Unlock()
		ok = still
	}
	return p, ok
}

// signed reports whether the request carried a signature crewjam verified on arrival: in the
// query (HTTP-Redirect), as SimpleSign fields, or enveloped in a posted request's XML. (An
// enveloped signature inside a deflated HTTP-Redirect request is not looked for.)
func (p pending) signed() bool {
	if p.Form.Has("Signature") || strings.Contains(p.RawQuery, "Signature=") {
		return true
	}
	if raw := p.Form.Get("SAMLRequest"); raw != "" {
		if b, err := base64.StdEncoding.DecodeString(raw); err == nil {
			return strings.Contains(string(b), "SignatureValue")
		}
	}
	return false
}

func (p pending) size() int {
	n := len(p.RawQuery)
	for k, vs := range p.Form {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

func pendingFrom(r *http.Request, now time.Time) pending {
	p := pending{Method: r.Method, ReceivedAt: now}
	if r.Method == http.MethodGet {
		p.RawQuery = r.URL.RawQuery
	} else {
		p.Form = url.Values{}
		for _, k := range []string{"SAMLRequest", "RelayState", "SigAlg", "Signature"} {
			if v, ok := r.PostForm[k]; ok {
				p.Form[k] = v
			}
		}
	}
	return p
}

// request rebuilds the original SSO request on top of r, the resuming browser's request, so
// it carries the browser's session cookie.
func (p pending) request(r *http.Request) *http.Request {
	out := r.Clone(r.Context())
	u := *r.URL
	u.Path = "/saml/sso"
	u.RawQuery = ""
	out.URL = &u
	out.Method = p.Method
	out.Form, out.PostForm = nil, nil
	if p.Method == http.MethodGet {
		out.URL.RawQuery = p.RawQuery
		out.Body = http.NoBody
		out.ContentLength = 0
		return out
	}
	body := p.Form.Encode()
	out.Body = readCloser{strings.NewReader(body)}
	out.ContentLength = int64(len(body))
	out.Header = r.Header.Clone()
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return out
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
