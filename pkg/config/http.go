package config

import "github.com/tenure-id/tenure/pkg/clientip"

// HTTP configures how `tenure serve` sees its visitors.
type HTTP struct {
	// TrustedProxies are the reverse proxies (addresses or CIDR prefixes) in front of Tenure.
	// Only a request from one of them may name the visitor in X-Forwarded-For; without them
	// the visitor is the peer, and behind a proxy every visitor would look the same to the
	// sign-in throttle.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TokenRate is how many requests per second each admin API or SCIM token may make on one
	// replica, in bursts of twice that: DefaultTokenRate when 0, no limit when negative.
	TokenRate float64 `yaml:"token_rate"`
}

// DefaultTokenRate is TokenRate when unset: well above what an HRIS push or a dashboard
// needs, well below what would crowd out sign-ins.
const DefaultTokenRate = 20

// TokenRatePerSecond is the configured rate, 0 for no limit.
func (h HTTP) TokenRatePerSecond() float64 {
	switch {
	case h.TokenRate < 0:
		return 0
	case h.TokenRate == 0:
		return DefaultTokenRate
	}
	return h.TokenRate
}

// Trust is the parsed TrustedProxies.
func (h HTTP) Trust() (clientip.Trust, error) {
	return clientip.Parse("http.trusted_proxies", h.TrustedProxies)
}
