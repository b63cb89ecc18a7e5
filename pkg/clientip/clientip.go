// Package clientip finds the address of the browser behind a request. Behind a reverse proxy
// the peer is the proxy, so every visitor would share one address and one visitor's failed
// sign-ins would throttle everyone; X-Forwarded-For names the visitor, but anyone can send
// that header, so it is believed only from proxies the configuration names.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trust is the set of proxies whose X-Forwarded-For is believed. The zero Trust believes no
// one: the client is the peer.
type Trust struct {
	prefixes []netip.Prefix
}

// Parse reads addresses and CIDR prefixes ("10.0.0.0/8", "127.0.0.1", "::1"); a bad one is an
// error naming its position.
func Parse(field string, list []string) (Trust, error) {
	var t Trust
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			t.prefixes = append(t.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Trust{}, fmt.Errorf("%s[%d]: %q is not an IP address or CIDR prefix", field, i, s)
		}
		t.prefixes = append(t.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return t, nil
}

func (t Trust) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client's address. From a trusted peer it walks X-Forwarded-For from the
// right, past every trusted proxy, to the first address no trusted proxy vouches for beyond:
// entries further left were written by whoever sent the request and prove nothing. A
// malformed entry stops the walk at the last hop that was vouched for.
func (t Trust) Resolve(r *http.Request) string {
	peer := peerAddr(r)
	a, err := netip.ParseAddr(peer)
	if err != nil || len(t.prefixes) == 0 || !t.trusted(a) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := a
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = h.Unmap()
		if !t.trusted(client) {
			break
		}
	}
	return client.String()
}

func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type key struct{}

// Middleware resolves each request's client once and keeps it for From.
func (t Trust) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, t.Resolve(r))))
	})
}

// From is the client address Middleware resolved, or the peer when it did not run.
func From(r *http.Request) string {
	if s, ok := r.Context().Value(key{}).(string); ok {
		return s
	}
	return peerAddr(r)
}
