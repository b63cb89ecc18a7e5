package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// templatePart is literal text or one ${...} reference.
type templatePart struct {
	text string
	ref  string // "" for text
}

// personFieldNames are the person fields a template may use.
var personFieldNames = []string{"cost_center", "country", "display_name", "employee_id", "employment_type",
	"first_name", "job_code", "job_title", "last_name", "location", "username", "work_email"}

// personField is a switch rather than a map of funcs so the person does not escape to the
// heap on every resolve.
func personField(p *identity.Person, name string) string {
	switch name {
	case "employee_id":
		return p.EmployeeID
	case "username":
		return p.Username
	case "work_email":
		return p.WorkEmail
	case "display_name":
		return p.DisplayName()
	case "first_name":
		return firstNonEmpty(p.PreferredName, p.LegalFirstName)
	case "last_name":
		return p.LegalLastName
	case "employment_type":
		return string(p.EmploymentType)
	case "job_title":
		return p.JobTitle
	case "job_code":
		return p.JobCode
	case "location":
		return p.Location
	case "country":
		return p.Country
	case "cost_center":
		return p.CostCenter
	}
	return ""
}

// parseTemplate splits "${person.job_title} (${org.unit})" and checks every reference, so a
// typo fails validation rather than provisioning an empty attribute.
func parseTemplate(s string) ([]templatePart, error) {
	var parts []templatePart
	for s != "" {
		i := strings.Index(s, "${")
		if i < 0 {
			parts = append(parts, templatePart{text: s})
			break
		}
		if i > 0 {
			parts = append(parts, templatePart{text: s[:i]})
		}
		end := strings.Index(s[i:], "}")
		if end < 0 {
			return nil, fmt.Errorf("unclosed ${ in %q", s)
		}
		ref := strings.TrimSpace(s[i+2 : i+end])
		if !validRef(ref) {
			return nil, fmt.Errorf("unknown reference ${%s}: use person.FIELD (%s), person.attributes.KEY, org.unit or org.path",
				ref, strings.Join(personFieldNames, ", "))
		}
		parts = append(parts, templatePart{ref: ref})
		s = s[i+end+1:]
	}
	return parts, nil
}

func validRef(ref string) bool {
	if f, ok := strings.CutPrefix(ref, "person."); ok {
		if k, ok := strings.CutPrefix(f, "attributes."); ok {
			return k != ""
		}
		return slices.Contains(personFieldNames, f)
	}
	return ref == "org.unit" || ref == "org.path"
}

func render(parts []templatePart, s *subject) string {
	if len(parts) == 1 {
		if parts[0].ref == "" {
			return parts[0].text
		}
		return resolveRef(parts[0].ref, s)
	}
	var b strings.Builder
	for _, p := range parts {
		if p.ref == "" {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(resolveRef(p.ref, s))
	}
	return b.String()
}

func resolveRef(ref string, s *subject) string {
	switch ref {
	case "org.path":
		if len(s.chain) > 0 {
			return s.chain[len(s.chain)-1].Path
		}
		return ""
	case "org.unit":
		if len(s.chain) > 0 {
			p := s.chain[len(s.chain)-1].Path
			return p[strings.LastIndex(p, "/")+1:]
		}
		return ""
	}
	f := strings.TrimPrefix(ref, "person.")
	if k, ok := strings.CutPrefix(f, "attributes."); ok {
		return s.p.Attributes[k]
	}
	return personField(&s.p, f)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
