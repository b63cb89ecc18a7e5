package clientip

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	proxies, err := Parse("http.trusted_proxies", []string{"10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		trust Trust
		peer  string
		xff   []string
		want  string
	}{
		{"no proxy configured: the peer, whatever the header says", Trust{}, "10.1.2.3:5555", []string{"203.0.113.9"}, "10.1.2.3"},
		{"an untrusted peer cannot name someone else", proxies, "198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"one trusted proxy", proxies, "127.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", proxies, "10.0.0.2:4000", []string{"203.0.113.9, 10.0.0.7", "10.9.9.9"}, "203.0.113.9"},
		{"a forged entry left of the client is ignored", proxies, "10.0.0.2:4000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"a trusted peer with no header", proxies, "127.0.0.1:4000", nil, "127.0.0.1"},
		{"a malformed entry stops the walk at the last vouched hop", proxies, "10.0.0.2:4000", []string{"203.0.113.9, bogus, 10.0.0.7"}, "10.0.0.7"},
		{"IPv6 through an IPv6 proxy", proxies, "[::1]:4000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped addresses count as IPv4", proxies, "[::ffff:127.0.0.1]:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"every hop trusted: the leftmost", proxies, "10.0.0.2:4000", []string{"10.3.3.3, 10.0.0.7"}, "10.3.3.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.trust.Resolve(r); got != tc.want {
				t.Errorf("Resolve = %s; want %s", got, tc.want)
			}
			var seen string
			tc.trust.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = From(r) })).ServeHTTP(httptest.NewRecorder(), r)
			if seen != tc.want {
				t.Errorf("From behind Middleware = %s; want %s", seen, tc.want)
			}
		})
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:1"
	if got := From(r); got != "192.0.2.1" {
		t.Errorf("From without Middleware = %s; want the peer", got)
	}
}

func TestParseNamesTheBadEntry(t *testing.T) {
	_, err := Parse("http.trusted_proxies", []string{"10.0.0.0/8", "proxy.internal"})
	if err == nil || !strings.Contains(err.Error(), `http.trusted_proxies[1]: "proxy.internal"`) {
		t.Fatalf("Parse = %v", err)
	}
}
