package idp

import (
	"errors"
	"fmt"

	"github.com/crewjam/saml"
)

// ErrNoSecondFactor refuses an assertion for a session not marked multi-factor.
var ErrNoSecondFactor = errors.New("idp: no assertion without a second factor")

const attrNameFormatBasic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"

// MakeAssertion implements saml.AssertionMaker: crewjam's subject, conditions and confirmation,
// with our NameID, our lifetime and only the attributes the service provider is registered to
// receive.
func (p *IdP) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if session == nil || session.AuthnContextClassRef != MFAContextClass {
		return ErrNoSecondFactor
	}
	sp, err := p.serviceProvider(req.HTTPRequest, req.ServiceProviderMetadata.EntityID)
	if err != nil {
		return fmt.Errorf("service provider %s: %w", req.ServiceProviderMetadata.EntityID, err)
	}
	// Only what identifies the subject goes to the default maker: it would otherwise add
	// attributes of its own choosing (uid, mail, eduPerson...).
	bare := &saml.Session{ID: session.ID, CreateTime: session.CreateTime, Index: session.Index,
		NameID: session.NameID, NameIDFormat: session.NameIDFormat, AuthnContextClassRef: session.AuthnContextClassRef}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, bare); err != nil {
		return err
	}
	a := req.Assertion
	a.AttributeStatements = nil
	if attrs := releasedAttributes(sp.Attributes, session); len(attrs) > 0 {
		a.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	// The lifetime is ours, not crewjam's package-wide default.
	if a.Conditions != nil {
		a.Conditions.NotOnOrAfter = req.Now.Add(p.cfg.AssertionLifetime)
		for i := range a.Subject.SubjectConfirmations {
			if d := a.Subject.SubjectConfirmations[i].SubjectConfirmationData; d != nil {
				d.NotOnOrAfter = req.Now.Add(p.cfg.AssertionLifetime)
				if d.NotOnOrAfter.After(a.Conditions.NotOnOrAfter) {
					d.NotOnOrAfter = a.Conditions.NotOnOrAfter
				}
			}
		}
	}
	return nil
}

// releasedAttributes builds the attributes named in release, in that order; empty values are
// left out rather than sent blank.
func releasedAttributes(release []string, s *saml.Session) []saml.Attribute {
	var out []saml.Attribute
	one := func(name, v string) {
		if v != "" {
			out = append(out, saml.Attribute{Name: name, NameFormat: attrNameFormatBasic,
				Values: []saml.AttributeValue{{Type: "xs:string", Value: v}}})
		}
	}
	for _, name := range release {
		switch name {
		case "email":
			one(name, s.UserEmail)
		case "givenName":
			one(name, s.UserGivenName)
		case "sn":
			one(name, s.UserSurname)
		case "displayName":
			one(name, s.UserCommonName)
		case "groups":
			if len(s.Groups) == 0 {
				continue
			}
			vals := make([]saml.AttributeValue, len(s.Groups))
			for i, g := range s.Groups {
				vals[i] = saml.AttributeValue{Type: "xs:string", Value: g}
			}
			out = append(out, saml.Attribute{Name: name, NameFormat: attrNameFormatBasic, Values: vals})
		}
	}
	return out
}
