package idp

// Outcomes of a sign-in at a service provider an Observer is told about.
const (
	SAMLIssued  = "issued"  // a signed response went to the service provider
	SAMLRefused = "refused" // the person may not have one (inactive, no second factor, no grant)
)

// Observer hears what the IdP answered each registered service provider, for metrics. The
// entity IDs it is given are those of registered service providers only. It must be safe for
// concurrent use.
type Observer interface {
	SAMLResponse(serviceProvider, outcome string)
}

type nopObserver struct{}

func (nopObserver) SAMLResponse(string, string) {}
