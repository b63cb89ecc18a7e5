package policy

import (
	"github.com/tenure-id/tenure/pkg/identity"
)

// Template is a compiled attribute template ("${person.job_title} (${org.unit})") for account
// attributes configured outside the policy files, such as an app's provisioning attributes.
// It accepts exactly what a rule's grant attributes accept.
type Template struct {
	parts []templatePart
}

// ParseTemplate compiles s, rejecting unknown references so a typo fails when the
// configuration loads rather than provisioning an empty attribute.
func ParseTemplate(s string) (Template, error) {
	parts, err := parseTemplate(s)
	if err != nil {
		return Template{}, err
	}
	return Template{parts: parts}, nil
}

// Render fills the template from the person and, for ${org.*}, the view's org tree.
func (t Template) Render(p identity.Person, v View) string {
	if len(t.parts) == 0 {
		return ""
	}
	s := subject{p: p, view: v}
	for _, part := range t.parts {
		if part.ref == "org.unit" || part.ref == "org.path" {
			s.chain = v.OrgChain(p.OrgUnitID)
			break
		}
	}
	return render(t.parts, &s)
}
