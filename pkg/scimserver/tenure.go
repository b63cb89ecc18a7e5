package scimserver

import (
	"strings"
	"time"

	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// TenureSchema is Tenure's User extension: what SCIM core lacks for a joiner, the start date
// (and a contract's end date), as Okta's and Entra ID's custom extensions carry it.
const TenureSchema = "urn:ietf:params:scim:schemas:extension:tenure:2.0:User"

// tenureUserSchema is the extension as /Schemas serves it. The dates are strings, not SCIM
// dateTimes: HR systems send plain dates, and the library would refuse those with an error
// that names no attribute.
func tenureUserSchema() schema.Schema {
	return schema.Schema{
		ID:          TenureSchema,
		Name:        optional.NewString("TenureUser"),
		Description: optional.NewString("Tenure's extension of the User: employment dates"),
		Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name: "startDate",
				Description: optional.NewString("First working day, YYYY-MM-DD (an RFC 3339 time counts by its date). " +
					"Ahead, the user is a pre-hire, inactive until that day; it can move while they are one."),
			})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name: "endDate",
				Description: optional.NewString("Last working day of a contractor, vendor or intern, YYYY-MM-DD: " +
					"their contract ends then."),
			})),
		},
	}
}

// parseDate reads a date as HR writes it, or an RFC 3339 time by the date written in it (not
// its UTC date, which may be the day before). Dates are held as midnight UTC, as HR's are.
func parseDate(attr string, val any) (*time.Time, error) {
	s, ok := val.(string)
	if !ok {
		return nil, invalidValue("%s: a date (YYYY-MM-DD) is required, not %v", attr, val)
	}
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return nil, invalidValue("%s: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", attr, s)
		}
	}
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &day, nil
}

func formatDate(t *time.Time) string { return t.UTC().Format(time.DateOnly) }

// sameDate reports whether two optional dates are the same day, or both absent.
func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// ahead reports whether day is after today by the provider's clock. Days are compared in UTC,
// where the lifecycle starts people in its own zone: the two differ only for a few hours
// around midnight, and only in telling someone started that a date ahead is refused.
func (p *Provider) ahead(day *time.Time) bool {
	if day == nil {
		return false
	}
	y, m, d := p.cfg.Clock().UTC().Date()
	return day.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}
