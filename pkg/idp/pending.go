package idp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// pending is an SP-initiated request waiting for its browser to sign in, kept as it arrived so
// that the SSO continues exactly as if the browser had sent it again — signatures included,
// and whatever its binding (an HTTP-POST request cannot survive a redirect through /login).
type pending struct {
	Method     string     `json:"method"` // GET (HTTP-Redirect) or POST (HTTP-POST, SimpleSign)
	RawQuery   string     `json:"raw_query,omitempty"`
	Form       url.Values `json:"form,omitempty"`
	ReceivedAt time.Time  `json:"received_at"`
}

var (
	errTooManyPending = errors.New("idp: too many sign-ins in progress")
	errPendingTooBig  = errors.New("idp: request too large to park")
)

// maxPendingSize bounds one parked request: real AuthnRequests are a few KiB, and the store
// holds up to max of them for anyone who asks.
const maxPendingSize = 16 << 10

// defaultMaxPending is how many sign-ins may be parked at once, across all replicas.
const defaultMaxPending = 10000

// Parking keeps parked requests where every replica finds them: the browser that left for
// /login on one replica may come back to another, or to this one after a restart.
// directory stores are one.
type Parking interface {
	ParkSAMLRequest(ctx context.Context, r directory.ParkedSAMLRequest, now time.Time, limit int) error
	ParkedSAMLRequest(ctx context.Context, keyHash string, now time.Time) (directory.ParkedSAMLRequest, error)
	TakeParkedSAMLRequest(ctx context.Context, keyHash string, now time.Time) (directory.ParkedSAMLRequest, error)
}

// pendingStore parks pending requests under random keys for ttl. The key travels in the
// resume URL; the store sees only its hash.
type pendingStore struct {
	db  Parking
	ttl time.Duration
	max int
}

func newPendingStore(db Parking, ttl time.Duration, max int) *pendingStore {
	return &pendingStore{db: db, ttl: ttl, max: max}
}

func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func (s *pendingStore) put(ctx context.Context, p pending, now time.Time) (string, error) {
	if p.size() > maxPendingSize {
		return "", errPendingTooBig
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	key := base64.RawURLEncoding.EncodeToString(b[:])
	data, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("idp: encode parked request: %w", err)
	}
	// The detour is bounded from the SP's request, not from this parking: a request parked
	// again (ForceAuthn after a stale session) does not get a fresh TTL.
	r := directory.ParkedSAMLRequest{KeyHash: keyHash(key), Request: string(data), ExpiresAt: p.ReceivedAt.Add(s.ttl)}
	err = s.db.ParkSAMLRequest(ctx, r, now, s.max)
	switch {
	case errors.Is(err, directory.ErrParkingFull):
		return "", fmt.Errorf("%w: %w", errTooManyPending, err)
	case err != nil:
		return "", fmt.Errorf("idp: park request: %w", err)
	}
	return key, nil
}

// get returns the pending request without using it up; ok is false when there is none or it
// expired, err is set only when the store could not answer.
func (s *pendingStore) get(ctx context.Context, key string, now time.Time) (p pending, ok bool, err error) {
	r, err := s.db.ParkedSAMLRequest(ctx, keyHash(key), now)
	return decodeParked(r, err)
}

// take returns the pending request and forgets it: a request resumes once, whichever replica
// the browser comes back to.
func (s *pendingStore) take(ctx context.Context, key string, now time.Time) (p pending, ok bool, err error) {
	r, err := s.db.TakeParkedSAMLRequest(ctx, keyHash(key), now)
	return decodeParked(r, err)
}

func decodeParked(r directory.ParkedSAMLRequest, err error) (pending, bool, error) {
	if errors.Is(err, identity.ErrNotFound) {
		return pending{}, false, nil
	}
	if err != nil {
		return pending{}, false, fmt.Errorf("idp: read parked request: %w", err)
	}
	var p pending
	if err := json.Unmarshal([]byte(r.Request), &p); err != nil {
		return pending{}, false, fmt.Errorf("idp: decode parked request: %w", err)
	}
	return p, true, nil
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
