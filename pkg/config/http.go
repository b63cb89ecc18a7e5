package config

import "github.com/tenure-id/tenure/pkg/clientip"

// HTTP configures how `tenure serve` sees its visitors.
type HTTP struct {
	// TrustedProxies are the reverse proxies (addresses or CIDR prefixes) in front of Tenure.
	// Only a request from one of them may name the visitor in X-Forwarded-For; without them
	// the visitor is the peer, and behind a proxy every visitor would look the same to the
	// sign-in throttle.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Trust is the parsed TrustedProxies.
func (h HTTP) Trust() (clientip.Trust, error) {
	return clientip.Parse("http.trusted_proxies", h.TrustedProxies)
}
